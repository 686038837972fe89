// The process's fd table: stdio (0–2), the scratch dir preopen and what it opens, granted
// sockets. Each entry belongs to one FdGroup, which policy rows name.

import { ERRNO, fail } from './errno.js'
import type { FdGroup } from './policy.js'
import type { DirNode, FileNode, ScratchFs } from './scratch/fs.js'
import { Waiters, type Binder, type Conn, type Unwatch } from './sockets.js'

/** What poll_oneoff keeps armed on an fd between calls (calls/poll-watch.ts); released when the fd closes. */
export interface ArmedWatch { release(): void }

export type FdEntry = { watch?: ArmedWatch } & (
  | { readonly kind: 'stdin' | 'stdout' | 'stderr' }
  | { readonly kind: 'dir'; readonly node: DirNode; readonly preopen: string | null; readonly fs: ScratchFs }
  | { readonly kind: 'file'; readonly node: FileNode; pos: number; flags: number; readonly read: boolean; readonly write: boolean; readonly fs: ScratchFs }
  | { readonly kind: 'listener'; readonly binder: Binder; flags: number }
  | { readonly kind: 'conn'; readonly conn: Conn; flags: number }
)

export function groupOf(e: FdEntry): FdGroup {
  switch (e.kind) {
    case 'stdin': case 'stdout': case 'stderr': return 'stdio'
    case 'dir': case 'file': return 'scratch'
    default: return 'socket'
  }
}

export class FdTable {
  readonly #fds = new Map<number, FdEntry>()
  connections = 0
  /** Bumped by every change of which entry a number names: what was parsed against the table before is stale. */
  version = 0
  readonly #slotFreed = new Waiters()
  constructor(readonly maxFds: number) {}

  /** True when one more fd may be opened. */
  hasRoom(): boolean { return this.#fds.size < this.maxFds }

  get(fd: number): FdEntry | undefined { return this.#fds.get(fd >>> 0) }

  /** Installs `e` at the lowest free number (POSIX), EMFILE past the limit. */
  add(e: FdEntry): number {
    if (this.#fds.size >= this.maxFds) fail(ERRNO.EMFILE)
    let fd = 0
    while (this.#fds.has(fd)) fd++
    this.#fds.set(fd, e)
    this.version++
    this.#opened(e)
    return fd
  }

  /** Removes `fd`; returns its entry for the caller to release. */
  remove(fd: number): FdEntry | undefined {
    const e = this.#fds.get(fd >>> 0)
    if (e === undefined) return undefined
    this.#fds.delete(fd >>> 0)
    this.version++
    this.#closed(e)
    return e
  }

  /** fd_renumber: `to` becomes `from`'s entry (closing what `to` held), `from` is freed. */
  renumber(from: number, to: number): void {
    const e = this.#fds.get(from >>> 0)
    if (e === undefined || !this.#fds.has(to >>> 0)) fail(ERRNO.EBADF)
    if (from >>> 0 === to >>> 0) return
    this.remove(to)
    this.#fds.delete(from >>> 0)
    this.#fds.set(to >>> 0, e)
    this.version++
  }

  /** Resolves when a connection fd is closed (an accept waiting at the connection cap may go on). */
  connectionClosed(): Promise<void> { return this.#slotFreed.wait() }
  watchConnectionClosed(wake: () => void): Unwatch { return this.#slotFreed.add(wake) }

  entries(): IterableIterator<[number, FdEntry]> { return this.#fds.entries() }

  #opened(e: FdEntry): void {
    if (e.kind === 'file' || e.kind === 'dir') e.node.open++
    if (e.kind === 'conn') this.connections++
  }
  #closed(e: FdEntry): void {
    e.watch?.release()
    if (e.kind === 'file' || e.kind === 'dir') { e.node.open--; e.fs.release(e.node) }
    if (e.kind === 'conn') {
      this.connections--
      e.conn.close()
      this.#slotFreed.wake()
    }
    if (e.kind === 'listener') e.binder.close()
  }

  /** Closes everything (the process ended). */
  clear(): void {
    for (const fd of [...this.#fds.keys()]) this.remove(fd)
  }
}
