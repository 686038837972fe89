import type { Cid } from '../cache/bytecode-cache.js'
import type { CallOptions } from '../util/abort.js'

export type Pid = number

/** How a process ended. Traps and limits are not exit codes (the Go host conflated them). */
export type ExitStatus =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'trapped'; readonly reason: string }
  | { readonly kind: 'killed' }
  | { readonly kind: 'limit'; readonly which: 'memory' | 'fuel' | 'time' | 'frames' | (string & {}) }
  | { readonly kind: 'hostLost'; readonly host: string }

export interface SpawnRequest {
  /** Module bytes, or the cid of bytes in the host's bytecode cache. */
  bytecode?: Uint8Array
  cid?: Cid
  args?: readonly string[]
  /** Capabilities handed to the child (its BootContext); opaque here. */
  caps?: Readonly<Record<string, unknown>>
}

export interface ProcessHandle {
  readonly pid: Pid
  /** Parent pid, or undefined for a root process the host started. */
  readonly parent: Pid | undefined
  /** Idempotent and concurrent: every caller gets the same status. */
  wait(opts?: CallOptions): Promise<ExitStatus>
  /** Kills this process and its whole subtree (children first). */
  kill(): Promise<void>
  children(): Pid[]
}

/** Spawns on behalf of one caller: the caller's pid is bound in, never taken from a request. */
export interface Executor {
  spawn(req: SpawnRequest, opts?: CallOptions): Promise<ProcessHandle>
  /** A process this caller may reach (itself or a descendant); ERR_NOT_FOUND otherwise. */
  process(pid: Pid): ProcessHandle
}

/** What the tree hands a runtime to start one process (@ww/proc implements Runtime). */
export interface StartSpec {
  readonly pid: Pid
  readonly parent: Pid | undefined
  readonly bytecode: Uint8Array
  readonly args: readonly string[]
  readonly caps: Readonly<Record<string, unknown>>
  /** An Executor whose caller is the new process itself, for it to spawn children. */
  readonly executor: Executor
}

/** A started process, as the runtime reports it. */
export interface RunningProcess {
  /** Settles once with how it ended; never rejects (a runtime error is `trapped`). */
  readonly exited: Promise<ExitStatus>
  /** Ends the process; `exited` then settles with `killed`. */
  kill(): void
}

/** The pluggable part: runs modules. @ww/proc provides the real one. */
export interface Runtime {
  start(spec: StartSpec, opts?: CallOptions): Promise<RunningProcess>
}
