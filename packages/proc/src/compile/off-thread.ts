// meterModule on a worker thread, started on first use and kept (Binaryen loaded once),
// unref'd while idle so it never keeps a process alive. If the worker cannot start (or
// dies), what it had runs on this thread: slower for the event loop, same result.

import { Worker } from 'node:worker_threads'
import { BadModuleError, ModuleTooLargeError } from '../errors.js'
import { meterModule, type MeterInfo, type MeterOptions } from '../meter/pass.js'

export interface MeterRequest { id: number; bytes: Uint8Array; opts: MeterOptions }
export type MeterReply =
  | { id: number; bytes: Uint8Array; info: MeterInfo; error?: undefined }
  | { id: number; error: { name: string; code: string | undefined; message: string } }

type Pending = { req: MeterRequest; resolve: (r: { bytes: Uint8Array; info: MeterInfo }) => void; reject: (e: unknown) => void }

let worker: Worker | undefined
let nextId = 1
const pending = new Map<number, Pending>()

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

/** The worker is gone (it could not start, or died): what it had runs here instead. */
function onThisThread(): void {
  for (const p of pending.values()) meterModule(p.req.bytes, p.req.opts).then(p.resolve, p.reject)
  pending.clear()
}

function start(): Worker {
  const w = new Worker(workerUrl())
  w.unref()
  w.on('message', (r: MeterReply) => {
    const p = pending.get(r.id)
    if (p === undefined) return
    pending.delete(r.id)
    if (pending.size === 0) w.unref()
    if (r.error !== undefined) p.reject(revive(r.error))
    else p.resolve({ bytes: r.bytes, info: r.info })
  })
  const gone = (): void => {
    if (worker === w) worker = undefined
    onThisThread()
  }
  w.on('error', gone)
  w.on('exit', gone)
  return w
}

/** meterModule(bytes, opts), run on the metering worker. */
export function meterOffThread(bytes: Uint8Array, opts: MeterOptions): Promise<{ bytes: Uint8Array; info: MeterInfo }> {
  let w: Worker
  try {
    w = worker ??= start()
  } catch {
    return meterModule(bytes, opts)
  }
  const id = nextId++
  const req: MeterRequest = { id, bytes, opts }
  return new Promise((resolve, reject) => {
    pending.set(id, { req, resolve, reject })
    w.ref()
    w.postMessage(req)
  })
}
