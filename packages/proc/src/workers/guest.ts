// spawnPoolGuest: spawnGuest's composition for a process on a pool worker. The parts
// that run guest code's syscalls live in the worker (its restricted WASI, built there by
// guest-wasi.ts from a cloneable policy); what the spawner holds stays on this thread:
// the Host capability (its RPC frames cross over a port, rpc-port-*.ts) and the sinks
// the guest's stdout/stderr go to (records cross over a port, output-port.ts).

import { MessageChannel, type MessagePort } from 'node:worker_threads'
import {
  checkSocketGrants, DEFAULT_POLICY, PolicyError, validatePolicy,
  type Binder, type Conn, type OutputSink, type Policy, type ScratchEntry, type SocketGrant,
} from '@ww/wasi-restricted'
import { PluginError, type PluginSpec, type ProcessPlugin } from '@ww/interface'
import { AbortedError, BadModuleError } from '../errors.js'
import type { WaitOptions } from '../handle.js'
import type { BootstrapFactory } from '../compose/host.js'
import { checkPlugins, checkSpawn } from '../compose/plugin.js'
import { WASI_MODULE } from '../compose/wasi.js'
import { describeStatus, type ExitStatus, type Pid } from '../status.js'
import { pumpOutput } from './output-port.js'
import type { WorkerPool, PoolModule, PoolSpawnOptions } from './pool.js'
import type { SocketReport } from './protocol.js'
import { serveBinder, serveConn } from './socket-port.js'
import type { PoolProcessInfo, RemoteProcess } from './remote-process.js'

export interface PoolGuestOptions extends Omit<PoolSpawnOptions, 'bootstrap' | 'transfer' | 'wasi'> {
  /** The guest's WASI policy (plain data: it is cloned to the worker). Default DEFAULT_POLICY. */
  policy?: Policy
  /** What the scratch dir holds at start (cloned to the worker; the policy must grant one). */
  scratchSeed?: readonly ScratchEntry[]
  /** Where fd 1 and 2 go, on this thread; default: nowhere. */
  stdout?: OutputSink
  stderr?: OutputSink
  /**
   * Sockets for the guest, described: `{ listen: '127.0.0.1:8080' }` (port 0: a free one),
   * `{ dial: '10.0.0.5:5432' }`, each with optional NetLimits. Checked here against the
   * policy (which must grant sockets; dials count toward its maxConnections), then opened
   * by the worker before the process starts (a live socket cannot cross threads): its fds
   * from 3 (after /scratch), listeners first, each kind in order. A bind or dial that fails
   * ends the spawn with its NetError (ERR_LIMIT address in use, ERR_HOST_UNREACHABLE…).
   * The bound addresses are `PoolGuest.listening`. They close when the process ends.
   */
  socketGrants?: readonly SocketGrant[]
  /**
   * Listeners and connections of this thread (a listener already bound, a connection held
   * or reached over RPC), as spawnGuest takes them: each is served to the worker over a
   * port of its own (bytes moved, 64 KiB in flight each way), after the `socketGrants`
   * ones (listeners, then connections). Each listener is claimed for this guest; they are
   * closed when it ends, or when the spawn fails.
   */
  sockets?: readonly Binder[]
  conns?: readonly Conn[]
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
  /** The bound address ("host:port") of each listener its worker opened from `socketGrants`, in fd order. */
  readonly listening: readonly string[]
  readonly #ended: Promise<ExitStatus>

