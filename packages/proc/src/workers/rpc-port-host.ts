// The main-thread end of a worker guest's RPC: a real RpcConnection whose wire is a
// MessagePort. Frames from the guest arrive in buffers transferred to this thread and are
// decoded in place (they are ours now); replies are serialized once into a buffer that
// is transferred to the worker and written into guest memory at `ww.recv`.

import type { MessagePort } from 'node:worker_threads'
import { DEFAULT_LIMITS, RpcConnection, frameSize, readFrame, writeFrame, type FrameLimits, type MessageSink, type RpcConnectionOptions } from '@ww/transport'
import { serializeError } from './protocol.js'
import type { GuestToHost, HostToGuest } from './rpc-port-guest.js'

export interface PortRpcOptions {
  /** The capability the guest's Bootstrap receives. */
  bootstrap: NonNullable<RpcConnectionOptions['bootstrap']>
  name?: string
  limits?: FrameLimits
  /** Called once when the connection ends. */
  onClose?: (reason?: Error) => void
}

class PortSink implements MessageSink {
  #open = true
  constructor(readonly port: MessagePort) {}

  send(message: Parameters<MessageSink['send']>[0]): void {
    if (!this.#open) return
    const bytes = new Uint8Array(frameSize(message))
    writeFrame(message, bytes)
    this.port.postMessage({ t: 'frame', bytes } satisfies HostToGuest, [bytes.buffer])
  }

  close(reason?: Error): void {
    if (!this.#open) return
    this.#open = false
    this.port.postMessage((reason ? { t: 'abort', error: serializeError(reason) } : { t: 'end' }) satisfies HostToGuest)
  }
}

/** Serves `opts.bootstrap` to the guest at the other end of `port`. */
export function servePort(port: MessagePort, opts: PortRpcOptions): RpcConnection {
  const limits = opts.limits ?? DEFAULT_LIMITS
  const sink = new PortSink(port)
  const conn = new RpcConnection(sink, {
    bootstrap: opts.bootstrap,
    name: opts.name ?? 'worker guest',
    onClose: (reason) => {
      // Let the abort or end message go out before the port closes.
      setImmediate(() => port.close())
      opts.onClose?.(reason)
    },
  })
  // The worker's end went away (the guest ended, its worker crashed or was terminated).
  port.on('close', () => conn.close())
  port.on('message', (m: GuestToHost) => {
    if (m.t === 'end') {
      conn.close()
      return
    }
    try {
      const r = readFrame(m.bytes.buffer as ArrayBuffer, m.bytes.byteOffset, m.bytes.byteLength, limits)
      conn.receive(r.message, r.borrowed)
    } catch (e) {
      // receive() closed the connection with the typed reason (the guest gets an abort);
      // a frame that fails to decode here was checked in the worker already, but say why.
      if (!conn.closed) conn.close(e instanceof Error ? e : new Error(String(e)))
    }
  })
  return conn
}
