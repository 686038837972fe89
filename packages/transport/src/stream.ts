// RpcConnection over a Node Duplex with standard capnp stream framing (FrameReader:
// frames decoded in place from the received chunk when they lie whole inside it, a frame
// split across chunks assembled once). A bad frame aborts the connection with its typed
// error (an Abort message goes out first).

import type { Duplex } from 'node:stream'
import type { Message } from 'capnp-ts'
import { RpcConnection, type MessageSink, type RpcConnectionOptions } from './rpc/connection.js'
import { frameSize, writeFrame } from './frame.js'
import { FrameReader } from './frame-reader.js'
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
  const frames = new FrameReader(conn, limits)
  const onData = (chunk: Buffer): void => {
    try {
      frames.push(chunk)
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
