// The process-plugin contract: how a part (the restricted WASI, the Host capability over
// the transport, a contributor's capability or policy) plugs into each process a
// scheduler runs, and the Suspender its imports wait through. A plugin is a module: its
// export is a PluginFactory, named by a PluginSpec, so the same plugin loads on the
// spawner's thread and on a worker thread alike (PLUGINS.md at the repository root).

import type { ExitStatus, Pid } from './status.js'

/** How a guest suspends: 'auto' picks JSPI when `WebAssembly.Suspending` exists, else asyncify. */
export type SuspensionMode = 'auto' | 'asyncify' | 'jspi'

/**
 * An import that may have to wait: returns its result now, or a promise of it, or a
 * promise of a Resume that computes it when the guest runs again.
 */
export type SuspendingImport = (...args: number[]) => number | Promise<number | Resume>

/**
 * The value of a wait, computed when the guest resumes rather than when the wait ends:
 * an import that writes into guest memory (a frame into the `ww.recv` buffer) does it
 * here, because between the two the scheduler may have hibernated the guest and restored
 * it into a new instance with a new memory. A throw ends the guest with that error.
 */
export type Resume = () => number

/** "A guest waits without blocking anyone" (@ww/transport implements it: JSPI or asyncify). */
export interface Suspender {
  readonly kind: 'asyncify' | 'jspi'
  /** Times a guest actually suspended (an import returned a promise). */
  readonly suspensions: number
  /**
   * The function to put in the import object for `fn`. When `fn` returns a promise the
   * guest suspends until it settles: on fulfilment the import returns the value; on
   * rejection the guest is ended with that error (it unwinds, never sees a value). A
   * promise of a Resume: it is called as the guest resumes, and the import returns its value.
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
  /**
   * Hibernation (asyncify guests parked in a wait): the scheduler copies the guest's memory
   * out and drops its instance, and restores it into a new instance when it must run
   * again. A process whose parts do not all implement canHibernate is never hibernated.
   *
   * May it be hibernated now? True only if nothing of this part will touch the guest's
   * memory or instance before onRestore: no view kept past an import call, and no wait
   * whose settling writes into memory (write in a Resume instead).
   */
  canHibernate?(): boolean
  /** The instance is being dropped: let go of it and its memory (so they can be freed). */
  onHibernate?(): void
  /**
   * The new instance, its memory restored, before the guest runs again (and before any
   * Resume): rebind every view. A throw ends the process (trapped).
   */
  onRestore?(instance: WebAssembly.Instance): void
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

/** What a spawn asks for, as a plugin's policy (`check`) sees it before the process exists. */
export interface SpawnCheck {
  /** Its label, if the spawner gave one. */
  readonly name?: string
  /** The export it will start at, if the spawner named one. */
  readonly entry?: string
  /** Limits the spawner asked for (absent: the runtime's default applies). */
  readonly memoryPages?: number
  readonly fuel?: number
  readonly deadlineMs?: number
  readonly mailbox?: number
  /** The import modules the module imports. */
  readonly imports: readonly string[]
}

/** A plugin: adds imports (and whatever stands behind them) to every process it is given to. */
export interface ProcessPlugin {
  /** For errors and listings. */
  readonly name: string
  /**
   * Where it was loaded from (loadPlugin sets it): how a worker thread loads the same
   * plugin. A plugin without one is a live object of its thread and runs only there.
   */
  readonly spec?: PluginSpec
  /**
   * Policy: called on the spawner's thread for each spawn, before the process exists. A
   * throw refuses the spawn: the spawner gets that very error (give it a `code`), and
   * nothing of the process is built.
   */
  check?(spawn: SpawnCheck): void
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

/**
 * A plugin as a module offers it: `module` (a specifier or file URL `import()` takes)
 * exports, under `export` (default `default`), a PluginFactory called with `options`.
 * Everything here is plain data, so it crosses to a worker thread as is.
 */
export interface PluginSpec {
  readonly module: string
  /** The export (default `default`). */
  readonly export?: string
  /** Handed to the factory; must be structured-clonable (no functions, no live objects). */
  readonly options?: unknown
}

/**
 * What a plugin module exports: builds the plugin from its options. It may be called on
 * several threads (the spawner's, to read `provides` and run `check`; each worker that
 * runs one of its processes), so it should do no more than read its options.
 */
export type PluginFactory<Options = unknown> = (options: Options) => ProcessPlugin
