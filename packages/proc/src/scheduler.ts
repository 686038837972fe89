// The scheduler: one thread, many processes. A run queue of processes ready to run; the
// dispatcher gives each a slice (a refill of fuel) in turn and returns to the event loop
// every `quantumMs` so timers and I/O keep flowing. A guest whose fuel runs out while
// others wait yields (suspends through the Suspender) and goes to the back of the queue.
//
// A wait takes a process off the CPU (#park) until something makes it ready (#ready: a
// message, room in a mailbox, the end of an extension's wait), which queues it with the
// continuation that computes the wait's value. Under asyncify the dispatcher steps guests
// itself (AsyncifySuspender start/suspend/resume): a slice is a synchronous call that
// returns when the guest waits or ends, so a message costs no promise and no microtask.
// Under JSPI the engine suspends a guest on a promise, which the continuation settles.

import { join } from 'node:path'
import { AsyncifySuspender, createSuspender, isAsyncified, SUSPENDED, type Suspender, type SuspendingImport, type SuspensionMode } from '@ww/transport'
import { AbortedError, BadModuleError, ProcessExitedError, ProcessLimitError, SchedulerClosedError } from './errors.js'
import { NativeProcess, ProcessHandle, type Core, type ProcessInfo } from './handle.js'
import { buildImports, deliver, handOver, type ImportHost } from './internal/imports.js'
import { Proc, Termination, type ResolvedLimits } from './internal/proc.js'
import { Message } from './message.js'
import type { Waiter } from './mailbox.js'
import { PROC_ERRNO } from './internal/handles.js'
import { START_EXPORT, type MeterInfo } from './meter/pass.js'
import { compileInstrumented, fuelUsedBy, moduleStore } from './compile/instrument.js'
import type { ModuleStore } from './compile/module-store.js'
import { restore, snapshot } from './internal/hibernate.js'
import { SharedSlab } from './internal/shared-slab.js'
import { isNormal, trapField, trapKindOf, type ExitStatus, type Pid, type ProcessContext, type ProcessExtension, type ExtensionStats } from '@ww/interface'

/** Per-process limits; every field has a scheduler-wide default. */
export interface ProcessLimits {
  /** Memory cap in 64 KiB pages (default 256 = 16 MiB). */
  memoryPages?: number
  /** Growing past the cap: 'fail' makes memory.grow return -1 (default), 'kill' ends the process. */
  onMemoryLimit?: 'fail' | 'kill'
  /** CPU budget in fuel units (≈ wasm expressions); default unlimited. */
  fuel?: number
  /** Wall-clock deadline in ms from spawn; default none. */
  deadlineMs?: number
  /** Mailbox capacity in messages (default 64). */
  mailbox?: number
}

export interface SchedulerOptions {
  /** Most live processes at once (default 10,000). */
  maxProcesses?: number
  /** Fuel per slice (default 100,000). Smaller: fairer and finer deadlines; larger: fewer switches. */
  sliceFuel?: number
  /** How long the dispatcher runs before it lets the event loop turn (default 4 ms). */
  quantumMs?: number
  /** How guests suspend (default 'auto': JSPI where the engine has it, else asyncify). */
  suspension?: SuspensionMode
  /** Defaults for every spawn. */
  limits?: ProcessLimits
  /**
   * Hibernate a process that has waited in `recv` this long (ms): its state goes to a
   * host buffer and its instance is dropped until a message comes. Default: never.
   */
  hibernateAfterMs?: number
  /**
   * Pids this scheduler hands out: `first`, then every `step` (default 1, 1). A pool
   * gives worker k of W `{ first: k + 1, step: W }`, so pids are unique pool-wide.
   */
  pids?: { readonly first: number; readonly step: number }
  /**
   * Where a guest's sent bytes are copied: `heap` (default; a buffer of their own, moved
   * when they cross threads) or `shared` (SharedArrayBuffer memory, so the same bytes can
   * reach receivers on several worker threads at once).
   */
  messageMemory?: 'heap' | 'shared'
  /**
   * Where instrumented (metered, asyncified) modules are kept across processes, so a later
   * start of the same bytes skips the pass: a directory, or false for none. Default:
   * $WW_HOME/cache/instrumented when WW_HOME is set, else none (this process only).
   */
  moduleCache?: string | false
  /** Run the metering pass on a worker thread, off this event loop (default true). */
  instrumentOffThread?: boolean
}