  /** @internal */
  constructor(process: RemoteProcess, ended: Promise<ExitStatus>, listening: readonly string[] = []) {
    this.process = process
    this.#ended = ended
    this.listening = listening
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

/** Checks the guest's sockets against the policy here, before anything is sent: the spawner decides what the guest may have. */
function checkSockets(grants: readonly SocketGrant[], live: number, policy: Policy | undefined, imported: ReadonlySet<string>): void {
  if (!imported.has(WASI_MODULE)) throw new BadModuleError('sockets given, but the module does not import WASI (its sockets would be WASI fds)')
  const conns = checkSocketGrants(grants).conns + live
  const sockets = validatePolicy(policy ?? DEFAULT_POLICY).sockets
  if (sockets === null) throw new PolicyError('sockets', 'sockets given but the policy grants no sockets')
  if (conns > sockets.maxConnections) throw new PolicyError('sockets.maxConnections', `${sockets.maxConnections} cannot hold the ${conns} connections this process starts with`)
}

let served = 0

/** Serves each listener and connection on a port of its own; the other ends go to the worker. */
function serveSockets(sockets: readonly Binder[], conns: readonly Conn[], transfer: MessagePort[]): { listeners: MessagePort[]; conns: MessagePort[]; close(): void } {
  // Claimed here, as createWasi would: a TcpListener already serving another process is CapInUse.
  const owner = `pool guest ${++served}`
  for (const b of sockets) b.claim?.(owner)
  const mine: MessagePort[] = []
  const serve = <T>(x: T, f: (x: T, port: MessagePort) => void): MessagePort => {
    const { port1, port2 } = new MessageChannel()
    f(x, port1)
    mine.push(port1)
    transfer.push(port2)
    return port2
  }
  return {
    listeners: sockets.map((b) => serve(b, serveBinder)),
    conns: conns.map((c) => serve(c, serveConn)),
    close: () => { for (const p of mine) p.close() },
  }
}

/**
 * Spawns `mod` (from `compileGuest(pool, bytes)`) on a worker as a composed guest: its
 * restricted WASI (if the module imports WASI) built in the worker, its transport to the
 * capability `host` builds (if it imports `ww`) served on this thread, then `extensions`.
 * Sockets are described (`socketGrants`) and opened by the worker, or live ones of this
 * thread (`sockets`, `conns`) served to it over ports; stdin is not offered on workers.
 */
export async function spawnPoolGuest(pool: WorkerPool, mod: PoolModule, opts: PoolGuestOptions = {}): Promise<PoolGuest> {
  const { policy, scratchSeed, stdout, stderr, socketGrants = [], sockets = [], conns = [], host, signal, extensions, plugins = [], ...spawn } = opts
  if (signal?.aborted) throw new AbortedError('spawn', { cause: signal.reason })
  const imported = new Set(WebAssembly.Module.imports(mod.module).map((i) => i.module))
  if (imported.has('ww') && host === undefined) throw new BadModuleError('the module imports ww (a transport) but no capability was given to bootstrap (options.host)')
  if (socketGrants.length + sockets.length + conns.length > 0) checkSockets(socketGrants, conns.length, policy, imported)
  checkPlugins(plugins)
  checkSpawn(plugins, mod.module, spawn)

  let output: { port: MessagePort; done: Promise<void> } | undefined
  let report: MessagePort | undefined
  let serving: ReturnType<typeof serveSockets> | undefined
  const transfer: MessagePort[] = []
  // The worker builds the WASI itself (worker.ts): it is where the guest's sockets are opened.
  let wasi: PoolSpawnOptions['wasi']
  if (imported.has(WASI_MODULE)) {
    const fds = [...(stdout ? [1 as const] : []), ...(stderr ? [2 as const] : [])]
    wasi = { ...(policy ? { policy } : {}), ...(scratchSeed ? { scratchSeed } : {}), fds }
    if (fds.length > 0) {
      const { port1, port2 } = new MessageChannel()
      output = { port: port1, done: pumpOutput(port1, { stdout, stderr }) }
      wasi = { ...wasi, output: port2 }
      transfer.push(port2)
    }
    if (socketGrants.length > 0) {
      const { port1, port2 } = new MessageChannel()
      report = port1
      wasi = { ...wasi, sockets: { grants: socketGrants, report: port2 } }
      transfer.push(port2)
    }
    if (sockets.length + conns.length > 0) {
      serving = serveSockets(sockets, conns, transfer)
      wasi = { ...wasi, served: { listeners: serving.listeners, conns: serving.conns } }
    }
  }
  // Posted by the worker once the sockets are open, before the process starts.
  const opened = report === undefined ? undefined : new Promise<SocketReport>((resolve) => report!.once('message', resolve))

  let boot: ReturnType<BootstrapFactory> | undefined
  let p: RemoteProcess
  try {
    p = await pool.spawn(mod, {
      ...spawn, extensions: [...(extensions ?? []), ...plugins.map(specOf)], transfer, ...(wasi ? { wasi } : {}),
      ...(host && imported.has('ww') ? { bootstrap: (pid: Pid) => (boot = host({ pid })).server } : {}),
    })
  } catch (e) {
    output?.port.close()
    report?.close()
    serving?.close()
    throw e
  }
  const listening = opened === undefined ? [] : (await opened).listening
  report?.close()
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
  return new PoolGuest(p, ended, listening)
}
