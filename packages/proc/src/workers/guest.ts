// spawnPoolGuest: spawnGuest's composition for a process on a pool worker. The parts
// that run guest code's syscalls live in the worker (its restricted WASI, built there by
// guest-wasi.ts from a cloneable policy); what the spawner holds stays on this thread:
// the Host capability (its RPC frames cross over a port, rpc-port-*.ts) and the sinks
// the guest's stdout/stderr go to (records cross over a port, output-port.ts).

import { MessageChannel, type MessagePort } from 'node:worker_threads'
import type { OutputSink, Policy, ScratchEntry } from '@ww/wasi-restricted'
import { PluginError, type PluginSpec, type ProcessPlugin } from '@ww/interface'
import { AbortedError, BadModuleError } from '../errors.js'
import type { WaitOptions } from '../handle.js'
import type { BootstrapFactory } from '../compose/host.js'
import { checkPlugins, checkSpawn } from '../compose/plugin.js'
import { WASI_MODULE } from '../compose/wasi.js'
import { describeStatus, type ExitStatus, type Pid } from '../status.js'
import { pumpOutput } from './output-port.js'
import type { WorkerPool, PoolModule, PoolSpawnOptions } from './pool.js'
import type { PoolProcessInfo, RemoteProcess } from './remote-process.js'
import type { WorkerWasiOptions } from './guest-wasi.js'

export interface PoolGuestOptions extends Omit<PoolSpawnOptions, 'bootstrap' | 'transfer'> {
  /** The guest's WASI policy (plain data: it is cloned to the worker). Default DEFAULT_POLICY. */
  policy?: Policy
  /** What the scratch dir holds at start (cloned to the worker; the policy must grant one). */
  scratchSeed?: readonly ScratchEntry[]
  /** Where fd 1 and 2 go, on this thread; default: nowhere. */
  stdout?: OutputSink
  stderr?: OutputSink
  /**
   * The capability the guest bootstraps over its `ww` transport, built on this thread once
   * the pid is known; its `close` is called when the process ends. Required when the
   * module imports `ww`.
   */
  host?: BootstrapFactory
  /**
   * Plugins as spawnGuest takes them, each loaded from its module (loadPlugin): their
   * `check`s run here, then the worker loads each from its `spec` and builds its part
   * there. A plugin with no `spec` (a live object of this thread) fails with
   * PluginError(ERR_PLUGIN_THREAD).
   */
  plugins?: readonly ProcessPlugin[]
  /** Aborting kills the process (killed by host). */
  signal?: AbortSignal
}

/** A composed guest on a pool worker. Disposing it kills it (if still running) and waits. */
export class PoolGuest {
  readonly process: RemoteProcess
  readonly #ended: Promise<ExitStatus>

  /** @internal */
  constructor(process: RemoteProcess, ended: Promise<ExitStatus>) {
    this.process = process
    this.#ended = ended
  }

  get pid(): Pid { return this.process.pid }
  get worker(): number { return this.process.worker }

  /** How it ended, once its output has reached the sinks (WASI's proc_exit(n) is exited(n)). */
  wait(opts: WaitOptions = {}): Promise<ExitStatus> {
    if (opts.signal === undefined) return this.#ended
    const signal = opts.signal
    return new Promise((resolve, reject) => {
      if (signal.aborted) { reject(new AbortedError('wait', { cause: signal.reason })); return }
      const onAbort = (): void => reject(new AbortedError('wait', { cause: signal.reason }))
      signal.addEventListener('abort', onAbort, { once: true })
      this.#ended.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  /** Ends it and its descendants (killed by host). */
  async kill(): Promise<ExitStatus> {
    await this.process.kill()
    return this.#ended
  }

  /** Its row of its worker's process table (undefined once ended). */
  info(): Promise<PoolProcessInfo | undefined> { return this.process.info() }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.process.status === undefined) await this.kill()
    else await this.#ended
  }
}

function specOf(p: ProcessPlugin): PluginSpec {
  if (p.spec === undefined) throw new PluginError('ERR_PLUGIN_THREAD', `plugin ${p.name} is a live object of this thread (not loaded from a module with loadPlugin), so a worker cannot load it`)
  return p.spec
}

/** Where the worker finds guest-wasi.js: beside this file when built; from the sources (tests), the built one. */
function workerWasiModule(): string {
  const here = import.meta.url
  return (here.endsWith('.ts') ? new URL('../../dist/workers/guest-wasi.js', here) : new URL('./guest-wasi.js', here)).href
}

/**
 * Spawns `mod` (from `compileGuest(pool, bytes)`) on a worker as a composed guest: its
 * restricted WASI (if the module imports WASI) built in the worker, its transport to the
 * capability `host` builds (if it imports `ww`) served on this thread, then `extensions`.
 * Stdin and sockets are not offered on workers (they are live objects of this thread).
 */
export async function spawnPoolGuest(pool: WorkerPool, mod: PoolModule, opts: PoolGuestOptions = {}): Promise<PoolGuest> {
  const { policy, scratchSeed, stdout, stderr, host, signal, extensions, plugins = [], ...spawn } = opts
  if (signal?.aborted) throw new AbortedError('spawn', { cause: signal.reason })
  const imported = new Set(WebAssembly.Module.imports(mod.module).map((i) => i.module))
  if (imported.has('ww') && host === undefined) throw new BadModuleError('the module imports ww (a transport) but no capability was given to bootstrap (options.host)')
  checkPlugins(plugins)
  checkSpawn(plugins, mod.module, spawn)

  let output: { port: MessagePort; done: Promise<void> } | undefined
  const parts: PluginSpec[] = [...(extensions ?? []), ...plugins.map(specOf)]
  const transfer: MessagePort[] = []
  if (imported.has(WASI_MODULE)) {
    const fds = [...(stdout ? [1 as const] : []), ...(stderr ? [2 as const] : [])]
    let options: WorkerWasiOptions = { ...(policy ? { policy } : {}), ...(scratchSeed ? { scratchSeed } : {}) }
    if (fds.length > 0) {
      const { port1, port2 } = new MessageChannel()
      output = { port: port1, done: pumpOutput(port1, { stdout, stderr }) }
      options = { ...options, output: port2, fds }
      transfer.push(port2)
    }
    parts.unshift({ module: workerWasiModule(), options })
  }

  let boot: ReturnType<BootstrapFactory> | undefined
  let p: RemoteProcess
  try {
    p = await pool.spawn(mod, {
      ...spawn, extensions: parts, transfer,
      ...(host && imported.has('ww') ? { bootstrap: (pid: Pid) => (boot = host({ pid })).server } : {}),
    })
  } catch (e) {
    output?.port.close()
    throw e
  }
  const ended = p.wait().then(async (status) => {
    try { boot?.close?.(describeStatus(status)) } catch { /* a Host that fails to close does not change how the guest ended */ }
    await output?.done
    return status
  })
  if (signal !== undefined) {
    const onAbort = (): void => { void p.kill() }
    signal.addEventListener('abort', onAbort, { once: true })
    void ended.then(() => signal.removeEventListener('abort', onAbort))
  }
  return new PoolGuest(p, ended)
}
