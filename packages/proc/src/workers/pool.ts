// A pool of worker threads, each running a Scheduler, behind one main-thread façade
// shaped like the Scheduler (compile, spawn, process, ps, monitor, close). A process is
// placed on the least-loaded worker and stays there; its pid says which worker (pids are
// unique across the pool); messages between workers go over direct ports without copies;
// a crashed worker ends its processes with trapped(ERR_WORKER_CRASHED) and the pool goes
// on with the others.

import { availableParallelism } from 'node:os'
import { MessageChannel, type Worker } from 'node:worker_threads'
import { fuelUsedBy } from '../compile/instrument.js'
import { BadModuleError, ProcessExitedError } from '../errors.js'
import { Scheduler, type CompileOptions, type SchedulerOptions } from '../scheduler.js'
import type { MeterInfo } from '../meter/pass.js'
import { isNormal, type ExitStatus, type Pid } from '../status.js'
import { PoolClosedError, WorkerCrashedError, reviveError } from './errors.js'
import { ChildPorts } from './supervise.js'
import { ownerOf, type FromWorker, type SpawnRequest, type ToWorker, type WorkerCounters } from './protocol.js'
import { RemoteProcess, type PoolCore, type PoolProcessInfo } from './remote-process.js'
import { servePort } from './rpc-port-host.js'
import { SharedSlab } from '../internal/shared-slab.js'
import type { PoolBootstrap, PoolModule, PoolSpawnOptions, PoolSupervisorOptions, WorkerPoolOptions } from './options.js'
import { ready, startWorker } from './start-worker.js'
import { ringMemory } from './ring.js'

export type { PoolBootstrap, PoolChildSpec, PoolModule, PoolSpawnOptions, PoolSupervisorOptions, WorkerPoolOptions } from './options.js'

interface Slot {
  readonly index: number
  /** Replaced when a crashed worker is. */
  worker: Worker
  /** Its doorbell (WorkerInit.bell), given to each peer; a replacement gets its own. */
  bell: SharedArrayBuffer
  /** No pid this worker handed out is at or above this (from its replies): where a replacement starts. */
  fence: number
  /** Live processes (placement). */
  live: number
  readonly procs: Map<Pid, RemoteProcess>
  down: string | undefined
}

type Reply = (m: FromWorker) => void

/** What the pool needs to start a worker again. */
interface PoolInit { readonly workers: number; readonly scheduler: Omit<SchedulerOptions, 'pids'>; readonly replace: boolean }

/**
 * A link between workers `a` and `b`: a port, a ring each way, each one's doorbell. With
 * `fence`, `a` replaces a crashed worker whose pids start there (`b` is told).
 */
function connect(a: Slot, b: Slot, fence?: Pid): void {
  const { port1, port2 } = new MessageChannel()
  const ab = ringMemory()
  const ba = ringMemory()
  a.worker.postMessage({ t: 'peer', index: b.index, port: port1, rings: { out: ab, in: ba, bell: b.bell } } satisfies ToWorker, [port1])
  b.worker.postMessage({ t: 'peer', index: a.index, port: port2, rings: { out: ba, in: ab, bell: a.bell }, ...(fence !== undefined ? { fence } : {}) } satisfies ToWorker, [port2])
}

export class WorkerPool implements PoolCore {
  readonly #slots: Slot[]
  readonly #compiler: Scheduler
  readonly #pending = new Map<number, { slot: Slot; reply: Reply; fail: (e: Error) => void }>()
  readonly #acks = new Map<number, { slot: Slot; done: (r: number) => void }>()
  readonly #monitors = new Map<Pid, Set<RemoteProcess>>()
  /** Links made through the pool, both directions: relayed by this thread, so they work across workers. */
  readonly #links = new Map<Pid, Set<RemoteProcess>>()
  readonly #slab = new SharedSlab()
  /** What supervised children need from this thread (their Host, their output sinks), by key. */
  readonly #children = new ChildPorts()
  /** The keys of each supervisor in #children, released when it ends. */
  readonly #childKeys = new Map<Pid, number[]>()
  /** Every compiled module, for workers started later (replacements). */
  readonly #modules = new Map<number, { module: WebAssembly.Module; meter: MeterInfo }>()
  readonly #init: PoolInit
  #nextReq = 1
  #nextModule = 1
  #closing = false

  private constructor(slots: Slot[], compiler: Scheduler, init: PoolInit) {
    this.#slots = slots
    this.#compiler = compiler
    this.#init = init
  }

