// An RpcConnection straight over a js-libp2p Stream, without a Node Duplex in between.
//
// Why: host.rpc measured the Duplex adapter (stream.ts: Writable cork/uncork/_writev and
// Readable push/'data' on top of the libp2p stream's own buffering) at ~5 µs CPU of a
// ~58 µs host-to-host null call. This does what connectStream(streamDuplex(stream)) does
// with the libp2p stream's own events:
// - out: the frames of one microtask go out as one `send` (one yamux frame); when `send`
//   answers false (the muxer's buffer is full) frames wait here until 'drain';
// - in: @ww/transport's FrameReader, as connectStream: frames decoded in place from each
//   received chunk when they lie whole inside it, a frame split across chunks joined
//   once; a bad frame closes the connection with its typed error;
// - the remote closing its end, or the stream closing or failing, closes the connection;
//   closing the connection closes the stream (gracefully: what was sent is delivered).

import type { Stream } from '@libp2p/interface'
import {
  ConnectionClosedError, DEFAULT_LIMITS, FrameReader, RpcConnection, TransportError, frameSize, writeFrame,
  type FrameLimits, type MessageSink, type RpcConnectionOptions,
} from '@ww/transport'

type Message = Parameters<MessageSink['send']>[0]

export interface Libp2pRpcOptions extends RpcConnectionOptions {
  limits?: FrameLimits
}

const writable = (s: Stream): boolean => s.writeStatus === 'writable'

class StreamSink implements MessageSink {
  #parts: Uint8Array[] = []
  #bytes = 0
  #scheduled = false
  #full = false // the last send answered false: wait for 'drain'

  constructor(readonly stream: Stream) {
    stream.addEventListener('drain', () => { this.#full = false; this.#flush() })
  }

  send(message: Message): void {
    if (!writable(this.stream)) return
    const buf = new Uint8Array(frameSize(message))
    writeFrame(message, buf)
    this.#parts.push(buf)
    this.#bytes += buf.byteLength
    if (!this.#scheduled && !this.#full) {
      this.#scheduled = true
      queueMicrotask(this.#flush)
    }
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    if (this.#full || this.#parts.length === 0) return
    const parts = this.#parts
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.#bytes)
    this.#parts = []
    this.#bytes = 0
    if (!writable(this.stream)) return
    try {
      this.#full = !this.stream.send(data)
    } catch (e) {
      this.stream.abort(e instanceof Error ? e : new Error(String(e)))
    }
  }

  close(): void {
    this.#full = false
    this.#flush()
    if (!writable(this.stream)) return
    this.stream.close().catch((e: unknown) => this.stream.abort(e instanceof Error ? e : new Error(String(e))))
  }
}

/** Runs an RpcConnection over `stream`; it closes when the stream ends or fails. */
export function connectLibp2pStream(stream: Stream, opts: Libp2pRpcOptions = {}): RpcConnection {
  const conn = new RpcConnection(new StreamSink(stream), opts)
  const frames = new FrameReader(conn, opts.limits ?? DEFAULT_LIMITS)
  const onMessage = (e: { data: Uint8Array | Iterable<Uint8Array> }): void => {
    try {
      if (e.data instanceof Uint8Array) frames.push(e.data)
      else for (const part of e.data) frames.push(part)
    } catch (err) {
      if (!conn.closed) conn.close(err instanceof TransportError ? err : new TransportError('ERR_BAD_FRAME', String(err)))
      detach()
    }
  }
  const onRemoteEnd = (): void => { conn.close() }
  const onClose = (e: { error?: Error }): void => {
    detach()
    conn.close(e.error === undefined ? undefined : new ConnectionClosedError(`stream failed: ${e.error.message}`, { cause: e.error }))
  }
  const detach = (): void => {
    stream.removeEventListener('message', onMessage)
    stream.removeEventListener('remoteCloseWrite', onRemoteEnd)
    stream.removeEventListener('close', onClose)
  }
  stream.addEventListener('message', onMessage)
  stream.addEventListener('remoteCloseWrite', onRemoteEnd)
  stream.addEventListener('close', onClose)
  // Listeners attached after the stream already finished would wait forever.
  if (stream.status !== 'open') queueMicrotask(() => onClose({}))
  return conn
}
