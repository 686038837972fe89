// meterModule on worker threads, started on first use and kept (Binaryen loaded once),
// unref'd while idle so they never keep a process alive. Two of them: one for the builds
// someone waits for, one for background builds (the -O2 upgrade), so a slow upgrade never
// queues ahead of another module's first start. If the foreground worker cannot start (or
// dies), what it had runs on this thread: slower for the event loop, same result.
//
// A first start's asyncify pass runs in a child process instead, under --liftoff-only:
// Binaryen cold spends most of its time in V8 optimizing its own hot code, which a
// one-off pass never earns back (the demo guest's asyncify: 1.36 s of CPU in a worker,
// 0.64 s there). The flag is the whole process's, so it cannot be a worker's: it would
// slow the guests. Idle for 30 s, the child exits.

import { fork, type ChildProcess } from 'node:child_process'
import { Worker } from 'node:worker_threads'
import { BadModuleError, ModuleTooLargeError } from '../errors.js'
import { workerExecArgv } from '../internal/worker-argv.js'
import { asyncifyOnly, meterModule, type MeterInfo, type MeterOptions } from '../meter/pass.js'

/**
 * A job: the whole pass, or (`asyncify`) asyncify alone on what the quick tier metered;
 * `warm`: load Binaryen and run the pass once on a tiny module, keep nothing.
 */
export interface MeterRequest { id: number; bytes: Uint8Array; opts: MeterOptions; asyncify?: { imports: readonly string[]; optimizeLevel: number }; warm?: boolean }
export type MeterReply =
  | { id: number; bytes: Uint8Array; info: MeterInfo | undefined; error?: undefined; cpuMs?: number }
  | { id: number; error: { name: string; code: string | undefined; message: string }; cpuMs?: number }

type Result = { bytes: Uint8Array; info: MeterInfo | undefined }

/** Runs a job on this thread (the worker's body, and the fallback where no worker runs). */
export function runJob(req: Omit<MeterRequest, 'id'>): Promise<Result> {
  if (req.asyncify !== undefined) return asyncifyOnly(req.bytes, req.asyncify.imports, req.asyncify.optimizeLevel).then((bytes) => ({ bytes, info: undefined }))
  return meterModule(req.bytes, req.opts)
}
type Pending = { req: MeterRequest; resolve: (r: Result) => void; reject: (e: unknown) => void }

/** Where a job runs: a worker thread, or a child process; ref'd while someone waits. */
interface Executor {
  post(req: MeterRequest): void
  ref(): void
  unref(): void
  onMessage(f: (r: MeterReply) => void): void
  /** Could not start, or ended. */
  onGone(f: () => void): void
}

function startThread(): Executor {
  const w = new Worker(workerUrl(), { execArgv: workerExecArgv() })
  return {
    post: (r) => w.postMessage(r), ref: () => w.ref(), unref: () => w.unref(),
    onMessage: (f) => { w.on('message', f) },
    onGone: (f) => { w.on('error', f); w.on('exit', f) },
  }
}

function startChild(): Executor {
  const c: ChildProcess = fork(workerUrl(), [], { execArgv: ['--liftoff-only'], serialization: 'advanced', stdio: ['ignore', 'ignore', 'ignore', 'ipc'] })
  return {
    post: (r) => { c.send(r) },
    ref: () => { c.ref(); c.channel?.ref() },
    unref: () => { c.unref(); c.channel?.unref() },
    onMessage: (f) => { c.on('message', f) },
    onGone: (f) => { c.on('error', f); c.on('exit', f) },
  }
}

/** The worker's script: next to this file when built; from the sources (tests), the built one. */
function workerUrl(): URL {
  const here = import.meta.url
  return here.endsWith('.ts') ? new URL('../../dist/compile/meter-worker.js', here) : new URL('./meter-worker.js', here)
}

function revive(e: { name: string; code: string | undefined; message: string }): Error {
  if (e.code === 'ERR_MODULE_TOO_LARGE') {
    const m = /is (\d+) bytes, over the (\d+)-byte/.exec(e.message)
    return new ModuleTooLargeError(Number(m?.[1] ?? 0), Number(m?.[2] ?? 0))
  }
  if (e.code === 'ERR_BAD_MODULE') return new BadModuleError(e.message)
  const err = new Error(e.message)
  err.name = e.name
  return err
}

class MeterWorker {
  #worker: Executor | undefined
  #nextId = 1
  readonly #pending = new Map<number, Pending>()

  /** `keepAlive`: the process waits for these jobs; else they are dropped when it exits. */
  /**
   * `refWarm`: a warm-up keeps the process alive too (a child process, unlike a thread,
   * would otherwise let it exit with the warm-up's promise unsettled).
   */
  constructor(private readonly keepAlive: boolean, private readonly spawn: () => Executor = startThread, private readonly refWarm = false) {}

