// The volatile scratch dir: an in-memory tree under a byte and inode quota, private to one
// process and dropped with it. Never the host's disk: there is no path from here to node:fs.
//
// Quota: every live node costs one inode; file bytes and symlink targets cost their
// length. A node is freed only when it has no name left *and* no open fd, so unlinking an
// open file cannot be used to hold more than the quota.

import { ERRNO, fail } from '../errno.js'
import type { ScratchGrant } from '../policy.js'
import type { SeedPlan } from './seed.js'

interface Base { readonly ino: number; nlink: number; open: number; atim: bigint; mtim: bigint; ctim: bigint }
export interface FileNode extends Base { readonly kind: 'file'; data: Uint8Array; size: number }
export interface DirNode extends Base { readonly kind: 'dir'; readonly entries: Map<string, Node>; removed: boolean }
export interface LinkNode extends Base { readonly kind: 'symlink'; readonly target: string }
export type Node = FileNode | DirNode | LinkNode

/** Where a path leads: the directory holding the last component, its name, and the node (if any). */
export interface Resolved {
  /** null when the path ends in `.` or `..` (it names a directory reached, not an entry). */
  readonly parent: DirNode | null
  readonly name: string
  readonly node: Node | undefined
}

const MAX_PATH = 4096
const MAX_NAME = 255
const MAX_SYMLINKS = 32

export class ScratchFs {
  readonly root: DirNode
  usedBytes = 0
  usedInodes = 0
  #nextIno = 1n
  #dropped = false

  constructor(readonly grant: ScratchGrant, readonly now: () => bigint) {
    this.root = this.newDir()
    this.root.nlink = 1
  }

