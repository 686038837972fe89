// The process-plugin contract: how a part (the restricted WASI, the Host capability over
// the transport, a contributor's capability) plugs into each process a scheduler runs,
// and the Suspender its imports wait through.

import type { ExitStatus, Pid } from './status.js'

/** How a guest suspends: 'auto' picks JSPI when `WebAssembly.Suspending` exists, else asyncify. */
export type SuspensionMode = 'auto' | 'asyncify' | 'jspi'

/** An import that may have to wait: returns its result now, or a promise of it. */
export type SuspendingImport = (...args: number[]) => number | Promise<number>

/** "A guest waits without blocking anyone" (@ww/transport implements it: JSPI or asyncify). */
export interface Suspender {
  readonly kind: 'asyncify' | 'jspi'
  /** Times a guest actually suspended (an import returned a promise). */
  readonly suspensions: number
  /**
   * The function to put in the import object for `fn`. When `fn` returns a promise the
   * guest suspends until it settles: on fulfilment the import returns the value; on
   * rejection the guest is ended with that error (it unwinds, never sees a value).
   */
  wrapImport(fn: SuspendingImport): (...args: number[]) => number
  /** Bind to the instance (asyncify needs its exports). Before run(). */
  attach(instance: WebAssembly.Instance): void
  /** Call `entry` (an export of the attached instance) and settle when it returns for good. */
  run(entry: (...args: number[]) => unknown, args?: number[]): Promise<unknown>
}

/** What an extension gets to build its part of one process. */
export interface ProcessContext {
  readonly pid: Pid
  /**
   * A Suspender for imports that may wait (give it to GuestConnection as `suspension`):
   * a wait parks the process in the scheduler, which resumes it in its turn. Its
   * attach/run belong to the scheduler and do nothing here.
   */
  readonly suspender: Suspender
}

/** One process's plugged-in part. */
export interface ProcessExtension {
  imports?: WebAssembly.Imports
  /** Called with the new instance before it runs; a throw ends the process (trapped). */
  attach?(instance: WebAssembly.Instance): void
  /** Called once when the process ends (close connections, free resources). */
  onExit?(status: ExitStatus): void
  /**
   * How an error that ended the guest reads as a status, if this part threw it (e.g.
   * WASI's proc_exit(n) is exited(n), not a trap). Undefined: not ours.
   */
  exitStatus?(error: unknown): ExitStatus | undefined
  /** What this part counted, shown in `ps`. */
  stats?(): ExtensionStats
}

/** An extension's counters: the known ones get their own `ps` columns, the rest go under `extension`. */
export interface ExtensionStats {
  /** RPC frames the guest sent (in) and was handed (out). */
  readonly framesIn?: number
  readonly framesOut?: number
  /** Calls refused by policy, per function (e.g. WASI `path_open`). */
  readonly denials?: Readonly<Record<string, number>>
  /** Anything else worth showing. */
  readonly counters?: Readonly<Record<string, number>>
}

/** A plugin: adds imports (and whatever stands behind them) to every process it is given to. */
export interface ProcessPlugin {
  /** For errors and listings. */
  readonly name: string
  /** Import modules it fills (e.g. `wasi_snapshot_preview1`); no two plugins of a process may fill the same one. */
  readonly provides: readonly string[]
  /** Its imports that may wait (`module.name`), so that the module is asyncified for them. */
  readonly suspendingImports?: readonly string[]
  /**
   * Builds its part of one process, once the scheduler has given it a pid and before the
   * module is instantiated. A throw ends that process (trapped) before it runs.
   */
  create(ctx: ProcessContext): ProcessExtension
}
