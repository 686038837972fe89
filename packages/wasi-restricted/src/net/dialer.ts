// dialerFor: an outbound capability attenuated to the destinations it names. A dial to any
// other address is refused with CapDenied before anything touches the network (no DNS
// lookup, no packet); names are compared literally, as schemas/net.capnp says, so a
// dialer granted "127.0.0.1:80" does not reach "localhost:80". `restrict` only narrows.

import { connect } from 'node:net'
import { parseAddr } from './addr.js'
import { TcpConn } from './conn.js'
import { CapDenied, AddressUnreachable, NetTimeout } from './errors.js'
import { netLimits, type NetLimits } from './limits.js'

export interface DialOptions {
  signal?: AbortSignal
  /** Default: the dialer's connectTimeoutMs. */
  timeoutMs?: number
}

export interface Dialer {
  /** The destinations this dialer may reach, as granted. */
  readonly allowed: readonly string[]
  /** A connection to `addr`, which must be one of `allowed` (else CapDenied). */
  dial(addr: string, opts?: DialOptions): Promise<TcpConn>
  /** A dialer allowed only `addrs`, each already allowed here (else CapDenied: never widens). */
  restrict(addrs: readonly string[]): Dialer
}

class TcpDialer implements Dialer {
  readonly allowed: readonly string[]
  readonly #set: ReadonlySet<string>
  constructor(allowed: readonly string[], readonly limits: NetLimits) {
    for (const a of allowed) parseAddr(a) // BadAddress for a malformed grant, at grant time
    this.allowed = Object.freeze([...new Set(allowed)])
    this.#set = new Set(this.allowed)
  }

  restrict(addrs: readonly string[]): Dialer {
    for (const a of addrs) if (!this.#set.has(a)) throw new CapDenied(a)
    return new TcpDialer(addrs, this.limits)
  }

  async dial(addr: string, opts: DialOptions = {}): Promise<TcpConn> {
    if (!this.#set.has(addr)) throw new CapDenied(addr)
    const { host, port } = parseAddr(addr)
    opts.signal?.throwIfAborted()
    const ms = opts.timeoutMs ?? this.limits.connectTimeoutMs
    const socket = connect({ host, port, allowHalfOpen: true })
    socket.pause()
    try {
      await new Promise<void>((resolve, reject) => {
        const done = (e?: unknown): void => {
          clearTimeout(timer)
          socket.off('connect', onConnect); socket.off('error', onError)
          opts.signal?.removeEventListener('abort', onAbort)
          if (e === undefined) resolve(); else reject(e)
        }
        const onConnect = (): void => done()
        const onAbort = (): void => done(opts.signal!.reason)
        const onError = (e: Error): void => done(new AddressUnreachable(addr, e))
        const timer = setTimeout(() => done(new NetTimeout(addr, ms)), ms)
        socket.once('connect', onConnect)
        socket.once('error', onError)
        opts.signal?.addEventListener('abort', onAbort, { once: true })
      })
    } catch (e) {
      socket.on('error', () => {}) // late errors of a socket we gave up on
      socket.destroy()
      throw e
    }
    return new TcpConn(socket, this.limits)
  }
}

/** A dialer for exactly `allowed` ("host:port" each; BadAddress otherwise). */
export function dialerFor(allowed: readonly string[], limits: Partial<NetLimits> = {}): Dialer {
  return new TcpDialer(allowed, netLimits(limits))
}
