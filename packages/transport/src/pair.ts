// Two connected RpcConnections in one process (tests, benchmarks). Messages are delivered
// in order on a microtask, never re-entrantly. With `frames: true` every message goes
// through writeFrame/readFrame and is received borrowed, exercising the in-place path.

import type { Message } from 'capnp-ts'
import { RpcConnection, type MessageSink, type RpcConnectionOptions } from './rpc/connection.js'
import { frameSize, readFrame, writeFrame } from './frame.js'
import type { FrameLimits } from './limits.js'

export interface PairOptions {
  a?: RpcConnectionOptions
  b?: RpcConnectionOptions
  /** Serialize each message and receive it decoded in place (default false: pass Messages). */
  frames?: boolean
  limits?: FrameLimits
}

class PairSink implements MessageSink {
  peer!: RpcConnection
  #queue: Message[] = []
  #scheduled = false
  #closing = false
  readonly #flush = (): void => this.#deliver()

  constructor(readonly frames: boolean, readonly limits: FrameLimits | undefined) {}

  send(message: Message): void {
    this.#queue.push(message)
    if (!this.#scheduled) {
      this.#scheduled = true
      queueMicrotask(this.#flush)
    }
  }

  close(): void {
    this.#closing = true
    if (!this.#scheduled) {
      this.#scheduled = true
      queueMicrotask(this.#flush)
    }
  }

  #deliver(): void {
    this.#scheduled = false
    const q = this.#queue
    this.#queue = []
    for (const m of q) {
      try {
        if (this.frames) {
          const buf = new Uint8Array(frameSize(m))
          writeFrame(m, buf)
          const r = readFrame(buf.buffer, 0, buf.byteLength, this.limits)
          this.peer.receive(r.message, r.borrowed)
        } else {
          this.peer.receive(m, false)
        }
      } catch {
        // The receiving side has closed itself (and told its onClose); nothing to add here.
      }
    }
    if (this.#closing) this.peer.close()
  }
}

/** Two connections wired to each other: [a, b]. */
export function createPair(opts: PairOptions = {}): [RpcConnection, RpcConnection] {
  const sa = new PairSink(opts.frames ?? false, opts.limits)
  const sb = new PairSink(opts.frames ?? false, opts.limits)
  const a = new RpcConnection(sa, { name: 'a', ...opts.a })
  const b = new RpcConnection(sb, { name: 'b', ...opts.b })
  sa.peer = b
  sb.peer = a
  return [a, b]
}
