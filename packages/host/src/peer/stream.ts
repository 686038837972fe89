// A js-libp2p 3.x Stream as a Node Duplex (e.g. for @ww/transport's connectStream).
// Host-to-host RPC no longer runs over it by default — rpc-stream.ts speaks RpcConnection
// on the libp2p stream directly; `rpc: { viaDuplex: true }` selects this path.
//
// libp2p 3 streams are event based: 'message' carries a Uint8Array or a Uint8ArrayList,
// `send()` returns false once the muxer's buffer is full (then wait for 'drain' /
// `onDrain()`), `pause()`/`resume()` hold incoming data back (the muxer tells the remote
// to stop sending), and 'close' ends the stream, with `error` set when it was reset or
// aborted. Backpressure both ways:
// - inbound: a chunk the Duplex's read buffer does not take (push → false) pauses the
//   libp2p stream until Node asks for more (_read → resume);
// - outbound: a write completes once libp2p accepted the bytes; when send() said "full",
//   the write callback waits for the drain, so Node's writable buffer fills and
//   `write()` returns false to whoever writes.
// Chunks are handed over without copying (Buffer views on the same bytes); writes corked
// together (connectStream batches one tick's frames) go out as one send.

import { Duplex } from 'node:stream'
import type { Stream } from '@libp2p/interface'

type Chunk = Uint8Array | { [Symbol.iterator](): Iterator<Uint8Array>; byteLength: number }

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength)

export class Libp2pDuplex extends Duplex {
  readonly stream: Stream
  #paused = false

  constructor(stream: Stream) {
    super({ allowHalfOpen: false, decodeStrings: true })
    this.stream = stream
    stream.addEventListener('message', this.#onMessage)
    stream.addEventListener('remoteCloseWrite', this.#onRemoteEnd)
    stream.addEventListener('close', this.#onClose)
    // Listeners attached after the stream already finished would wait forever.
    if (stream.status !== 'open') queueMicrotask(() => this.#finish(undefined))
  }

  readonly #onMessage = (e: { data: Chunk }): void => {
    let more = true
    if (e.data instanceof Uint8Array) more = this.push(asBuffer(e.data))
    else for (const part of e.data) more = this.push(asBuffer(part))
    if (!more && !this.#paused) {
      this.#paused = true
      this.stream.pause()
    }
  }

  readonly #onRemoteEnd = (): void => { this.push(null) }

  readonly #onClose = (e: { error?: Error }): void => { this.#finish(e.error) }

  #finish(error: Error | undefined): void {
    this.#detach()
    if (error !== undefined) { this.destroy(error); return }
    this.push(null)
    this.destroy()
  }

  #detach(): void {
    this.stream.removeEventListener('message', this.#onMessage)
    this.stream.removeEventListener('remoteCloseWrite', this.#onRemoteEnd)
    this.stream.removeEventListener('close', this.#onClose)
  }

  override _read(): void {
    if (this.#paused) {
      this.#paused = false
      this.stream.resume()
    }
  }

  #send(data: Uint8Array, cb: (e?: Error | null) => void): void {
    try {
      if (this.stream.send(data)) { cb(); return }
    } catch (e) {
      cb(e as Error)
      return
    }
    this.stream.onDrain().then(() => cb(), (e: unknown) => cb(e instanceof Error ? e : new Error(String(e))))
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.#send(chunk, cb)
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (e?: Error | null) => void): void {
    this.#send(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), cb)
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.stream.close().then(() => cb(), (e: unknown) => cb(e instanceof Error ? e : new Error(String(e))))
  }

  override _destroy(error: Error | null, cb: (e?: Error | null) => void): void {
    this.#detach()
    // A destroyed Duplex must not leave the libp2p stream open: reset it on error, else
    // close it (flushing what was sent).
    if (this.stream.status === 'open' || this.stream.status === 'closing') {
      if (error) this.stream.abort(error)
      else this.stream.close().catch((e: unknown) => this.stream.abort(e instanceof Error ? e : new Error(String(e))))
    }
    cb(error)
  }
}

/** The Duplex over a libp2p stream (see Libp2pDuplex). */
export function streamDuplex(stream: Stream): Libp2pDuplex {
  return new Libp2pDuplex(stream)
}