  #base(): Base {
    if (this.#dropped) fail(ERRNO.EBADF)
    if (this.usedInodes + 1 > this.grant.maxInodes) fail(ERRNO.ENOSPC)
    this.usedInodes++
    const t = this.now()
    return { ino: Number(this.#nextIno++), nlink: 0, open: 0, atim: t, mtim: t, ctim: t }
  }

  newDir(): DirNode { return { ...this.#base(), kind: 'dir', entries: new Map(), removed: false } }
  newFile(): FileNode { return { ...this.#base(), kind: 'file', data: new Uint8Array(0), size: 0 } }
  newLink(target: string): LinkNode {
    const len = Buffer.byteLength(target)
    if (this.usedBytes + len > this.grant.maxBytes) fail(ERRNO.ENOSPC)
    const n: LinkNode = { ...this.#base(), kind: 'symlink', target }
    this.usedBytes += len
    return n
  }

  /** Drops a node that has lost its last name and its last open fd. */
  release(n: Node): void {
    if (n.nlink > 0 || n.open > 0 || this.#dropped) return
    this.usedInodes--
    if (n.kind === 'file') { this.usedBytes -= n.size; n.data = new Uint8Array(0); n.size = 0 }
    if (n.kind === 'symlink') this.usedBytes -= Buffer.byteLength(n.target)
  }

  /** Sets a file's size (zero-filling growth); ENOSPC past the quota, EFBIG past 2^32. */
  resize(f: FileNode, size: number): void {
    if (size > 0xffffffff) fail(ERRNO.EFBIG)
    const delta = size - f.size
    if (delta > 0 && this.usedBytes + delta > this.grant.maxBytes) fail(ERRNO.ENOSPC)
    if (size > f.data.length) {
      // Grow geometrically but never past what the quota could still hold.
      const room = f.size + (this.grant.maxBytes - this.usedBytes)
      const cap = Math.max(size, Math.min(f.data.length * 2, room))
      const d = new Uint8Array(cap)
      d.set(f.data.subarray(0, f.size))
      f.data = d
    } else if (size < f.size) f.data.fill(0, size, f.size)
    this.usedBytes += delta
    f.size = size
    f.mtim = f.ctim = this.now()
  }

  /** Writes `src` at `pos`; partial when the quota runs out, ENOSPC when nothing fits. */
  write(f: FileNode, pos: number, src: Uint8Array): number {
    if (src.length === 0) return 0
    if (pos > 0xffffffff) fail(ERRNO.EFBIG)
    const end = pos + src.length
    let n = src.length
    if (end > f.size) {
      const room = this.grant.maxBytes - this.usedBytes
      const fit = Math.min(end, f.size + room, 0xffffffff)
      if (fit <= pos) fail(f.size + room >= 0xffffffff ? ERRNO.EFBIG : ERRNO.ENOSPC)
      n = fit - pos
      this.resize(f, fit)
    }
    f.data.set(src.subarray(0, n), pos)
    f.mtim = this.now()
    return n
  }

  read(f: FileNode, pos: number, dst: Uint8Array): number {
    if (pos >= f.size) return 0
    const n = Math.min(dst.length, f.size - pos)
    dst.set(f.data.subarray(pos, pos + n))
    return n
  }

  /**
   * Resolves `path` relative to `base`. Absolute paths, and `..` or symlinks leading above
   * `base`, are ENOTCAPABLE: nothing outside the directory the guest named is reachable.
   */
  resolve(base: DirNode, path: string, followFinal: boolean): Resolved {
    if (path.length === 0) fail(ERRNO.ENOENT)
    if (path.length > MAX_PATH) fail(ERRNO.ENAMETOOLONG)
    if (path.includes('\0')) fail(ERRNO.EINVAL)
    if (path.startsWith('/')) fail(ERRNO.ENOTCAPABLE)
    const stack: DirNode[] = [base]
    let comps = path.split('/')
    // A trailing slash asks for a directory: follow a final symlink, as POSIX does.
    const mustBeDir = path.endsWith('/')
    comps = comps.filter((c) => c !== '')
    let links = 0
    let last: Resolved = { parent: null, name: '.', node: base }
    while (comps.length > 0) {
      const c = comps.shift()!
      const dir = stack[stack.length - 1]!
      if (c === '.' || c === '..') {
        if (c === '..') {
          if (stack.length === 1) fail(ERRNO.ENOTCAPABLE)
          stack.pop()
        }
        last = { parent: null, name: c, node: stack[stack.length - 1]! }
        continue
      }
      if (Buffer.byteLength(c) > MAX_NAME) fail(ERRNO.ENAMETOOLONG)
      const node = dir.entries.get(c)
      const final = comps.length === 0
      if (node?.kind === 'symlink' && (!final || followFinal || mustBeDir)) {
        if (++links > MAX_SYMLINKS) fail(ERRNO.ELOOP)
        if (node.target.startsWith('/')) fail(ERRNO.ENOTCAPABLE)
        comps = [...node.target.split('/').filter((x) => x !== ''), ...comps]
        last = { parent: null, name: '.', node: dir }
        continue
      }
      if (final) { last = { parent: dir, name: c, node }; break }
      if (node === undefined) fail(ERRNO.ENOENT)
      if (node.kind !== 'dir') fail(ERRNO.ENOTDIR)
      stack.push(node)
      last = { parent: null, name: '.', node }
    }
    if (mustBeDir && last.node !== undefined && last.node.kind !== 'dir') fail(ERRNO.ENOTDIR)
    return last
  }

  /**
   * Makes a seed's nodes (planned and checked against the quota by seed.ts) before the
   * guest starts. File bytes are copied: the guest may write them, and one seed may fill
   * many processes' dirs.
   */
  seed(plan: SeedPlan): void {
    const made: Node[] = []
    for (const p of plan.nodes) {
      const parent = p.parent < 0 ? this.root : made[p.parent] as DirNode
      let node: Node
      if ('bytes' in p.entry) {
        const f = this.newFile()
        f.data = p.entry.bytes.slice()
        f.size = f.data.length
        this.usedBytes += f.size
        node = f
      } else if ('symlink' in p.entry) node = this.newLink(p.entry.symlink)
      else node = this.newDir()
      node.nlink++
      parent.entries.set(p.name, node)
      made.push(node)
    }
  }

  /** Frees everything: the process ended. Later calls fail EBADF. */
  drop(): void {
    this.root.entries.clear()
    this.usedBytes = 0
    this.usedInodes = 0
    this.#dropped = true
  }
}
