// meterModule on worker threads, started on first use and kept (Binaryen loaded once),
// unref'd while idle so they never keep a process alive. Two of them: one for the builds
// someone waits for, one for background builds (the -O2 upgrade), so a slow upgrade never
// queues ahead of another module's first start. If the foreground worker cannot start (or
// dies), what it had runs on this thread: slower for the event loop, same result.

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
  | { id: number; bytes: Uint8Array; info: MeterInfo | undefined; error?: undefined }
  | { id: number; error: { name: string; code: string | undefined; message: string } }

type Result = { bytes: Uint8Array; info: MeterInfo | undefined }

/** Runs a job on this thread (the worker's body, and the fallback where no worker runs). */
export function runJob(req: Omit<MeterRequest, 'id'>): Promise<Result> {
  if (req.asyncify !== undefined) return asyncifyOnly(req.bytes, req.asyncify.imports, req.asyncify.optimizeLevel).then((bytes) => ({ bytes, info: undefined }))
  return meterModule(req.bytes, req.opts)
}
type Pending = { req: MeterRequest; resolve: (r: Result) => void; reject: (e: unknown) => void }

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
  #worker: Worker | undefined
  #nextId = 1
  readonly #pending = new Map<number, Pending>()

  /** `keepAlive`: the process waits for these jobs; else they are dropped when it exits. */
  constructor(private readonly keepAlive: boolean) {}

  run(job: Omit<MeterRequest, 'id'>): Promise<Result> {
    const warm = job.warm === true
    let w: Worker
    try {
      w = this.#worker ??= this.#start()
    } catch (e) {
      return this.keepAlive && !warm ? runJob(job) : Promise.reject(e)
    }
    const req: MeterRequest = { id: this.#nextId++, ...job }
    return new Promise((resolve, reject) => {
      this.#pending.set(req.id, { req, resolve, reject })
      // A warm-up never keeps the process alive: nobody waits for its result.
      if (this.keepAlive && !warm) w.ref()
      w.postMessage(req)
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
    for (const p of this.#pending.values()) if (p.req.warm !== true) return true
    return false
  }

  #start(): Worker {
    const w = new Worker(workerUrl(), { execArgv: workerExecArgv() })
    w.unref()
    w.on('message', (r: MeterReply) => {
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
    w.on('error', gone)
    w.on('exit', gone)
    return w
  }
}

const foreground = new MeterWorker(true)
const background = new MeterWorker(false)

/** meterModule(bytes, opts) on a worker thread; a `background` job never keeps the process alive. */
export function meterOffThread(bytes: Uint8Array, opts: MeterOptions, inBackground = false): Promise<{ bytes: Uint8Array; info: MeterInfo }> {
  return (inBackground ? background : foreground).run({ bytes, opts }) as Promise<{ bytes: Uint8Array; info: MeterInfo }>
}

/** asyncifyOnly(bytes, imports, optimizeLevel) on the foreground worker. */
export async function asyncifyOffThread(bytes: Uint8Array, imports: readonly string[], optimizeLevel: number): Promise<Uint8Array> {
  return (await foreground.run({ bytes, opts: {}, asyncify: { imports, optimizeLevel } })).bytes
}

/** Starts the foreground worker and its load of Binaryen (≈0.7 s), for a job that follows soon. */
export function startInstrumentationWorker(): void {
  foreground.start()
}

// One function that waits in an import, so the warm-up runs metering and asyncify both:
// (module (import "w" "wait" (func)) (memory 1) (func (export "f") call 0))
const TINY = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 2, 10, 1, 1, 119, 4, 119, 97, 105, 116, 0, 0, 3, 2, 1, 0,
  5, 3, 1, 0, 1, 7, 5, 1, 1, 102, 0, 1, 10, 6, 1, 4, 0, 16, 0, 11,
])
let warming: Promise<boolean> | undefined

/**
 * Starts the instrumentation worker and has it load Binaryen (≈0.5 s) and run the pass once,
 * so that a host's first start of a module that needs instrumenting pays only the pass.
 * Call it when a host starts; idempotent, never keeps the process alive, and a failure
 * only means the first start loads Binaryen itself. Resolves when the worker is warm
 * (true), or could not be (false: no worker thread, or the pass failed there).
 */
export function warmInstrumentation(): Promise<boolean> {
  warming ??= foreground.run({ bytes: TINY, opts: { asyncify: { imports: ['w.wait'] }, optimizeLevel: 0 }, warm: true }).then((r) => r.info?.asyncified === true, () => false)
  return warming
}
