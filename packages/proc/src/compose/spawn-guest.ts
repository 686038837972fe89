// spawnGuest: one guest process composed of its parts — the scheduler's process
// (metered, limited, in the tree), its restricted WASI, its transport with the
// capability the spawner chose, and any other plugins. compileGuest meters a module
// once for that composition and checks it asks only for what a guest can get.

import type { GuestConnection } from '@ww/transport'
import type { AuditSnapshot, Wasi } from '@ww/wasi-restricted'
import { AbortedError, BadModuleError } from '../errors.js'
import type { ProcessHandle, ProcessInfo, WaitOptions } from '../handle.js'
import type { CompileOptions, ProcModule, Scheduler, SpawnOptions } from '../scheduler.js'
import type { ExitStatus, Pid } from '../status.js'
import type { ModuleCache } from '../internal/module-cache.js'
import { hostConnection, type BootstrapFactory, type HostPart } from './host.js'
import { checkPlugins, checkSpawn, combineParts, SCHEDULER_IMPORTS, type ProcessPlugin } from './plugin.js'
import { restrictedWasi, WASI_MODULE, type RestrictedWasiOptions, type WasiPart } from './wasi.js'

export interface GuestOptions extends Omit<SpawnOptions, 'extend' | 'imports'>, RestrictedWasiOptions {
  /**
   * The capability the guest bootstraps over its zero-copy transport (the `ww` imports),
   * built once the pid is known: typically `hostCapability(cluster, { processId, rights })`
   * or an attenuation. Required when the module imports `ww`.
   */
  host?: BootstrapFactory
  /**
   * More parts, each adding imports and what stands behind them (see ProcessPlugin;
   * loadPlugin loads one from its module, which also runs on a worker pool). Their
   * `check`s run first: a throw refuses the spawn with that error.
   */
  plugins?: readonly ProcessPlugin[]
  /** Aborting kills the process (killed by host). */
  signal?: AbortSignal
}

export interface GuestCompileOptions {
  /** Plugins the module will be spawned with (their imports that may wait are asyncified). */
  plugins?: readonly ProcessPlugin[]
  /** The export the module will be started at (checked here); default ww_main, else _start. */
  entry?: string
  signal?: AbortSignal
}

/** The built-in parts' import modules and their waiting imports. */
const BUILT_IN: readonly ProcessPlugin[] = [restrictedWasi(), hostConnection({ bootstrap: () => { throw new Error('unused') } })]

/** What compileGuest compiles with: a Scheduler, or a WorkerPool (for spawnPoolGuest). */
export interface GuestCompiler<M extends { readonly module: WebAssembly.Module }> {
  compile(bytes: Uint8Array, opts?: CompileOptions): Promise<M>
}

/**
 * Meters and compiles `bytes` for spawnGuest (or, given a WorkerPool, spawnPoolGuest),
 * asyncified where needed (a module that arrives asyncified keeps its own). Throws
 * BadModuleError (ERR_BAD_MODULE) for bytes that are not a module, one without a memory
 * export or entry point, or one importing what no part provides; ModuleTooLargeError
 * (ERR_MODULE_TOO_LARGE) for one too large to instrument.
 */
export async function compileGuest<M extends { readonly module: WebAssembly.Module } = ProcModule>(scheduler: GuestCompiler<M>, bytes: Uint8Array, opts: GuestCompileOptions = {}): Promise<M> {
  const plugins = [...BUILT_IN, ...(opts.plugins ?? [])]
  checkPlugins(plugins)
  const mod = await scheduler.compile(bytes, {
    suspendingImports: plugins.flatMap((p) => p.suspendingImports ?? []),
    ...(opts.signal ? { signal: opts.signal } : {}),
  })
  const exports = new Set(WebAssembly.Module.exports(mod.module).map((e) => e.name))
  if (opts.entry !== undefined ? !exports.has(opts.entry) : !exports.has('_start') && !exports.has('ww_main')) {
    throw new BadModuleError(opts.entry !== undefined ? `the module exports no ${opts.entry} (the entry asked for)` : 'the module exports no entry point (_start or ww_main)')
  }
  if (!exports.has('memory')) throw new BadModuleError('the module exports no memory')
  const allowed = new Set([...SCHEDULER_IMPORTS, ...plugins.flatMap((p) => p.provides)])
  const foreign = WebAssembly.Module.imports(mod.module).filter((i) => !allowed.has(i.module))
  if (foreign.length > 0) {
    const names = foreign.slice(0, 3).map((i) => `${i.module}.${i.name}`).join(', ')
    const offered = [...allowed].filter((m) => m !== 'ww_meter').join(', ')
    throw new BadModuleError(`the module imports ${names}${foreign.length > 3 ? ', …' : ''}; a guest gets only ${offered}`)
  }
  return mod
}

/**
 * compileGuest through `cache` (procRuntime's and poolRuntime's): the same bytes compile
 * once per entry and set of plugins (what they provide and may wait in changes the result).
 */