  run(job: Omit<MeterRequest, 'id'>): Promise<Result> {
    const warm = job.warm === true
    let w: Executor
    try {
      w = this.#worker ??= this.#start()
    } catch (e) {
      return this.keepAlive && !warm ? runJob(job) : Promise.reject(e)
    }
    const req: MeterRequest = { id: this.#nextId++, ...job }
    return new Promise((resolve, reject) => {
      this.#pending.set(req.id, { req, resolve, reject })
      // A thread's warm-up never keeps the process alive: nobody waits for its result.
      if (this.keepAlive && (!warm || this.refWarm)) w.ref()
      w.post(req)
    })
  }

  /** Starts the worker (it loads Binaryen at once), so that a job posted soon finds it loaded or loading. */
  start(): void {
    try {
      this.#worker ??= this.#start()
    } catch {
      // The job itself will run here instead.
    }
  }

  /** Whether jobs other than warm-ups are pending (the worker is ref'd while they are). */
  #waitedFor(): boolean {
    for (const p of this.#pending.values()) if (p.req.warm !== true || this.refWarm) return true
    return false
  }

  #start(): Executor {
    const w = this.spawn()
    w.unref()
    w.onMessage((r) => {
      if (r.cpuMs !== undefined) childCpuMs = r.cpuMs
      const p = this.#pending.get(r.id)
      if (p === undefined) return
      this.#pending.delete(r.id)
      if (!this.#waitedFor()) w.unref()
      if (r.error !== undefined) p.reject(revive(r.error))
      else p.resolve({ bytes: r.bytes, info: r.info })
    })
    // Gone (could not start, or died): what it had runs here, or is dropped in the background.
    const gone = (): void => {
      if (this.#worker === w) this.#worker = undefined
      for (const p of this.#pending.values()) {
        if (this.keepAlive && p.req.warm !== true) runJob(p.req).then(p.resolve, p.reject)
        else p.reject(new Error('the metering worker is gone'))
      }
      this.#pending.clear()
    }
    w.onGone(gone)
    return w
  }
}

/** CPU the first-start child process has used so far (its replies say), for the start-up bench. */
let childCpuMs = 0

/** @internal CPU time (ms) of the first-start child process as of its last reply: not in this process's process.cpuUsage(). */
export function firstStartChildCpuMs(): number { return childCpuMs }

const foreground = new MeterWorker(true)
const background = new MeterWorker(false)
const firstStart = new MeterWorker(true, startChild, true)

/** meterModule(bytes, opts) on a worker thread; a `background` job never keeps the process alive. */
export function meterOffThread(bytes: Uint8Array, opts: MeterOptions, inBackground = false): Promise<{ bytes: Uint8Array; info: MeterInfo }> {
  return (inBackground ? background : foreground).run({ bytes, opts }) as Promise<{ bytes: Uint8Array; info: MeterInfo }>
}

/** asyncifyOnly(bytes, imports, optimizeLevel) in the first-start child process. */
export async function asyncifyInChild(bytes: Uint8Array, imports: readonly string[], optimizeLevel: number): Promise<Uint8Array> {
  return (await firstStart.run({ bytes, opts: {}, asyncify: { imports, optimizeLevel } })).bytes
}

/** Starts the first-start child and its load of Binaryen (≈0.7 s), for an asyncifyInChild that follows soon. */
export function startAsyncifyChild(): void {
  firstStart.start()
}

// One function that waits in an import, so the warm-up runs metering and asyncify both:
// (module (import "w" "wait" (func)) (memory 1) (func (export "f") call 0))
const TINY = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 2, 10, 1, 1, 119, 4, 119, 97, 105, 116, 0, 0, 3, 2, 1, 0,
  5, 3, 1, 0, 1, 7, 5, 1, 1, 102, 0, 1, 10, 6, 1, 4, 0, 16, 0, 11,
])
let warming: Promise<boolean> | undefined

/**
 * Starts the first-start child process and has it load Binaryen (≈0.7 s) and run the
 * asyncify pass once, so that a host's first start of a module that needs asyncify pays
 * only the pass; a warmed child stays for the host's life. Call it when a host starts;
 * idempotent, keeps the process alive only until the child is warm, and a failure only means the first start
 * loads Binaryen itself. Resolves when the child is warm (true), or could not be (false).
 */
export function warmInstrumentation(): Promise<boolean> {
  warming ??= firstStart.run({ bytes: TINY, opts: {}, asyncify: { imports: ['w.wait'], optimizeLevel: 0 }, warm: true }).then(() => true, () => false)
  return warming
}
