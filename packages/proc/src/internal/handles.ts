// A process's mailbox capabilities: its own table of handles, like file descriptors. A
// handle is an index into this table, meaningless in any other process; the entry names
// a process by pid only inside the scheduler. A guest can reach exactly the mailboxes its
// table holds: a pid it makes up names nothing.

import type { Pid } from '../status.js'

/** The `ww_proc` answers that are not a length or a handle (negative, named, stable). */
export const PROC_ERRNO = {
  /** The process the handle names has ended (or never will take the message). */
  GONE: -1,
  /** The receiver's mailbox is full and the sender cannot suspend. */
  FULL: -2,
  /** Not a handle this process holds: no capability, no message. */
  NOT_CAPABLE: -3,
  /** The handle table is full (MAX_HANDLES): drop a handle first. */
  TABLE_FULL: -4,
} as const

/** Most handles one process holds at once. */
export const MAX_HANDLES = 4096

export class HandleTable {
  /** handle → pid; 0 marks a free slot (no process has pid 0). */
  readonly #slots: Pid[] = []
  /** pid → handle, so the same mailbox is one handle however often it is granted. */
  readonly #index = new Map<Pid, number>()
  /** Freed handles, lowest reused first (as POSIX does with fds). */
  #free: number[] = []

  get size(): number { return this.#index.size }

  /** The pid behind `h`, or undefined if `h` is not a handle held here. */
  target(h: number): Pid | undefined {
    const pid = this.#slots[h]
    return pid === undefined || pid === 0 ? undefined : pid
  }

  /** The handle already held for `pid`, if any. */
  find(pid: Pid): number | undefined { return this.#index.get(pid) }

  /** A handle to `pid`'s mailbox (the one held already, else a new one); TABLE_FULL if none is left. */
  grant(pid: Pid): number {
    const have = this.#index.get(pid)
    if (have !== undefined) return have
    let h: number
    if (this.#free.length > 0) {
      this.#free.sort((a, b) => b - a)
      h = this.#free.pop()!
    } else {
      if (this.#slots.length >= MAX_HANDLES) return PROC_ERRNO.TABLE_FULL
      h = this.#slots.length
      this.#slots.push(0)
    }
    this.#slots[h] = pid
    this.#index.set(pid, h)
    return h
  }

  /** Gives up `h`: true if it was held. The number may name another mailbox later. */
  drop(h: number): boolean {
    const pid = this.target(h)
    if (pid === undefined) return false
    this.#slots[h] = 0
    this.#index.delete(pid)
    this.#free.push(h)
    return true
  }

  /** Forgets everything (the process ended). */
  clear(): void {
    this.#slots.length = 0
    this.#index.clear()
    this.#free = []
  }
}