export function compileGuestCached<M extends { readonly module: WebAssembly.Module }>(cache: ModuleCache<M>, compiler: GuestCompiler<M>, bytes: Uint8Array, opts: GuestCompileOptions = {}): Promise<M> {
  const plugins = opts.plugins ?? []
  const variant = [
    opts.entry ?? '',
    plugins.flatMap((p) => p.suspendingImports ?? []).sort().join(','),
    plugins.flatMap((p) => p.provides).sort().join(','),
  ].join('|')
  return cache.get(bytes, variant, () => compileGuest(compiler, bytes, opts))
}

/** What a guest process did through its parts (also in `ps`, as numbers). */
export interface GuestStats {
  /** Its RPC connection's counters (calls, frames), if it has a transport. */
  readonly rpc: GuestConnection['rpc']['stats'] | undefined
  /** Its transport's counters (frames, bytes, copies, waits), if it has one. */
  readonly transport: GuestConnection['stats'] | undefined
  /** WASI denials, if it has WASI. */
  readonly denied: AuditSnapshot | undefined
}

/** A guest process and its parts. Disposing it kills it (if still running) and waits. */
export class GuestProcess {
  readonly handle: ProcessHandle
  readonly #parts: { wasi?: WasiPart; host?: HostPart }

  /** @internal */
  constructor(handle: ProcessHandle, parts: { wasi?: WasiPart; host?: HostPart }) {
    this.handle = handle
    this.#parts = parts
  }

  get pid(): Pid { return this.handle.pid }
  /** Its WASI (audit, exit, scratch usage); undefined if the module imports none or it never started. */
  get wasi(): Wasi | undefined { return this.#parts.wasi?.wasi }
  /** Its transport connection; undefined if the module imports no `ww` or it never started. */
  get connection(): GuestConnection | undefined { return this.#parts.host?.connection }

  /** How it ended (WASI's proc_exit(n) is exited(n)). */
  wait(opts?: WaitOptions): Promise<ExitStatus> { return this.handle.wait(opts) }
  /** Ends it and its descendants (killed by host). */
  kill(): Promise<ExitStatus> { return this.handle.kill() }
  /** Its row of the process table. */
  info(): ProcessInfo { return this.handle.info() }

  stats(): GuestStats {
    const c = this.connection
    return { rpc: c?.rpc.stats, transport: c?.stats, denied: this.wasi?.audit() }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.handle.status) await this.handle.kill()
  }
}

const importedModules = new WeakMap<WebAssembly.Module, ReadonlySet<string>>()

function importsOf(m: WebAssembly.Module): ReadonlySet<string> {
  let s = importedModules.get(m)
  if (!s) {
    s = new Set(WebAssembly.Module.imports(m).map((i) => i.module))
    importedModules.set(m, s)
  }
  return s
}

/**
 * Spawns `mod` (from compileGuest) as a guest process: its restricted WASI (if the module
 * imports WASI), its transport to the capability `host` builds (if it imports `ww`),
 * then `plugins`, all built once the pid is known and torn down when it ends.
 */
export function spawnGuest(scheduler: Scheduler, mod: ProcModule, opts: GuestOptions = {}): GuestProcess {
  if (opts.signal?.aborted) throw new AbortedError('spawn', { cause: opts.signal.reason })
  const imported = importsOf(mod.module)
  if (imported.has('ww') && opts.host === undefined) throw new BadModuleError('the module imports ww (a transport) but no capability was given to bootstrap (options.host)')
  const wasi = imported.has(WASI_MODULE) ? restrictedWasi(opts) : undefined
  const host = imported.has('ww') ? hostConnection({ bootstrap: opts.host! }) : undefined
  const plugins: ProcessPlugin[] = [...(wasi ? [wasi] : []), ...(host ? [host] : []), ...(opts.plugins ?? [])]
  checkPlugins(plugins)
  checkSpawn(plugins, mod.module, opts)
  const parts: { wasi?: WasiPart; host?: HostPart } = {}
  const { host: _h, plugins: _p, signal, policy: _policy, stdout: _o, stderr: _e, stdin: _i, sockets: _s, conns: _c, scratchSeed: _seed, ...spawn } = opts
  // No parts, no extension: such a process stays hibernatable.
  const handle = scheduler.spawn(mod, plugins.length === 0 ? spawn : {
    ...spawn,
    extend: (ctx) => combineParts(plugins, ctx, (plugin, part) => {
      if (plugin === wasi) parts.wasi = part as WasiPart
      else if (plugin === host) parts.host = part as HostPart
    }),
  })
  if (signal && !handle.status) {
    const onAbort = (): void => { void handle.kill() }
    signal.addEventListener('abort', onAbort, { once: true })
    void handle.wait().then(() => signal.removeEventListener('abort', onAbort))
  }
  return new GuestProcess(handle, parts)
}