export interface SpawnOptions extends ProcessLimits {
  /** The parent (a handle, never a pid): the child dies when it does. */
  parent?: ProcessHandle
  /** Link the child to its parent. */
  link?: boolean
  /** Turn link signals into `exit` messages instead of dying. */
  trapExits?: boolean
  /** A label for ps. */
  name?: string
  /** More imports, merged under the scheduler's own. */
  imports?: WebAssembly.Imports
  /** Plug in per-process parts (a transport connection, WASI): see ProcessExtension. */
  extend?: (ctx: ProcessContext) => ProcessExtension
  /**
   * The export to run (default: `ww_main` if the module exports it, else `_start`). A
   * name the module does not export ends the process with trapped(ERR_GUEST_ABI).
   */
  entry?: string
}

// The process-plugin contract (what an extension gets, and gives) is @ww/interface's.
export type { ProcessContext, ProcessExtension, ExtensionStats } from '@ww/interface'

export interface CompileOptions {
  /** More imports that may wait ("module.name", e.g. "ww.recv"), for asyncify. */
  suspendingImports?: readonly string[]
  /** Abandons the compile (checked between its steps: Binaryen itself runs synchronously). */
  signal?: AbortSignal
  /**
   * Under asyncify, wait for the optimized (-O2) build instead of starting on the quick one
   * (-O0, built in a tenth of the time, its code slower) while -O2 is built behind it: for a
   * module whose speed matters from its first spawn, such as a benchmark's.
   */
  optimized?: boolean
}

/** A module metered (and asyncified where needed) for this scheduler, compiled once. */
export interface ProcModule {
  readonly module: WebAssembly.Module
  readonly meter: MeterInfo
}

/** Imports a metered module may wait in (besides out_of_fuel). */
const SUSPENDING = ['ww_proc.recv', 'ww_proc.send', 'ww_proc.send_cap']

const DEFAULTS: ResolvedLimits = { memoryPages: 256, onMemoryLimit: 'fail', fuel: Infinity, deadlineMs: Infinity, mailbox: 64 }

export class Scheduler implements ImportHost {
  readonly #procs = new Map<Pid, Proc>()
  readonly #handles = new WeakMap<Proc, ProcessHandle>()
  #queue: Proc[] = []
  #qhead = 0
  #nextPid: number
  readonly #pidStep: number
  #pumping = false
  #pumpStart = 0
  #closed = false
  readonly #max: number
  readonly #sliceFuel: number
  readonly #quantumMs: number
  readonly #mode: SuspensionMode
  readonly #defaults: ResolvedLimits
  readonly #core: Core
  readonly #hibernateAfter: number
  readonly #store: ModuleStore | undefined
  readonly #offThread: boolean
  /** @internal Where guests' sent bytes go (ImportHost); undefined: heap buffers. */
  readonly messageAlloc: ((n: number) => Uint8Array) | undefined

  constructor(opts: SchedulerOptions = {}) {
    const { first = 1, step = 1 } = opts.pids ?? {}
    if (!Number.isSafeInteger(first) || first < 1 || !Number.isSafeInteger(step) || step < 1) {
      throw new RangeError(`pids: first and step must be positive integers (got ${first}, ${step})`)
    }
    this.#nextPid = first
    this.#pidStep = step
    if (opts.messageMemory !== undefined && opts.messageMemory !== 'heap' && opts.messageMemory !== 'shared') {
      throw new RangeError(`messageMemory: 'heap' or 'shared' (got ${String(opts.messageMemory)})`)
    }
    if (opts.messageMemory === 'shared') {
      const slab = new SharedSlab()
      this.messageAlloc = (n) => slab.alloc(n)
    }
    this.#max = opts.maxProcesses ?? 10_000
    this.#sliceFuel = opts.sliceFuel ?? 100_000
    this.#quantumMs = opts.quantumMs ?? 4
    this.#mode = opts.suspension ?? 'auto'
    this.#defaults = { ...DEFAULTS, ...definedOnly(opts.limits ?? {}) }
    this.#hibernateAfter = opts.hibernateAfterMs ?? Infinity
    const home = process.env.WW_HOME
    const cacheDir = opts.moduleCache ?? (home ? join(home, 'cache', 'instrumented') : false)
    this.#store = cacheDir === false ? undefined : moduleStore(cacheDir)
    this.#offThread = opts.instrumentOffThread ?? true
    this.#core = {
      kill: (p, s) => this.#terminate(p, s),
      deliver: (to, m, wait) => this.#deliver(to, m, wait),
      monitor: (w, t) => this.#monitor(w, t),
      link: (a, b) => this.#link(a, b),
      info: (p) => this.#info(p),
      procOf: (h) => {
        const p = h.proc
        if (this.#handles.get(p) !== h) throw new BadModuleError('handle from another scheduler')
        return p
      },
    }
  }

