// What a guest tried and was refused: counts per function, readable by the host (metrics,
// `ww ps`). A denial is any call answered by policy rather than by acting: a denied row,
// an fd the row may not touch, an escape from the scratch dir, a pointer outside memory,
// a wait nobody can serve. EBADF for an fd that does not exist is not one: libc probes
// fds 3, 4, … for preopens at start-up, and every process would show it.

import type { Preview1Function } from './functions.js'
import { ERRNO } from './errno.js'

export interface AuditSnapshot {
  /** Total denials. */
  readonly denials: number
  /** Denials per function (only functions with at least one). */
  readonly byFunction: Readonly<Partial<Record<Preview1Function, number>>>
  /** Denials per errno name, e.g. { ENOTCAPABLE: 3, EFAULT: 1 }. */
  readonly byErrno: Readonly<Record<string, number>>
  /** Denials per function and errno together, e.g. { 'path_open ENOTCAPABLE': 2 }: which call got which answer. */
  readonly byCall: Readonly<Record<string, number>>
  /** Bytes of stdout/stderr dropped because a sink was full and the policy said drop. */
  readonly droppedBytes: number
}

export const DENIAL_ERRNOS: ReadonlySet<number> = new Set<number>([
  ERRNO.ENOTCAPABLE, ERRNO.ENOSYS, ERRNO.EPERM, ERRNO.EACCES, ERRNO.EFAULT, ERRNO.ENOTSUP,
])

export class Audit {
  #byFunction = new Map<Preview1Function, number>()
  #byErrno = new Map<number, number>()
  #byCall = new Map<string, number>()
  #total = 0
  droppedBytes = 0

  deny(fn: Preview1Function, errno: number): void {
    this.#total++
    this.#byFunction.set(fn, (this.#byFunction.get(fn) ?? 0) + 1)
    this.#byErrno.set(errno, (this.#byErrno.get(errno) ?? 0) + 1)
    const call = `${fn} ${errno}`
    this.#byCall.set(call, (this.#byCall.get(call) ?? 0) + 1)
  }

  snapshot(names: (errno: number) => string): AuditSnapshot {
    return {
      denials: this.#total,
      byFunction: Object.fromEntries(this.#byFunction),
      byErrno: Object.fromEntries([...this.#byErrno].map(([e, n]) => [names(e), n])),
      byCall: Object.fromEntries([...this.#byCall].map(([call, n]) => {
        const [fn, errno] = call.split(' ') as [string, string]
        return [`${fn} ${names(Number(errno))}`, n]
      })),
      droppedBytes: this.droppedBytes,
    }
  }
}
