// Capnp stream frames out of the chunks of a byte stream (a socket, a libp2p stream):
// frames that lie whole inside a chunk are decoded in place (borrowed: valid until the
// receiver returns); a frame split across chunks is joined once, when all of it is there.
// Shared by connectStream (a Node Duplex) and @ww/host's libp2p streams.

import type { Message } from 'capnp-ts'
import { frameLength, readFrame } from './frame.js'
import { DEFAULT_LIMITS, type FrameLimits } from './limits.js'

/** Where frames go: an RpcConnection (it stops taking them once closed). */
export interface FrameReceiver {
  readonly closed: boolean
  receive(message: Message, borrowed: boolean): void
}

export class FrameReader {
  readonly #to: FrameReceiver
  readonly #limits: FrameLimits
  /** The longest a frame header can be: enough bytes to learn a frame's length. */
  readonly #headerMax: number
  /** An unfinished frame's chunks. */
  #parts: Uint8Array[] = []
  #have = 0
  #need = 0

  constructor(to: FrameReceiver, limits: FrameLimits = DEFAULT_LIMITS) {
    this.#to = to
    this.#limits = limits
    this.#headerMax = 4 + 4 * limits.maxSegments + 4
  }

  /**
   * Takes one chunk: every frame it completes goes to the receiver. The chunk must not
   * change afterwards (a socket's 'data' and a libp2p stream's messages do not): an
   * unfinished frame's chunks are kept until it is whole. Throws TransportError
   * (ERR_BAD_FRAME, ERR_LIMIT…) on a bad frame.
   */
  push(chunk: Uint8Array): void {
    let buf = chunk
    if (this.#parts.length > 0) {
      this.#parts.push(chunk)
      this.#have += chunk.byteLength
      if (this.#need === 0) this.#need = frameLength(concat(this.#parts, Math.min(this.#have, this.#headerMax)), this.#limits) ?? 0
      if (this.#need === 0 || this.#have < this.#need) return
      buf = concat(this.#parts, this.#have)
      this.#parts = []
      this.#have = 0
      this.#need = 0
    }
    let pos = 0
    while (!this.#to.closed && pos < buf.byteLength) {
      const rest = buf.subarray(pos)
      const len = frameLength(rest, this.#limits)
      if (len === undefined || len > rest.byteLength) {
        this.#parts = [new Uint8Array(rest)] // a copy, so the chunk it came from is not held whole
        this.#have = rest.byteLength
        this.#need = len ?? 0
        return
      }
      const r = readFrame(buf.buffer as ArrayBuffer, buf.byteOffset + pos, len, this.#limits)
      pos += r.bytes
      this.#to.receive(r.message, r.borrowed)
    }
  }
}

/** The first `total` bytes of `parts`, joined. */
function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total)
  let at = 0
  for (const p of parts) {
    if (at + p.byteLength > total) { out.set(p.subarray(0, total - at), at); break }
    out.set(p, at)
    at += p.byteLength
  }
  return out
}