  /**
   * Meters and compiles `bytes` (asyncified where the engine has no JSPI and the module
   * may wait); spawn the result as often as you like. The same bytes again, in this
   * process or (with a module cache) any later one, skip the pass.
   */
  async compile(bytes: Uint8Array, opts: CompileOptions = {}): Promise<ProcModule> {
    const asyncify = createSuspender(this.#mode).kind === 'asyncify'
    const check = (): void => {
      if (opts.signal?.aborted) throw new AbortedError('compile', { cause: opts.signal.reason })
    }
    check()
    const meter = asyncify ? { asyncify: { imports: [...SUSPENDING, ...(opts.suspendingImports ?? [])] }, ...(opts.optimized ? { optimizeLevel: 2 } : {}) } : {}
    const mod = await compileInstrumented(bytes, meter, { store: this.#store, offThread: this.#offThread })
    check()
    return mod
  }

  /** Live processes. */
  get size(): number { return this.#procs.size }

  /** @internal The pid the next process gets: any pid below it that is not live never will be. */
  get nextPid(): Pid { return this.#nextPid }

  /** Starts a process from a compiled module; it runs when the dispatcher gets to it. */
  spawn(mod: ProcModule, opts: SpawnOptions = {}): ProcessHandle {
    const p = this.#create('wasm', opts)
    const handle = new ProcessHandle(this.#core, p)
    this.#handles.set(p, handle)
    // Under asyncify an AsyncifySuspender, which can move a waiting guest to a new instance.
    p.suspender = createSuspender(this.#mode)
    p.stepped = p.suspender instanceof AsyncifySuspender ? p.suspender : undefined
    p.module = mod.module
    p.meter = mod.meter
    try {
      const ext = opts.extend?.({ pid: p.pid, suspender: this.#contextSuspender(p) })
      p.onExit = ext?.onExit
      p.extStats = ext?.stats
      p.extStatus = ext?.exitStatus
      p.entry = opts.entry
      p.ext = ext
      p.imports = buildImports(p, this, { ...opts.imports, ...ext?.imports })
      const inst = new WebAssembly.Instance(mod.module, p.imports)
      this.#bind(p, inst)
      p.canWait = p.suspender.kind === 'jspi' || (isAsyncified(inst.exports) && typeof inst.exports.ww_asyncify_data === 'function')
      p.fuelYields = p.canWait && (p.suspender.kind === 'jspi' || mod.meter.fuelYields)
      const pages = (p.memory?.buffer.byteLength ?? 0) / 65536
      if (pages > p.limits.memoryPages) throw new Termination({ kind: 'limit', which: 'memory', detail: `initial memory ${pages} pages over the cap of ${p.limits.memoryPages}` })
      ext?.attach?.(inst)
      // The pass moved the start function out (so a restore never re-runs it): run it now.
      const start = inst.exports[START_EXPORT]
      if (typeof start === 'function') {
        p.granted = this.#sliceFuel
        p.fuel!.value = p.granted
        start()
      }
    } catch (e) {
      // A trap or a limit in the start function ends this process, not the caller.
      this.#finish(p, this.#classify(p, e))
      return handle
    }
    this.#enqueue(p)
    return handle
  }

  /** A host-side process: a pid and a mailbox in the tree, driven by host code. */
  spawnNative(opts: Pick<SpawnOptions, 'parent' | 'link' | 'trapExits' | 'name' | 'mailbox'> = {}): NativeProcess {
    const p = this.#create('native', opts)
    p.state = 'running'
    const handle = new NativeProcess(this.#core, p)
    this.#handles.set(p, handle)
    return handle
  }

  /** The handle of a live process, for the host (guests never look pids up). */
  process(pid: Pid): ProcessHandle | undefined {
    const p = this.#procs.get(pid)
    return p && this.#handles.get(p)
  }

  /** The process table. */
  ps(): ProcessInfo[] {
    return [...this.#procs.values()].map((p) => this.#info(p))
  }

  /** Kills every process and refuses new ones. */
  async close(): Promise<void> {
    this.#closed = true
    const roots = [...this.#procs.values()].filter((p) => !p.parent)
    for (const p of roots) this.#terminate(p, { kind: 'killed', by: { kind: 'host' } })
    await Promise.all(roots.map((p) => p.exited))
  }

  async [Symbol.asyncDispose](): Promise<void> { await this.close() }

  #create(kind: 'wasm' | 'native', opts: SpawnOptions): Proc {
    if (this.#closed) throw new SchedulerClosedError()
    if (this.#procs.size >= this.#max) throw new ProcessLimitError(this.#max)
    const parent = opts.parent ? this.#core.procOf(opts.parent) : undefined
    if (parent?.status) throw new BadModuleError(`parent ${parent.pid} has exited`)
    const limits = { ...this.#defaults, ...definedOnly(opts) }
    const pid = this.#nextPid
    this.#nextPid += this.#pidStep
    const p = new Proc({ pid, parent, kind, name: opts.name ?? `${kind}-${pid}`, limits, trapExits: opts.trapExits ?? false })
    this.#procs.set(pid, p)
    parent?.children.add(p)
    // The tree is the first capability: a child can write to its parent, a (wasm) parent to
    // its child. Native processes hold ProcessHandles, not a table.
    if (parent !== undefined && kind === 'wasm') {
      p.handles.grant(parent.pid)
      if (parent.kind === 'wasm') parent.handles.grant(pid)
    }
    if (opts.link && parent) this.#link(p, parent)
    if (Number.isFinite(limits.deadlineMs)) {
      // Timers may fire up to a millisecond early: re-arm for what is left, never kill early.
      const arm = (ms: number): void => {
        p.deadlineTimer = setTimeout(() => {
          const left = limits.deadlineMs - (performance.now() - p.startedAt)
          if (left > 0) arm(left)
          else this.#terminate(p, { kind: 'limit', which: 'time', detail: `deadline of ${limits.deadlineMs} ms` })
        }, Math.ceil(ms))
      }
      arm(limits.deadlineMs)
    }
    return p
  }

  // ---- dispatch ----

  #enqueue(p: Proc): void {
    this.#queue.push(p)
    if (!this.#pumping) {
      this.#pumping = true
      setImmediate(this.#pump)
    }
  }

  #queued(): number { return this.#queue.length - this.#qhead }

  readonly #pump = async (): Promise<void> => {
    // One clock read per slice: it ends one slice (CPU time), starts the next and checks
    // the quantum.
    let now = performance.now()
    this.#pumpStart = now
    this.inbound()
    for (;;) {
      while (this.#qhead < this.#queue.length) {
        const p = this.#queue[this.#qhead]!
        this.#queue[this.#qhead++] = undefined as unknown as Proc
        if (p.status === undefined) {
          const jspi = this.#slice(p)
          if (jspi !== undefined) await jspi
          const end = performance.now()
          p.cpuMs += end - now
          now = end
        }
        this.inbound()
        if (now - this.#pumpStart >= this.#quantumMs) break
      }
      if (this.#queued() > 0) break
      // Ran dry: idle() is told every time (quantum spent or not), so that it can arrange
      // to be woken; it takes in what came meanwhile, until the quantum is spent.
      if (!this.idle() || (now - this.#pumpStart >= this.#quantumMs && this.#queued() > 0)) break
      now = performance.now()
    }
    if (this.#qhead > 1024 && this.#qhead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#qhead)
      this.#qhead = 0
    }
    if (this.#queued() > 0) setImmediate(this.#pump)
    else this.#pumping = false
  }

  /**
   * @internal Takes in work that arrived from elsewhere without the event loop (a pool worker reads
   * its rings from other threads): called before the first slice and after each one.
   */
  protected inbound(): void { /* nothing comes from elsewhere in one thread */ }

  /**
   * @internal Nothing is queued: true if work came in meanwhile (then the dispatcher goes on), false
   * to let the event loop turn. A pool worker reads its rings here, or else arranges to be
   * woken when a peer writes to one.
   */
  protected idle(): boolean { return false }

  /** @internal Runs the dispatcher now, unless it runs or is due to: work came in from elsewhere. */
  protected dispatch(): void {
    if (this.#pumping) return
    this.#pumping = true
    void this.#pump()
  }

  /**
   * Runs p until it waits or ends. A stepped (asyncify) guest runs within this call; a
   * JSPI guest's slice ends in a later microtask: the promise returned settles then.
   */
  #slice(p: Proc): Promise<void> | undefined {
    p.onCpu = true
    p.slices++
    p.state = 'running'
    if (p.stepped !== undefined) {
      this.#step(p, p.stepped)
      return undefined
    }
    const done = new Promise<void>((r) => { p.sliceDone = r })
    if (!p.started) this.#start(p)
    else {
      const k = p.cont!
      const resolve = p.waitResolve!
      const reject = p.abort!
      p.cont = p.waitResolve = p.abort = undefined
      p.parked = false
      try { resolve(k()) } catch (e) { reject(e) }
    }
    return done
  }

  /** A stepped guest's slice: its first call, or the rewind into the wait it parked in. */
  #step(p: Proc, s: AsyncifySuspender): void {
    let r: unknown
    try {
      if (!p.started) {
        const name = this.#begin(p)
        if (name === undefined) return
        r = s.start(name)
      } else {
        if (p.snapshot && !this.#wake(p)) return
        const k = p.cont!
        p.cont = undefined
        p.parked = false
        r = s.resume(k)
      }
    } catch (e) {
      this.#finish(p, this.#classify(p, e))
      return
    }
    // Parked (#park took it off the CPU, and something will make it ready), or done.
    if (r !== SUSPENDED) this.#finish(p, exited(r))
  }

  /** p is off the CPU: the dispatcher goes on (a JSPI slice's promise settles). */
  #endSlice(p: Proc): void {
    if (!p.onCpu) return
    p.onCpu = false
    const done = p.sliceDone
    p.sliceDone = undefined
    done?.()
  }

  #bind(p: Proc, inst: WebAssembly.Instance): void {
    p.instance = inst
    p.view = undefined
    p.suspender!.attach(inst)
    p.fuel = inst.exports.ww_fuel as WebAssembly.Global
    p.memory = inst.exports.memory instanceof WebAssembly.Memory ? inst.exports.memory : undefined
  }

  /**
   * Saves a process that waits (in `recv`, or in an extension's wait such as `ww.recv`)
   * and drops its instance (see hibernate.ts). False when it cannot: running or about to,
   * not an asyncify guest, not hibernatable by its module, or plugged into an extension
   * that does not say it can let go of the instance now (ProcessExtension.canHibernate).
   */
  hibernate(h: ProcessHandle): boolean {
    const p = this.#core.procOf(h)
    if (p.status || p.snapshot || p.state !== 'waiting' || p.onCpu || !p.parked || p.cont) return false
    if (!p.meter?.hibernatable || !(p.suspender instanceof AsyncifySuspender)) return false
    const ext = p.ext
    if (ext !== undefined && !extensionAllows(ext)) return false
    if (p.hibernateTimer) clearTimeout(p.hibernateTimer)
    p.hibernateTimer = undefined
    p.snapshot = snapshot(p, p.meter)
    try {
      ext?.onHibernate?.()
    } catch (e) {
      // It holds the instance still: the process cannot be moved, so it ends.
      this.#terminate(p, this.#classify(p, e))
      return false
    }
    p.suspender.detach()
    p.instance = undefined
    p.memory = undefined
    p.view = undefined
    p.fuel = undefined
    return true
  }

  /** Instantiates a hibernated process again; false (and it ended) if that failed. */
  #wake(p: Proc): boolean {
    const s = p.snapshot!
    let inst: WebAssembly.Instance
    try {
      inst = new WebAssembly.Instance(p.module!, p.imports!)
      restore(inst, s, p.meter!)
      this.#bind(p, inst)
      p.snapshot = undefined
    } catch (e) {
      p.snapshot = undefined
      this.#terminate(p, { kind: 'limit', which: 'memory', detail: `could not restore from hibernation: ${e instanceof Error ? e.message : String(e)}` })
      return false
    }
    try {
      p.ext?.onRestore?.(inst)
      return true
    } catch (e) {
      this.#terminate(p, this.#classify(p, e))
      return false
    }
  }

  /** After `hibernateAfterMs` in this wait (if set), p hibernates if it still can then. */
  #armHibernation(p: Proc): void {
    if (!Number.isFinite(this.#hibernateAfter) || !p.meter?.hibernatable || p.hibernateTimer) return
    const h = this.#handles.get(p)!
    p.hibernateTimer = setTimeout(() => { p.hibernateTimer = undefined; this.hibernate(h) }, this.#hibernateAfter)
    p.hibernateTimer.unref?.()
  }

  /**
   * Marks p started and gives it its first fuel: the name of the export to run, or
   * undefined when there is none (p has ended: ERR_GUEST_ABI).
   */
  #begin(p: Proc): string | undefined {
    p.started = true
    const x = p.instance!.exports
    const name = p.entry ?? (typeof x.ww_main === 'function' ? 'ww_main' : '_start')
    if (typeof x[name] !== 'function') {
      this.#finish(p, { kind: 'trapped', code: 'ERR_GUEST_ABI', reason: p.entry ? `no ${p.entry} function export (the entry asked for)` : 'no ww_main or _start export' })
      return undefined
    }
    p.granted = this.#sliceFuel
    p.fuel!.value = p.granted
    return name
  }

  /** A JSPI guest's start: its run settles when it returns for good. */
  #start(p: Proc): void {
    const name = this.#begin(p)
    if (name === undefined) return
    p.suspender!.run(p.instance!.exports[name] as (...a: number[]) => unknown).then(
      (r) => this.#finish(p, exited(r)),
      (e: unknown) => this.#finish(p, this.#classify(p, e)),
    )
  }

  /** The Suspender extensions see: waits go through #park so the dispatcher stays in charge. */
  #contextSuspender(p: Proc): Suspender {
    const real = p.suspender!
    return {
      kind: real.kind,
      get suspensions() { return real.suspensions },
      wrapImport: (fn: SuspendingImport) => real.wrapImport((...args: number[]) => {
        const r = fn(...args)
        if (typeof r === 'number' || !p.canWait) return r // a guest that cannot wait ends in the real suspender
        // A Resume runs as p resumes: after a hibernation, on its restored instance. Handled
        // before parking: a refused wait (the throw below) leaves the promise to nobody.
        r.then((v) => this.#ready(p, typeof v === 'function' ? v : () => v), (e: unknown) => this.#wakeFailed(p, e))
        const parked = this.#park(p, 'waiting')
        this.#armHibernation(p)
        return parked
      }),
      attach: () => undefined,
      run: () => Promise.reject(new BadModuleError('the scheduler runs processes; extensions do not')),
    }
  }

  /**
   * Takes p off the CPU in a wait, until #ready(p, k) queues it and the dispatcher
   * continues it with k's value: the wrapped import returns what this returns. A stepped
   * guest unwinds now (no promise); a JSPI guest's stack waits on the promise.
   */
  #park(p: Proc, state: 'waiting' | 'running'): number | Promise<number> {
    p.state = state
    p.parked = true
    this.#endSlice(p)
    if (p.stepped !== undefined) return p.stepped.suspend()
    return new Promise<number>((resolve, reject) => {
      p.waitResolve = resolve
      p.abort = reject
    })
  }

  /** Parked p may go on: queued, with `k` to compute its wait's value (or throw) when it runs. */
  #ready(p: Proc, k: () => number): void {
    if (p.status) return
    if (p.hibernateTimer) { clearTimeout(p.hibernateTimer); p.hibernateTimer = undefined }
    p.state = 'running'
    p.cont = k
    this.#enqueue(p)
  }

  /** Parked p's wait failed: p ends with that error (as if the import had thrown it). */
  #wakeFailed(p: Proc, e: unknown): void {
    if (p.status) return
    if (p.abort !== undefined) p.abort(e)
    else this.#finish(p, this.#classify(p, e))
  }

  // ---- ImportHost ----

  outOfFuel(p: Proc): number | Promise<number> {
    // In a start function (during instantiation) the fuel export is not reachable yet:
    // count the whole grant (the global starts at 0, so the first grant is 0).
    const cur = p.fuel === undefined ? 0 : (p.fuel.value as number)
    const used = Math.max(0, p.granted - cur)
    p.fuelUsed += used
    if (p.module !== undefined) fuelUsedBy(p.module, used)
    p.granted = 0
    const budget = p.limits.fuel - p.fuelUsed
    if (budget <= 0) throw new Termination({ kind: 'limit', which: 'fuel', detail: `CPU budget of ${p.limits.fuel} fuel` })
    const now = performance.now()
    if (now - p.startedAt >= p.limits.deadlineMs) throw new Termination({ kind: 'limit', which: 'time', detail: `deadline of ${p.limits.deadlineMs} ms` })
    const refill = Math.min(this.#sliceFuel, budget)
    p.granted = refill
    // Keep running when nobody waits and the quantum is not spent, or when p cannot suspend.
    if (!p.onCpu || !p.fuelYields) return refill
    if (this.#queued() === 0 && now - this.#pumpStart < this.#quantumMs) return refill
    // A yield: to the back of the queue at once.
    const parked = this.#park(p, 'running')
    this.#ready(p, () => refill)
    return parked
  }

  send(p: Proc, pid: number, m: Message): number | Promise<number> {
    const to = this.#procs.get(pid)
    if (to === undefined || to.status) return -1
    p.sent++
    if (to.mailbox.offer(m)) return 0
    if (!p.canWait) return -2
    // Backpressure: p waits for room (its message goes in then), or for the receiver's end.
    to.mailbox.put(m).then(() => this.#ready(p, sent), () => this.#ready(p, gone))
    return this.#park(p, 'waiting')
  }

  recv(p: Proc, ptr: number, cap: number): number | Promise<number> {
    const r = deliver(p, ptr, cap)
    if (r !== undefined) return r
    if (!p.canWait) throw new Termination({ kind: 'trapped', code: 'ERR_GUEST_ABI', reason: 'recv must wait, but the guest cannot suspend (no asyncify data area, no JSPI)' })
    const parked = this.#park(p, 'waiting')
    p.recvPtr = ptr
    p.recvCap = cap
    p.inRecv = true
    p.mailbox.whenNonEmptyCall(p.recvWaiter ??= this.#recvWaiter(p))
    this.#armHibernation(p)
    return parked
  }

  /**
   * What wakes p from a recv: made once per process (a recv that parks allocates nothing).
   * Its mailbox closes only when p has ended, so there is nothing to do then.
   */
  #recvWaiter(p: Proc): Waiter<void> {
    const k = (): number => deliver(p, p.recvPtr, p.recvCap)!
    p.recvHanded = () => p.recvLen
    return { resolve: () => { p.inRecv = false; this.#ready(p, k) }, reject: () => undefined }
  }

  /** @internal A guest's send straight into a receiver waiting in recv (handOver in imports.ts). */
  handOver(p: Proc, pid: number, src: Uint8Array, start: number, end: number, cap: number): boolean {
    const to = this.#procs.get(pid)
    if (to === undefined || !handOver(to, src, start, end, p.pid, cap)) return false
    p.sent++
    this.#ready(to, to.recvHanded!)
    return true
  }

  /**
   * @internal Bytes from another thread (a pool worker's ring) straight into `pid` if it
   * waits in recv with an empty mailbox (handOver in imports.ts); false if it does not.
   */
  handOverFrom(from: Pid, pid: Pid, src: Uint8Array, start: number, end: number, cap: number): boolean {
    const to = this.#procs.get(pid)
    if (to === undefined || !handOver(to, src, start, end, from, cap)) return false
    this.#ready(to, to.recvHanded!)
    return true
  }

  // ---- delivery, monitors, links, endings ----

  #deliver(to: Proc, m: Message, wait: boolean): boolean | Promise<void> {
    if (!wait) return to.mailbox.offer(m)
    return to.mailbox.put(m)
  }

  #monitor(watcher: Proc, target: Proc): () => void {
    if (target.status) {
      watcher.mailbox.offer(Message.notice('down', target.pid, target.status), true)
      return () => undefined
    }
    target.monitors.add(watcher)
    return () => { target.monitors.delete(watcher) }
  }

  #link(a: Proc, b: Proc): void {
    if (a === b) return
    a.links.add(b)
    b.links.add(a)
  }

  /** A process linked to `l` ended with `status`: a crash kills `l`, or tells it if it traps exits. */
  #linkSignal(l: Proc, from: Pid, status: ExitStatus): void {
    if (l.status || isNormal(status)) return
    if (l.trapExits) l.mailbox.offer(Message.notice('exit', from, status), true)
    else this.#terminate(l, { kind: 'killed', by: { kind: 'link', pid: from } })
  }

  /**
   * @internal A process linked to `h` elsewhere (on another worker of a pool) ended with
   * `status`: `h` gets what a local link would give it.
   */
  linkSignal(h: ProcessHandle, from: Pid, status: ExitStatus): void {
    this.#linkSignal(this.#core.procOf(h), from, status)
  }

  /** Ends p now with `status`, wherever it is (queued, parked, or on the CPU). */
  #terminate(p: Proc, status: ExitStatus): void {
    if (p.status) return
    const t = new Termination(status)
    if (p.onCpu && p.fuel) {
      // Re-entered from p's own import: it dies at its next check (fuel forced below 0).
      p.fuelUsed += Math.max(0, p.granted - (p.fuel.value as number))
      p.granted = -1
      p.fuel.value = -1
    }
    p.abort?.(t)
    this.#finish(p, status)
  }

  #finish(p: Proc, status: ExitStatus): void {
    if (p.status) return
    if (p.onCpu) this.#endSlice(p)
    if (p.fuel && p.granted > 0) p.fuelUsed += Math.max(0, p.granted - (p.fuel.value as number))
    p.granted = 0
    p.status = status
    p.state = 'exited'
    if (p.deadlineTimer) clearTimeout(p.deadlineTimer)
    if (p.hibernateTimer) clearTimeout(p.hibernateTimer)
    p.snapshot = undefined
    p.handles.clear()
    this.#procs.delete(p.pid)
    p.parent?.children.delete(p)
    p.mailbox.close(new ProcessExitedError(p.pid))
    // Orphans do not outlive their parent.
    for (const c of [...p.children]) this.#terminate(c, { kind: 'killed', by: { kind: 'parent', pid: p.pid } })
    for (const w of p.monitors) if (!w.status) w.mailbox.offer(Message.notice('down', p.pid, status), true)
    for (const l of p.links) {
      l.links.delete(p)
      this.#linkSignal(l, p.pid, status)
    }
    if (p.onExit) {
      try { p.onExit(status) } catch { /* an extension's cleanup must not break the scheduler */ }
      p.onExit = undefined
    }
    p.ext = undefined
    // Drop the instance so its memory can be collected while handles live on.
    p.instance = undefined
    p.imports = undefined
    p.view = undefined
    p.cont = p.waitResolve = p.abort = undefined
    p.recvWaiter = p.recvHanded = undefined
    p.parked = p.inRecv = false
    p.settle(status)
  }

  /** An extension's reading of the error first (WASI's proc_exit), else the scheduler's. */
  #classify(p: Proc, e: unknown): ExitStatus {
    if (!(e instanceof Termination) && p.extStatus) {
      try {
        const s = p.extStatus(e)
        if (s) return s
      } catch { /* a broken extension does not decide how a process ended */ }
    }
    return classify(e)
  }

  #info(p: Proc): ProcessInfo {
    let ext: ExtensionStats | undefined
    try { ext = p.extStats?.() } catch { ext = undefined }
    return {
      pid: p.pid, parent: p.parent?.pid, name: p.name, kind: p.kind, state: p.state,
      startedAtMs: p.startedAtMs,
      cpuMs: p.cpuMs, fuel: p.fuelNow(), slices: p.slices,
      memoryBytes: p.status ? 0 : (p.memory?.buffer.byteLength ?? 0),
      hibernatedBytes: p.snapshot?.bytes,
      mailbox: p.mailbox.size, sent: p.sent, received: p.mailbox.received, handles: p.handles.size,
      framesIn: ext?.framesIn ?? 0, framesOut: ext?.framesOut ?? 0,
      denials: { ...ext?.denials, ...p.denials },
      extension: ext?.counters,
      status: p.status,
    }
  }
}

const sent = (): number => 0
const gone = (): number => PROC_ERRNO.GONE

/** How a guest's entry returning `r` reads as a status. */
function exited(r: unknown): ExitStatus {
  return { kind: 'exited', code: typeof r === 'number' ? r | 0 : 0 }
}

/** How an error that ended a guest's run reads as a status. */
function classify(e: unknown): ExitStatus {
  if (e instanceof Termination) return e.status
  // The trap kind is read here, from the error itself; from then on it is a field.
  const trap = trapField(trapKindOf(e))
  if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) return { kind: 'trapped', code: 'ERR_GUEST_TRAP', reason: e.message, ...trap }
  const code = typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : undefined
  const reason = e instanceof Error ? e.message : String(e)
  return code ? { kind: 'trapped', code, reason, ...trap } : { kind: 'trapped', reason, ...trap }
}

/** Whether an extension lets its process be hibernated now (a throw says no). */
function extensionAllows(ext: ProcessExtension): boolean {
  try {
    return ext.canHibernate?.() === true
  } catch {
    return false
  }
}

function definedOnly(o: ProcessLimits): ProcessLimits {
  const r: Record<string, unknown> = {}
  for (const k of ['memoryPages', 'onMemoryLimit', 'fuel', 'deadlineMs', 'mailbox'] as const) if (o[k] !== undefined) r[k] = o[k]
  return r as ProcessLimits
}