  /** Starts the workers; settles when every one is ready. */
  static async start(opts: WorkerPoolOptions = {}): Promise<WorkerPool> {
    const n = opts.workers ?? availableParallelism()
    const scheduler = opts.scheduler ?? {}
    const bells = Array.from({ length: n }, () => new SharedArrayBuffer(4))
    const workers = Array.from({ length: n }, (_, index) => startWorker({ index, workers: n, scheduler, firstPid: index + 1, bell: bells[index]! }))
    await Promise.all(workers.map(ready))
    const slots = workers.map((worker, index): Slot => ({ index, worker, bell: bells[index]!, fence: index + 1, live: 0, procs: new Map(), down: undefined }))
    const pool = new WorkerPool(slots, new Scheduler({
      ...(scheduler.suspension ? { suspension: scheduler.suspension } : {}),
      ...(scheduler.moduleCache !== undefined ? { moduleCache: scheduler.moduleCache } : {}),
      ...(scheduler.instrumentOffThread !== undefined ? { instrumentOffThread: scheduler.instrumentOffThread } : {}),
    }), { workers: n, scheduler, replace: opts.replaceCrashed ?? false })
    for (const s of slots) pool.#listen(s)
    // Direct links between every two workers: their processes' messages skip this thread.
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) connect(slots[i]!, slots[j]!)
    return pool
  }

  /** Worker threads still running. */
  get workers(): number { return this.#slots.filter((s) => s.down === undefined).length }

  /** Meters and compiles `bytes` once; every worker gets the compiled module (code is shared, not recompiled). */
  async compile(bytes: Uint8Array, opts: CompileOptions = {}): Promise<PoolModule> {
    this.#open()
    const mod = await this.#compiler.compile(bytes, opts)
    const id = this.#nextModule++
    this.#modules.set(id, { module: mod.module, meter: mod.meter })
    for (const s of this.#live()) this.#post(s, { t: 'module', id, module: mod.module, meter: mod.meter })
    return { id, meter: mod.meter, module: mod.module }
  }

  /** Starts a process on the least-loaded worker (or `opts.worker`); settles with its handle once it has a pid. */
  async spawn(mod: PoolModule, opts: PoolSpawnOptions = {}): Promise<RemoteProcess> {
    this.#open()
    const { name, entry, worker, extensions, bootstrap, parent, link, trapExits, transfer, wasi, ...limits } = opts
    if (parent !== undefined && worker !== undefined && worker !== parent.worker) throw new RangeError(`a child runs on its parent's worker (${parent.worker}), not ${worker}`)
    if (parent !== undefined && this.process(parent.pid) !== parent) throw new ProcessExitedError(parent.pid)
    const slot = this.#place(parent?.worker ?? worker)
    const channel = bootstrap === undefined ? undefined : new MessageChannel()
    const spawn: SpawnRequest = {
      module: mod.id, limits, extensions: extensions ?? [], ...(name ? { name } : {}), ...(entry ? { entry } : {}), ...(channel ? { rpc: channel.port2 } : {}),
      ...(parent ? { parent: parent.pid, link: link ?? false } : {}), trapExits: trapExits ?? false, ...(wasi ? { wasi } : {}),
    }
    let p: RemoteProcess
    try {
      p = await this.#start(slot, (req) => ({ t: 'spawn', req, spawn }), name, parent, [...(channel ? [channel.port2] : []), ...(transfer ?? [])])
    } catch (e) {
      channel?.port1.close()
      throw e
    }
    if (channel && bootstrap !== undefined) {
      let cap: PoolBootstrap
      try {
        cap = typeof bootstrap === 'function' ? bootstrap(p.pid) : bootstrap
      } catch (e) {
        // Nobody would ever answer its frames: it must not wait forever.
        channel.port1.close()
        void p.kill()
        throw e
      }
      p.rpc = servePort(channel.port1, { bootstrap: cap, name: `pid ${p.pid}` })
    }
    return p
  }

  /**
   * Starts a Supervisor on a worker (the least-loaded, `opts.worker`, or its parent's): a
   * native process there that spawns each child, watches it and restarts it one-for-one
   * (see Supervisor), all on that worker. Children are spawned from a PoolModule and
   * cloneable options; they show in `ps` under the supervisor's pid. Settles with the
   * supervisor's handle: it ends with limit(restarts) when restarting does not help, and
   * killing it ends its children.
   */
  async supervise(opts: PoolSupervisorOptions): Promise<RemoteProcess> {
    this.#open()
    const { parent, worker, name } = opts
    if (parent !== undefined && worker !== undefined && worker !== parent.worker) throw new RangeError(`a supervisor runs on its parent's worker (${parent.worker}), not ${worker}`)
    if (parent !== undefined && this.process(parent.pid) !== parent) throw new ProcessExitedError(parent.pid)
    const { supervise, keys } = this.#children.request(opts)
    let sup: RemoteProcess
    try {
      sup = await this.#start(this.#place(parent?.worker ?? worker), (req) => ({ t: 'supervise', req, supervise }), name, parent)
    } catch (e) {
      this.#children.release(keys)
      throw e
    }
    if (sup.status !== undefined) this.#children.release(keys)
    else this.#childKeys.set(sup.pid, keys)
    return sup
  }

  /** The handle of a live process, by pid. */
  process(pid: Pid): RemoteProcess | undefined {
    const s = this.#slots[ownerOf(pid, this.#slots.length)]
    return s?.procs.get(pid)
  }

  /** A copy of `bytes` in shared memory: send it to any number of processes, on any worker, without further copies. */
  message(bytes: Uint8Array): Uint8Array {
    return this.#slab.copy(bytes)
  }

  /** The process table of every worker. */
  async ps(): Promise<PoolProcessInfo[]> {
    const rows = await Promise.all(this.#live().map((s) => this.#request(s, (req) => ({ t: 'ps', req }), () => undefined).then((m) =>
      m.t === 'ps' ? m.rows.map((r) => ({ ...r, worker: s.index })) : [])))
    return rows.flat().sort((a, b) => a.pid - b.pid)
  }

  /** Per worker: messages that crossed to and from other threads, and how (moved, shared, copied). */
  async stats(): Promise<Array<WorkerCounters & { worker: number }>> {
    return Promise.all(this.#live().map((s) => this.#request(s, (req) => ({ t: 'stats', req }), () => undefined).then((m) =>
      ({ ...(m.t === 'stats' ? m.counters : { remoteOut: 0, remoteIn: 0, ring: 0, moved: 0, shared: 0, copied: 0 }), worker: s.index }))))
  }

  /** `watcher` gets a `down` message from `target` (its status as JSON) when `target` ends. */
  monitor(watcher: RemoteProcess, target: RemoteProcess): () => void {
    if (target.status !== undefined) {
      this.#notice(watcher, target.pid, target.status)
      return () => undefined
    }
    let set = this.#monitors.get(target.pid)
    if (set === undefined) this.#monitors.set(target.pid, (set = new Set()))
    set.add(watcher)
    return () => { set.delete(watcher) }
  }

  /**
   * Links `a` and `b`, on any workers: when one ends abnormally the other is killed
   * (`killed`, by `link`), or, if spawned with `trapExits`, gets an `exit` message (sender:
   * the pid that ended; the status as JSON). A normal exit ends the link silently. Linking
   * to a process that already ended abnormally signals at once. The signal goes through
   * this thread, so it lands a thread hop after the end (a local link acts at once).
   * Returns the unlink.
   */
  link(a: RemoteProcess, b: RemoteProcess): () => void {
    if (a === b) return () => undefined
    for (const [x, y] of [[a, b], [b, a]] as const) {
      if (x.status !== undefined) {
        this.#linkSignal(y, x.pid, x.status)
        return () => undefined
      }
    }
    const add = (x: RemoteProcess, y: RemoteProcess): void => {
      let set = this.#links.get(x.pid)
      if (set === undefined) this.#links.set(x.pid, (set = new Set()))
      set.add(y)
    }
    add(a, b)
    add(b, a)
    return () => {
      this.#links.get(a.pid)?.delete(b)
      this.#links.get(b.pid)?.delete(a)
    }
  }

  /** Kills every process, then ends the workers. */
  async close(): Promise<void> {
    if (this.#closing) return
    this.#closing = true
    await Promise.all(this.#live().map((s) => this.#request(s, (req) => ({ t: 'close', req }), () => undefined).catch(() => undefined)))
    await Promise.all(this.#slots.map((s) => s.worker.terminate()))
    // Whatever raced with close (a spawn, a send in flight) ends here, not never.
    for (const [req, w] of this.#pending) { this.#pending.delete(req); w.fail(new PoolClosedError()) }
    for (const [ack, a] of this.#acks) { this.#acks.delete(ack); a.done(-1) }
    for (const s of this.#slots) {
      for (const p of s.procs.values()) this.#ended(p, { kind: 'killed', by: { kind: 'host' } })
      s.procs.clear()
    }
    await this.#compiler.close()
  }

  async [Symbol.asyncDispose](): Promise<void> { await this.close() }

  // ---- PoolCore (what handles ask) ----

  /** @internal */
  kill(p: RemoteProcess): void {
    const s = this.#slots[p.worker]!
    if (s.down === undefined) this.#post(s, { t: 'kill', pid: p.pid })
  }

  /** @internal */
  send(p: RemoteProcess, bytes: Uint8Array, cap?: RemoteProcess): Promise<number> {
    const s = this.#slots[p.worker]!
    if (cap !== undefined && !cap.ownedBy(this)) return Promise.reject(new BadModuleError('handle from another pool'))
    if (s.down !== undefined) return Promise.resolve(-1)
    // The one copy on this side: into shared memory (unless the caller made it so already).
    const shared = this.#slab.owns(bytes) ? bytes : this.#slab.copy(bytes)
    return new Promise((done) => {
      const ack = this.#nextReq++
      this.#acks.set(ack, { slot: s, done })
      this.#post(s, { t: 'deliver', m: { to: p.pid, from: 0, kind: 'user', bytes: shared, ack, ...(cap ? { cap: cap.pid } : {}) } })
    })
  }

  /** @internal */
  async info(p: RemoteProcess): Promise<PoolProcessInfo | undefined> {
    const s = this.#slots[p.worker]!
    if (s.down !== undefined || p.status !== undefined) return undefined
    const m = await this.#request(s, (req) => ({ t: 'ps', req, pid: p.pid }), () => undefined)
    const row = m.t === 'ps' ? m.rows[0] : undefined
    return row && { ...row, worker: s.index }
  }

  /** @internal */
  async peek(p: RemoteProcess): Promise<Uint8Array | undefined> {
    const s = this.#slots[p.worker]!
    if (s.down !== undefined) return undefined
    const m = await this.#request(s, (req) => ({ t: 'peek', req, pid: p.pid }), () => undefined)
    return m.t === 'peek' ? m.bytes : undefined
  }

  // ---- plumbing ----

  #open(): void {
    if (this.#closing) throw new PoolClosedError()
  }

  #live(): Slot[] { return this.#slots.filter((s) => s.down === undefined) }

  #place(index: number | undefined): Slot {
    if (index !== undefined) {
      const s = this.#slots[index]
      if (s === undefined) throw new RangeError(`no worker ${index} (the pool has ${this.#slots.length})`)
      if (s.down !== undefined) throw new WorkerCrashedError(index, s.down)
      return s
    }
    let best: Slot | undefined
    for (const s of this.#live()) if (best === undefined || s.live < best.live) best = s
    if (best === undefined) throw new WorkerCrashedError(-1, 'no worker is left in the pool')
    return best
  }

  #post(s: Slot, m: ToWorker, transfer: Transferable[] = []): void {
    s.worker.postMessage(m, transfer as never)
  }

  #request(s: Slot, make: (req: number) => ToWorker, onReply: Reply, transfer: Transferable[] = []): Promise<FromWorker> {
    if (s.down !== undefined) return Promise.reject(new WorkerCrashedError(s.index, s.down))
    const req = this.#nextReq++
    return new Promise((resolve, reject) => {
      this.#pending.set(req, { slot: s, reply: (m) => { onReply(m); resolve(m) }, fail: reject })
      this.#post(s, make(req), transfer)
    })
  }

  /** Asks `slot` to start a process; settles with its handle, registered in the reply's own turn. */
  async #start(slot: Slot, make: (req: number) => ToWorker, name: string | undefined, parent: RemoteProcess | undefined, transfer: Transferable[] = []): Promise<RemoteProcess> {
    slot.live++ // counted now, so that spawns in a burst spread
    let proc: RemoteProcess | undefined
    try {
      await this.#request(slot, make, (m) => {
        if (m.t !== 'spawned') return
        // Registered here, in the reply's own turn: its exit may be the next message.
        slot.fence = Math.max(slot.fence, m.next)
        proc = new RemoteProcess(this, m.pid, slot.index, name, parent?.pid)
        slot.procs.set(m.pid, proc)
      }, transfer)
    } catch (e) {
      slot.live--
      throw e
    }
    return proc!
  }

  #listen(s: Slot): void {
    const worker = s.worker
    worker.on('message', (m: FromWorker) => this.#onMessage(s, m))
    let error: string | undefined
    worker.on('error', (e) => { error ??= e instanceof Error ? e.message : String(e) })
    worker.on('exit', (code) => {
      if (!this.#closing && s.worker === worker) this.#crashed(s, error ?? `exited with code ${code}`)
    })
  }

  /**
   * A new worker for crashed slot `s`: it starts at the first pid it owns above the
   * fence, gets every module and a direct port to every live worker (who forget what
   * they knew of its pids from the fence up), then takes spawns again.
   */
  async #replace(s: Slot): Promise<void> {
    const { workers: n, scheduler } = this.#init
    const firstPid = s.fence + ((s.index - (s.fence - 1) % n) + n) % n
    const bell = new SharedArrayBuffer(4)
    const worker = startWorker({ index: s.index, workers: n, scheduler, firstPid, bell })
    try {
      await ready(worker)
    } catch {
      void worker.terminate()
      return // it could not even start: the pool goes on without it
    }
    if (this.#closing) { void worker.terminate(); return }
    // From here to the end in one turn: nothing is compiled or spawned in between.
    for (const [id, m] of this.#modules) worker.postMessage({ t: 'module', id, module: m.module, meter: m.meter } satisfies ToWorker)
    s.worker = worker
    s.bell = bell
    for (const other of this.#live()) if (other !== s) connect(s, other, firstPid)
    s.fence = firstPid
    s.down = undefined
    this.#listen(s)
  }

  #onMessage(s: Slot, m: FromWorker): void {
    switch (m.t) {
      case 'exit': {
        const p = s.procs.get(m.pid)
        if (p === undefined) return
        s.procs.delete(m.pid)
        s.live--
        this.#ended(p, m.status)
        return
      }
      case 'delivered': {
        const a = this.#acks.get(m.ack)
        this.#acks.delete(m.ack)
        a?.done(m.r)
        return
      }
      case 'failed': {
        const w = this.#pending.get(m.req)
        this.#pending.delete(m.req)
        w?.fail(reviveError(m.error))
        return
      }
      case 'ready': return
      case 'fuel': {
        const mod = this.#modules.get(m.module)
        if (mod !== undefined) fuelUsedBy(mod.module, m.fuel)
        return
      }
      case 'output-open':
        this.#children.openOutput(m.key, m.port)
        return
      case 'rpc-open':
        this.#children.openRpc(m.key, m.pid, m.port)
        return
      default: {
        const w = this.#pending.get(m.req)
        this.#pending.delete(m.req)
        w?.reply(m)
      }
    }
  }

  #ended(p: RemoteProcess, status: ExitStatus): void {
    p.settle(status)
    // Its RPC ends with it (frames still on their way from a dead guest do not matter).
    if (p.rpc !== undefined && !p.rpc.closed) p.rpc.close()
    const watchers = this.#monitors.get(p.pid)
    this.#monitors.delete(p.pid)
    for (const w of watchers ?? []) this.#notice(w, p.pid, status)
    this.#children.release(this.#childKeys.get(p.pid) ?? [])
    this.#childKeys.delete(p.pid)
    const linked = this.#links.get(p.pid)
    this.#links.delete(p.pid)
    for (const l of linked ?? []) {
      this.#links.get(l.pid)?.delete(p)
      this.#linkSignal(l, p.pid, status)
    }
  }

  #linkSignal(l: RemoteProcess, from: Pid, status: ExitStatus): void {
    const s = this.#slots[l.worker]!
    if (this.#closing || s.down !== undefined || l.status !== undefined || isNormal(status)) return
    this.#post(s, { t: 'link-signal', pid: l.pid, from, status })
  }

  #notice(watcher: RemoteProcess, from: Pid, status: ExitStatus): void {
    const s = this.#slots[watcher.worker]!
    if (s.down !== undefined || watcher.status !== undefined) return
    const bytes = this.#slab.copy(new TextEncoder().encode(JSON.stringify(status)))
    this.#post(s, { t: 'deliver', m: { to: watcher.pid, from, kind: 'down', bytes, status } })
  }

  /** A worker died: its processes end with trapped(ERR_WORKER_CRASHED); the others go on. */
  #crashed(s: Slot, reason: string): void {
    if (s.down !== undefined) return
    s.down = reason
    const status: ExitStatus = { kind: 'trapped', code: 'ERR_WORKER_CRASHED', reason: `worker ${s.index} crashed: ${reason}` }
    for (const [req, w] of this.#pending) if (w.slot === s) { this.#pending.delete(req); w.fail(new WorkerCrashedError(s.index, reason)) }
    for (const [ack, a] of this.#acks) if (a.slot === s) { this.#acks.delete(ack); a.done(-1) }
    const procs = [...s.procs.values()]
    s.procs.clear()
    s.live = 0
    for (const p of procs) {
      if (p.rpc !== undefined && !p.rpc.closed) p.rpc.close(new ProcessExitedError(p.pid))
      this.#ended(p, status)
    }
    for (const other of this.#live()) this.#post(other, { t: 'peer-down', index: s.index })
    if (this.#init.replace && !this.#closing) void this.#replace(s)
  }
}
