// A guest's stdout/stderr across threads: in the worker an OutputSink that posts each
// record through a MessagePort; on the main thread a pump that writes them, in order,
// into the spawner's real sinks. Backpressure holds across the hop: the worker's sink
// refuses (the guest parks in fd_write, as on a full local sink) while WINDOW_BYTES or
// more are posted and not yet taken by the real sink.

import type { MessagePort } from 'node:worker_threads'
import type { OutputRecord, OutputSink } from '@ww/wasi-restricted'

/** Bytes in flight (posted, not yet taken by the real sink) before the worker's sink refuses. */
export const WINDOW_BYTES = 64 * 1024

/** Port messages, worker → main thread. */
type Out = { t: 'out'; processId: string; fd: 1 | 2; bytes: Uint8Array } | { t: 'end' }
/** Port messages, main thread → worker: bytes taken. */
type Ack = { t: 'ack'; n: number }

/** The worker's side: an OutputSink whose records go through `port`. */
export class PortSink implements OutputSink {
  readonly #port: MessagePort
  #inflight = 0
  #waiters: Array<() => void> = []
  #ended = false

  constructor(port: MessagePort) {
    this.#port = port
    port.on('message', (m: Ack) => {
      this.#inflight -= m.n
      if (this.#inflight < WINDOW_BYTES) for (const w of this.#waiters.splice(0)) w()
    })
    // Nobody reads any more (the main thread closed its end): take and drop, never park the guest.
    port.on('close', () => {
      this.#ended = true
      for (const w of this.#waiters.splice(0)) w()
    })
  }

  write(r: OutputRecord): boolean {
    if (this.#ended) return true // the process has ended: nothing reads its output any more
    const n = r.bytes.byteLength
    // Taken while the window is not full (so one record larger than the window cannot
    // stall forever); refused exactly when writable() would wait.
    if (this.#inflight >= WINDOW_BYTES) return false
    this.#inflight += n
    // The record's bytes were copied out of the guest for this record: move them, unless
    // they are a view into something larger (then the clone copies just them).
    const own = r.bytes.byteOffset === 0 && r.bytes.byteLength === r.bytes.buffer.byteLength && !(r.bytes.buffer instanceof SharedArrayBuffer)
    this.#port.postMessage({ t: 'out', processId: r.processId, fd: r.fd, bytes: r.bytes } satisfies Out, own ? [r.bytes.buffer as ArrayBuffer] : [])
    return true
  }

  writable(): Promise<void> {
    if (this.#ended || this.#inflight < WINDOW_BYTES) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  /** The process ended: tell the main thread that no more records follow (it closes the port). */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    for (const w of this.#waiters.splice(0)) w()
    this.#port.postMessage({ t: 'end' } satisfies Out)
  }
}

/**
 * The main thread's side: writes the records that come through `port` into `stdout` /
 * `stderr` (a missing one discards), waiting on a full sink before taking more. Settles
 * once the worker said the output ended, or its side of the port is gone (a crashed
 * worker), and closes the port.
 */
export function pumpOutput(port: MessagePort, sinks: { stdout?: OutputSink | undefined; stderr?: OutputSink | undefined }): Promise<void> {
  return new Promise<void>((resolve) => {
    let chain = Promise.resolve()
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      void chain.then(() => { port.close(); resolve() })
    }
    port.on('message', (m: Out) => {
      if (m.t === 'end') { finish(); return }
      const sink = m.fd === 1 ? sinks.stdout : sinks.stderr
      const record: OutputRecord = { processId: m.processId, fd: m.fd, bytes: m.bytes }
      chain = chain.then(async () => {
        if (sink !== undefined) while (!sink.write(record)) await sink.writable()
        if (!done) port.postMessage({ t: 'ack', n: m.bytes.byteLength } satisfies Ack)
      }).catch(() => undefined) // a sink that throws loses this record, not the ones after it
    })
    port.on('close', finish)
  })
}
