// An RpcConnection straight over a js-libp2p Stream, without a Node Duplex in between.
//
// Why: host.rpc measured the Duplex adapter (stream.ts: Writable cork/uncork/_writev and
// Readable push/'data' on top of the libp2p stream's own buffering) at ~5 µs CPU of a
// ~58 µs host-to-host null call. This does what connectStream(streamDuplex(stream)) does
// with the libp2p stream's own events:
// - out: the frames sent until the pending microtasks have run go out as one `send` (one
//   yamux frame: a call's Finish and the next call made on its answer travel together);
//   when `send` answers false (the muxer's buffer is full) frames wait here until 'drain';
// - in: @ww/transport's FrameReader, as connectStream: frames decoded in place from each
//   received chunk when they lie whole inside it (a small chunk off an 8-byte boundary is
//   first copied to one that is: AlignedSlab), a frame split across chunks joined once; a bad
//   frame closes the connection with its typed error;
// - the remote closing its end, or the stream closing or failing, closes the connection;
//   closing the connection closes the stream (gracefully: what was sent is delivered).

import type { Stream } from '@libp2p/interface'
import {
  ConnectionClosedError, DEFAULT_LIMITS, FrameReader, RpcConnection, TransportError, frameSize, writeFrame,
  type FrameLimits, type MessageSink, type RpcConnectionOptions,
} from '@ww/transport'
import { skipUnheardEvents } from '../cluster/unheard-events.js'

type Message = Parameters<MessageSink['send']>[0]

export interface Libp2pRpcOptions extends RpcConnectionOptions {
  limits?: FrameLimits
  /** How the adapter meets the stream (measured in host.rpc; all on by default). */
  tuning?: StreamTuning
}

/** How the /ww/rpc/1.0.0 adapter meets the libp2p stream: each lever measured in host.rpc (bench/README.md). */
export interface StreamTuning {
  /**
   * Copy a received chunk that does not start on an 8-byte boundary (noise decrypts in
   * place, behind its 2-byte length and yamux's 12-byte header) into an aligned slab, so
   * its frames decode in place; otherwise each frame is copied into its own ArrayBuffer
   * (with its own DataView). Default true.
   */
  alignChunks?: boolean
  /**
   * When the frames sent so far leave as one stream send: 'tick' — once the current
   * microtasks have run (process.nextTick), so a call's Finish and the next call issued on
   * its answer are one yamux frame; 'microtask' — per microtask. Default 'tick'.
   */
  gather?: 'tick' | 'microtask'
  /** The stream builds no event nobody listens to (cluster/unheard-events.ts). Default true. */
  skipUnheardEvents?: boolean
}

const writable = (s: Stream): boolean => s.writeStatus === 'writable'

class StreamSink implements MessageSink {
  #parts: Uint8Array[] = []
  #bytes = 0
  #scheduled = false
  #full = false // the last send answered false: wait for 'drain'
  readonly #schedule: (f: () => void) => void

  constructor(readonly stream: Stream, gather: 'tick' | 'microtask') {
    // A tick scheduled outside a microtask runs before the pending microtasks: scheduled
    // from one, it runs once they all have.
    this.#schedule = gather === 'tick' ? (f) => { queueMicrotask(() => { process.nextTick(f) }) } : queueMicrotask
    stream.addEventListener('drain', () => { this.#full = false; this.#flush() })
  }

  send(message: Message): void {
    if (!writable(this.stream)) return
    // From Buffer's pool: a frame is ~100 bytes, and a Uint8Array of its own would be an
    // ArrayBuffer of its own (host.rpc: fewer allocations, less GC).
    const buf = Buffer.allocUnsafe(frameSize(message))
    writeFrame(message, buf)
    this.#parts.push(buf)
    this.#bytes += buf.byteLength
    if (!this.#scheduled && !this.#full) {
      this.#scheduled = true
      this.#schedule(this.#flush)
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
  if (opts.tuning?.skipUnheardEvents !== false) skipUnheardEvents(stream)
  const conn = new RpcConnection(new StreamSink(stream, opts.tuning?.gather ?? 'tick'), opts)
  const frames = new FrameReader(conn, opts.limits ?? DEFAULT_LIMITS)
  const slab = opts.tuning?.alignChunks === false ? undefined : new AlignedSlab()
  const onMessage = (e: { data: Uint8Array | Iterable<Uint8Array> }): void => {
    try {
      if (e.data instanceof Uint8Array) frames.push(slab ? slab.aligned(e.data) : e.data)
      else for (const part of e.data) frames.push(slab ? slab.aligned(part) : part)
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

/**
 * Aligned copies of small chunks, carved one after another from 64 KiB slabs. A slab is
 * never written twice: a chunk handed on may be kept (FrameReader keeps the chunks of a
 * frame split across chunks) and stays valid; a slab is collected with its last chunk.
 */
export class AlignedSlab {
  static readonly SIZE = 64 * 1024
  /**
   * Larger chunks pass as they are: mostly parts of large frames, which FrameReader joins
   * (a copy) anyway, and where one more copy would cost more than the per-frame ArrayBuffer.
   */
  static readonly MAX_COPY = 4096
  #slab = new Uint8Array(0)
  #at = 0

  /** `chunk` itself when it starts on an 8-byte boundary or is over MAX_COPY, else an aligned copy. */
  aligned(chunk: Uint8Array): Uint8Array {
    const n = chunk.byteLength
    if ((chunk.byteOffset & 7) === 0 || n > AlignedSlab.MAX_COPY) return chunk
    if (this.#at + n > this.#slab.byteLength) { this.#slab = new Uint8Array(AlignedSlab.SIZE); this.#at = 0 }
    const out = this.#slab.subarray(this.#at, this.#at + n)
    out.set(chunk)
    this.#at = (this.#at + n + 7) & ~7
    return out
  }
}
