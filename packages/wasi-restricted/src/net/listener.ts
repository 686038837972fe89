// listenTcp: the spawner binds a real TCP listener on an address it chose and grants it to
// one process (createWasi's `sockets`), where it becomes a pre-opened socket fd. The server
// pauses each connection on arrival (pauseOnConnect): until the guest accepts it, the host
// reads nothing from it. Connections beyond `backlog` waiting ones are refused.

import { createServer, type Server, type Socket } from 'node:net'
import { Waiters, type Binder, type Conn, type Unwatch } from '../sockets.js'
import { formatAddr, parseAddr } from './addr.js'
import { TcpConn, type ConnStats } from './conn.js'
import { BindFailed, CapInUse } from './errors.js'
import { netLimits, type NetLimits } from './limits.js'

export interface ListenerStats {
  /** Connections waiting for the guest's accept. */
  readonly pending: number
  /** Accepted connections not yet fully closed. */
  readonly open: number
  /** Connections refused because `backlog` were already waiting. */
  readonly refused: number
  readonly accepted: number
  /** Sums over the open connections. */
  readonly bufferedIn: number
  readonly bufferedOut: number
}

export class TcpListener implements Binder {
  /** The bound address as "host:port" (the real port when the spawner asked for 0). */
  readonly address: string
  readonly limits: NetLimits
  readonly #server: Server
  #pending: Socket[] = []
  #open = new Set<TcpConn>()
  #waiters = new Waiters()
  #closed = false
  #owner: string | undefined
  #refused = 0
  #accepted = 0
  /** Settles when the listening socket is closed. */
  readonly closed: Promise<void>

  constructor(server: Server, limits: NetLimits) {
    this.#server = server
    this.limits = limits
    const a = server.address()
    this.address = typeof a === 'object' && a !== null ? formatAddr(a.address, a.port) : String(a)
    this.closed = new Promise((resolve) => server.once('close', () => resolve()))
    server.on('connection', (s) => this.#arrived(s))
    server.on('error', () => { /* a listening socket's late errors (EMFILE…) end nothing but this listener */ this.close() })
  }

  #arrived(s: Socket): void {
    s.on('error', () => s.destroy()) // a reset while waiting: never an uncaught error
    if (this.#closed || this.#pending.length >= this.limits.backlog) { this.#refused++; s.resetAndDestroy(); return }
    this.#pending.push(s)
    // A client that connects and never gets accepted still holds a backlog slot only so long.
    if (this.limits.idleTimeoutMs > 0) s.setTimeout(this.limits.idleTimeoutMs, () => s.destroy())
    s.once('close', () => { const i = this.#pending.indexOf(s); if (i >= 0) this.#pending.splice(i, 1) })
    this.#waiters.wake()
  }

  /**
   * Binds the listener to one process: a second, different claimant gets CapInUse. Called by
   * createWasi for every binder it is given, so a listener cannot serve two processes.
   */
  claim(processId: string): void {
    if (this.#owner !== undefined && this.#owner !== processId) throw new CapInUse(`listener ${this.address}`, this.#owner, processId)
    this.#owner = processId
  }

  accept(): Conn | null {
    const s = this.#pending.shift()
    if (s === undefined) return null
    s.removeAllListeners('error')
    s.removeAllListeners('close')
    const c = new TcpConn(s, this.limits)
    this.#open.add(c)
    this.#accepted++
    c.onClose(() => this.#open.delete(c))
    return c
  }
  canAccept(): boolean { return this.#pending.length > 0 || this.#closed }
  acceptable(): Promise<void> { return this.canAccept() ? Promise.resolve() : this.#waiters.wait() }
  watchAcceptable(wake: () => void): Unwatch { return this.#waiters.add(wake) }

  /** Stops listening; waiting connections get a clean close (FIN). Accepted ones belong to their fds. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#server.close()
    for (const s of this.#pending.splice(0)) { s.end(); s.resume(); setTimeout(() => s.destroy(), this.limits.lingerMs).unref() }
    this.#waiters.wake()
  }

  stats(): ListenerStats {
    let bufferedIn = 0, bufferedOut = 0
    for (const c of this.#open) { const s: ConnStats = c.stats(); bufferedIn += s.bufferedIn; bufferedOut += s.bufferedOut }
    return { pending: this.#pending.length, open: this.#open.size, refused: this.#refused, accepted: this.#accepted, bufferedIn, bufferedOut }
  }

  async [Symbol.asyncDispose](): Promise<void> { this.close(); await this.closed }
}

/**
 * Binds `addr` ("127.0.0.1:8080"; port 0 picks a free one, see `.address`) and listens.
 * Rejects with BindFailed (ERR_LIMIT) when the address is in use or not local, BadAddress
 * for a malformed one.
 */
export async function listenTcp(addr: string, limits: Partial<NetLimits> = {}, signal?: AbortSignal): Promise<TcpListener> {
  const { host, port } = parseAddr(addr)
  const l = netLimits(limits)
  signal?.throwIfAborted()
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true })
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => { signal?.removeEventListener('abort', onAbort); reject(new BindFailed(addr, e)) }
    const onAbort = (): void => { server.off('error', onError); server.close(); reject(signal!.reason) }
    server.once('error', onError)
    signal?.addEventListener('abort', onAbort, { once: true })
    server.listen({ host, port, backlog: l.backlog, exclusive: true }, () => {
      server.off('error', onError); signal?.removeEventListener('abort', onAbort); resolve()
    })
  })
  return new TcpListener(server, l)
}
