// RpcConnection over a Node Duplex with standard capnp stream framing. Frames are
// decoded in place from the received chunk when they lie whole inside it (8-byte
// aligned); a frame split across chunks is assembled once. A bad frame aborts the
// connection with its typed error (an Abort message goes out first).

import type { Duplex } from 'node:stream'
import type { Message } from 'capnp-ts'
import { RpcConnection, type MessageSink, type RpcConnectionOptions } from './rpc/connection.js'
import { frameLength, frameSize, readFrame, writeFrame } from './frame.js'
import { DEFAULT_LIMITS, type FrameLimits } from './limits.js'
import { ConnectionClosedError, TransportError } from './errors.js'

export interface StreamOptions extends RpcConnectionOptions {
  limits?: FrameLimits
}

class StreamSink implements MessageSink {
  #corked = false
  constructor(readonly duplex: Duplex) {}

  send(message: Message): void {
    if (this.duplex.destroyed || this.duplex.writableEnded) return
    const buf = Buffer.allocUnsafe(frameSize(message))
    writeFrame(message, buf)
    // Batch the messages of one tick into one write.
    if (!this.#corked) {
      this.#corked = true
      this.duplex.cork()
      queueMicrotask(() => { this.#corked = false; this.duplex.uncork() })
    }
    this.duplex.write(buf)
  }

  close(): void {
    if (!this.duplex.writableEnded) this.duplex.end()
  }
}

/** Run an RpcConnection over `duplex`. The connection closes when the stream ends or fails. */
export function connectStream(duplex: Duplex, opts: StreamOptions = {}): RpcConnection {
  const limits = opts.limits ?? DEFAULT_LIMITS
  const conn = new RpcConnection(new StreamSink(duplex), opts)
  // An unfinished frame's chunks, joined once when the whole frame is there.
  let parts: Buffer[] = []
  let have = 0
  let need = 0

  const take = (chunk: Buffer): void => {
    let buf = chunk
    if (parts.length > 0) {
      parts.push(chunk)
      have += chunk.byteLength
      if (need === 0) need = frameLength(Buffer.concat(parts, Math.min(have, 4 + 4 * limits.maxSegments + 4)), limits) ?? 0
      if (need === 0 || have < need) return
      buf = Buffer.concat(parts, have)
      parts = []
      have = 0
      need = 0
    }
    let pos = 0
    {
      while (!conn.closed) {
        const rest = buf.subarray(pos)
        const len = frameLength(rest, limits)
        if (len === undefined || len > rest.byteLength) {
          if (rest.byteLength > 0) {
            parts = [Buffer.from(rest)]
            have = rest.byteLength
            need = len ?? 0
          }
          break
        }
        const r = readFrame(buf.buffer as ArrayBuffer, buf.byteOffset + pos, len, limits)
        pos += r.bytes
        conn.receive(r.message, r.borrowed)
      }
    }
  }
  const onData = (chunk: Buffer): void => {
    try {
      take(chunk)
    } catch (e) {
      if (!conn.closed) conn.close(e instanceof TransportError ? e : new TransportError('ERR_BAD_FRAME', String(e)))
      duplex.removeListener('data', onData)
    }
  }

  duplex.on('data', onData)
  duplex.once('end', () => conn.close())
  duplex.once('close', () => conn.close())
  duplex.on('error', (e: Error) => conn.close(new ConnectionClosedError(`stream failed: ${e.message}`, { cause: e })))
  return conn
}
