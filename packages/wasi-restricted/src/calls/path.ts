// path_*: only inside a granted scratch dir, through ScratchFs.resolve, which no absolute
// path, `..` or symlink escapes. Without the grant the rows deny (ENOTCAPABLE) before
// any of this runs.

import { ERRNO, fail } from '../errno.js'
import type { Preview1Function } from '../functions.js'
import type { DirNode, Node, ScratchFs } from '../scratch/fs.js'
import { entry, type Ctx, type Impl } from './context.js'
import { RIGHTS, nodeStat, setTimes, writeFilestat } from './stat.js'

type PathFunction = Extract<Preview1Function, `path_${string}`>

const OFLAGS = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const
const FOLLOW = 1

function contains(dir: DirNode, target: DirNode): boolean {
  if (dir === target) return true
  for (const n of dir.entries.values()) if (n.kind === 'dir' && contains(n, target)) return true
  return false
}

export function pathCalls(ctx: Ctx): Record<PathFunction, Impl> {
  const { mem } = ctx

  function dir(fn: Preview1Function, fd: number): { fs: ScratchFs; node: DirNode } {
    const e = entry(ctx, fn, fd)
    if (e.kind !== 'dir') fail(ERRNO.ENOTDIR)
    return e
  }
  function lookupFlags(flags: number): boolean {
    if ((flags >>> 0) & ~FOLLOW) fail(ERRNO.EINVAL)
    return (flags & FOLLOW) !== 0
  }
  /** Links `node` as `name` in `parent` (which must still exist). */
  function link(fs: ScratchFs, parent: DirNode, name: string, node: Node): void {
    if (parent.removed) { fs.release(node); fail(ERRNO.ENOENT) }
    node.nlink++
    parent.entries.set(name, node)
  }
  function unlink(fs: ScratchFs, parent: DirNode, name: string, node: Node): void {
    parent.entries.delete(name)
    node.nlink--
    if (node.kind === 'dir') node.removed = true
    fs.release(node)
  }

  return {
    path_create_directory(fd: number, p: number, l: number): number {
      const d = dir('path_create_directory', fd)
      const r = d.fs.resolve(d.node, mem.string(p, l), false)
      if (r.node !== undefined || r.parent === null) return ERRNO.EEXIST
      link(d.fs, r.parent, r.name, d.fs.newDir())
      return ERRNO.SUCCESS
    },
    path_filestat_get(fd: number, flags: number, p: number, l: number, buf: number): number {
      const d = dir('path_filestat_get', fd)
      const r = d.fs.resolve(d.node, mem.string(p, l), lookupFlags(flags))
      if (r.node === undefined) return ERRNO.ENOENT
      writeFilestat(mem, buf, nodeStat(r.node))
      return ERRNO.SUCCESS
    },
    path_filestat_set_times(fd: number, flags: number, p: number, l: number, atim: bigint, mtim: bigint, fst: number): number {
      const d = dir('path_filestat_set_times', fd)
      const r = d.fs.resolve(d.node, mem.string(p, l), lookupFlags(flags))
      if (r.node === undefined) return ERRNO.ENOENT
      return setTimes(r.node, atim, mtim, fst, ctx.clock.now(0)!) ? ERRNO.SUCCESS : ERRNO.EINVAL
    },
    path_link(oldFd: number, oldFlags: number, op: number, ol: number, newFd: number, np: number, nl: number): number {
      const od = dir('path_link', oldFd)
      const nd = dir('path_link', newFd)
      const from = od.fs.resolve(od.node, mem.string(op, ol), lookupFlags(oldFlags))
      const to = nd.fs.resolve(nd.node, mem.string(np, nl), false)
      if (from.node === undefined) return ERRNO.ENOENT
      if (from.node.kind === 'dir') return ERRNO.EPERM
      if (to.node !== undefined || to.parent === null) return ERRNO.EEXIST
      link(nd.fs, to.parent, to.name, from.node)
      return ERRNO.SUCCESS
    },
    path_open(fd: number, dirflags: number, p: number, l: number, oflags: number, base: bigint, _inh: bigint, fdflags: number, fdPtr: number): number {
      const d = dir('path_open', fd)
      if ((oflags >>> 0) & ~15 || (fdflags >>> 0) & ~31) return ERRNO.EINVAL
      const path = mem.string(p, l)
      mem.check(fdPtr, 4)
      if (!ctx.fds.hasRoom()) return ERRNO.EMFILE
      const r = d.fs.resolve(d.node, path, lookupFlags(dirflags))
      let node = r.node
      if (node === undefined) {
        if (!(oflags & OFLAGS.CREAT)) return ERRNO.ENOENT
        if (oflags & OFLAGS.DIRECTORY) return ERRNO.EINVAL
        if (r.parent === null) return ERRNO.EISDIR
        node = d.fs.newFile()
        link(d.fs, r.parent, r.name, node)
      } else if ((oflags & OFLAGS.CREAT) && (oflags & OFLAGS.EXCL)) return ERRNO.EEXIST
      if (node.kind === 'symlink') return ERRNO.ELOOP // a final symlink not followed
      const write = (base & RIGHTS.FD_WRITE) !== 0n
      if (node.kind === 'dir') {
        if (write || (oflags & OFLAGS.TRUNC)) return ERRNO.EISDIR
        mem.setU32(fdPtr, ctx.fds.add({ kind: 'dir', node, preopen: null, fs: d.fs }))
        return ERRNO.SUCCESS
      }
      if (oflags & OFLAGS.DIRECTORY) return ERRNO.ENOTDIR
      if ((oflags & OFLAGS.TRUNC) && node.size > 0) d.fs.resize(node, 0)
      const read = (base & RIGHTS.FD_READ) !== 0n
      mem.setU32(fdPtr, ctx.fds.add({ kind: 'file', node, pos: 0, flags: fdflags & 0xffff, read, write, fs: d.fs }))
      return ERRNO.SUCCESS
    },
    path_readlink(fd: number, p: number, l: number, buf: number, bufLen: number, usedPtr: number): number {
      const d = dir('path_readlink', fd)
      const r = d.fs.resolve(d.node, mem.string(p, l), false)
      if (r.node === undefined) return ERRNO.ENOENT
      if (r.node.kind !== 'symlink') return ERRNO.EINVAL
      const t = Buffer.from(r.node.target)
      const n = Math.min(t.length, bufLen >>> 0)
      const out = mem.view(buf, n)
      mem.check(usedPtr, 4)
      out.set(t.subarray(0, n))
      mem.setU32(usedPtr, n)
      return ERRNO.SUCCESS
    },
    path_remove_directory(fd: number, p: number, l: number): number {
      const d = dir('path_remove_directory', fd)
      const r = d.fs.resolve(d.node, mem.string(p, l), false)
      if (r.parent === null) return ERRNO.EINVAL // `.` or `..`
      if (r.node === undefined) return ERRNO.ENOENT
      if (r.node.kind !== 'dir') return ERRNO.ENOTDIR
      if (r.node.entries.size > 0) return ERRNO.ENOTEMPTY
      unlink(d.fs, r.parent, r.name, r.node)
      return ERRNO.SUCCESS
    },
    path_rename(fd: number, op: number, ol: number, newFd: number, np: number, nl: number): number {
      const od = dir('path_rename', fd)
      const nd = dir('path_rename', newFd)
      const from = od.fs.resolve(od.node, mem.string(op, ol), false)
      const to = nd.fs.resolve(nd.node, mem.string(np, nl), false)
      if (from.node === undefined) return ERRNO.ENOENT
      if (from.parent === null || to.parent === null) return ERRNO.EINVAL
      if (from.node === to.node) return ERRNO.SUCCESS
      if (from.node.kind === 'dir' && contains(from.node, to.parent)) return ERRNO.EINVAL
      if (to.parent.removed) return ERRNO.ENOENT
      if (to.node !== undefined) {
        if (from.node.kind === 'dir' && to.node.kind !== 'dir') return ERRNO.ENOTDIR
        if (from.node.kind !== 'dir' && to.node.kind === 'dir') return ERRNO.EISDIR
        if (to.node.kind === 'dir' && to.node.entries.size > 0) return ERRNO.ENOTEMPTY
        unlink(nd.fs, to.parent, to.name, to.node)
      }
      from.parent.entries.delete(from.name)
      to.parent.entries.set(to.name, from.node)
      return ERRNO.SUCCESS
    },
    path_symlink(tp: number, tl: number, fd: number, np: number, nl: number): number {
      const target = mem.string(tp, tl)
      const d = dir('path_symlink', fd)
      if (target.length === 0) return ERRNO.ENOENT
      if (target.includes('\0')) return ERRNO.EINVAL
      const r = d.fs.resolve(d.node, mem.string(np, nl), false)
      if (r.node !== undefined || r.parent === null) return ERRNO.EEXIST
      // Stored as given: resolution refuses targets that leave the dir (absolute, `..` past it).
      link(d.fs, r.parent, r.name, d.fs.newLink(target))
      return ERRNO.SUCCESS
    },
    path_unlink_file(fd: number, p: number, l: number): number {
      const d = dir('path_unlink_file', fd)
      const r = d.fs.resolve(d.node, mem.string(p, l), false)
      if (r.parent === null) return ERRNO.EISDIR
      if (r.node === undefined) return ERRNO.ENOENT
      if (r.node.kind === 'dir') return ERRNO.EISDIR
      unlink(d.fs, r.parent, r.name, r.node)
      return ERRNO.SUCCESS
    },
  }
}
