// What every syscall area gets: the policy, checked memory, the fd table, the capabilities
// the spawner handed in, and the means to wait.

import { ERRNO, fail } from '../errno.js'
import type { Audit } from '../audit.js'
import type { FdEntry, FdTable } from '../fds.js'
import { groupOf } from '../fds.js'
import type { Preview1Function } from '../functions.js'
import type { OutputSink, InputStream } from '../io.js'
import type { GuestMemory } from '../memory.js'
import type { FdGroup, Policy } from '../policy.js'
import type { ScratchFs } from '../scratch/fs.js'
import type { Clock } from './clock-source.js'
import type { Unwatch } from '../sockets.js'

/** A syscall's result: an errno now, or (only when the caller can suspend) a promise of one. */
export type CallResult = number | Promise<number>
// i64 parameters arrive as bigint, i32 as number.
export type Impl = (...args: any[]) => CallResult

/** How WASI waits (sleep, sched_yield): the embedder's clock and run queue. Not @ww/proc's Scheduler. */
export interface WasiScheduler {
  /** Resolves after `ns` nanoseconds of the host's time (or when `signal` aborts). */
  sleep(ns: bigint, signal: AbortSignal): Promise<void>
  /** Lets other work run: sched_yield. */
  yield(): Promise<void>
}

export interface Ctx {
  readonly processId: string
  readonly policy: Policy
  readonly mem: GuestMemory
  readonly fds: FdTable
  readonly scratch: ScratchFs | null
  readonly clock: Clock
  readonly audit: Audit
  readonly stdout: OutputSink
  readonly stderr: OutputSink
  readonly stdin: InputStream | null
  /** True when a suspension hook was given: calls may return promises. */
  readonly canWait: boolean
  readonly scheduler: WasiScheduler
  fillRandom(dst: Uint8Array): void
  /** True once the spawner closed this WASI (the process ended). */
  readonly closed: boolean
  /** Calls `wake` when the WASI is closed. */
  watchClose(wake: () => void): Unwatch
  /** Throws the process's end once closed: a wait that woke must not go back to sleep. */
  checkOpen(): void
  /** `p`, or a rejection with the process's end as soon as the WASI is closed. */
  until<T>(p: Promise<T>): Promise<T>
  /** Groups each function's row lets it act on (empty for non-fd rows). */
  readonly groups: Readonly<Record<Preview1Function, ReadonlySet<FdGroup>>>
}

/**
 * The entry of `fd` for `fn`: EBADF if absent, ENOTCAPABLE if the row does not let `fn`
 * touch this kind of fd.
 */
export function entry(ctx: Ctx, fn: Preview1Function, fd: number): FdEntry {
  const e = ctx.fds.get(fd)
  if (e === undefined) fail(ERRNO.EBADF)
  if (!ctx.groups[fn].has(groupOf(e))) fail(ERRNO.ENOTCAPABLE)
  return e
}
