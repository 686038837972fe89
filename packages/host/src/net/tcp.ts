// Outbound TCP for the Dialer capability (schemas/net.capnp): an allow-list of literal
// "host:port" destinations, and a connection with bounded buffering both ways. Reads pull
// from a buffer of at most `bufferBytes` (the socket is paused when it is full, so a slow
// reader pauses the peer through TCP flow control); writes wait while the socket's send
// buffer is over its high-water mark.

import net from 'node:net'
import { CapDeniedError, ClosedError, HostUnreachableError, InvalidArgumentError, QueueFullError } from '../errors.js'
import { bounded, type CallOptions } from '../util/abort.js'

export interface Destination { readonly host: string; readonly port: number }

/** Parses "host:port" or "[v6]:port" (what net.capnp calls an address); port 0 only to bind (`anyPort`). */
export function parseAddr(addr: string, anyPort = false): Destination {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(addr)
  const port = m ? Number(m[3]) : NaN
  if (!m || !((port > 0 || (anyPort && port === 0)) && port < 65536)) throw new InvalidArgumentError(`not a host:port address: ${JSON.stringify(addr)}`)
  return { host: m[1] ?? m[2]!, port }
}

export interface TcpLimits {
  /** Bytes buffered per connection in each direction (default 64 KiB). */
  bufferBytes?: number
  /** Close a connection idle this long (default 60 s; 0: never). */
  idleTimeoutMs?: number
  /** Open connections at once through one dialer family (default 256). */
  maxConns?: number
}

const DEFAULT_BUFFER = 64 * 1024
const DEFAULT_DIAL_TIMEOUT = 10_000

/** A dialer confined to `allowed`, compared literally ("127.0.0.1:80" is not "localhost:80"). */
export class TcpDialer {
  readonly allowed: readonly string[]
  readonly #limits: Required<TcpLimits>
  readonly #open: Set<TcpConn>

  constructor(allowed: readonly string[], limits: TcpLimits = {}, open?: Set<TcpConn>) {
    for (const a of allowed) parseAddr(a)
    this.allowed = [...new Set(allowed)]
    this.#limits = { bufferBytes: limits.bufferBytes ?? DEFAULT_BUFFER, idleTimeoutMs: limits.idleTimeoutMs ?? 60_000, maxConns: limits.maxConns ?? 256 }
    this.#open = open ?? new Set()
  }

  /** Open connections made through this dialer or any restriction of it. */
  get open(): number { return this.#open.size }

  /** A dialer allowed only `addrs`; each must be allowed here (attenuation never widens). */
  restrict(addrs: readonly string[]): TcpDialer {
    for (const a of addrs) if (!this.allowed.includes(a)) throw new CapDeniedError(`dial ${a}: not allowed by this dialer`)
    return new TcpDialer(addrs, this.#limits, this.#open)
  }

  /** Connects to `addr`; nothing is sent unless it is allowed. */
  async dial(addr: string, opts: CallOptions = {}): Promise<TcpConn> {
    if (!this.allowed.includes(addr)) throw new CapDeniedError(`dial ${addr}: not allowed by this dialer`)
    if (this.#open.size >= this.#limits.maxConns) throw new QueueFullError(`${this.#open.size} connections open (max ${this.#limits.maxConns})`)
    const { host, port } = parseAddr(addr)
    const socket = net.connect({ host, port, allowHalfOpen: true })
    const connected = new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', (e) => reject(new HostUnreachableError(addr, { cause: e })))
    })
    try {
      await bounded(connected, `dial ${addr}`, { timeoutMs: opts.timeoutMs ?? DEFAULT_DIAL_TIMEOUT, ...(opts.signal ? { signal: opts.signal } : {}) })
    } catch (e) {
      socket.destroy()
      throw e
    }
    const conn = new TcpConn(socket, this.#limits)
    this.#open.add(conn)
    void conn.closed.then(() => this.#open.delete(conn))
    return conn
  }
}

/**
 * A bound TCP listener for the Listener capability: connections wait (paused: nothing is
 * read from them) until an accept takes them, accepts are answered in call order, and past
 * `backlog` waiting connections new ones are reset.
 */
export class TcpAcceptor {
  /** The bound address as "host:port" (the real port when 0 was asked). */
  readonly address: string
  readonly #server: net.Server
  readonly #limits: Required<TcpLimits>
  readonly #backlog: number
  #waiting: net.Socket[] = []
  #accepts: Array<{ resolve: (c: TcpConn) => void; reject: (e: Error) => void }> = []
  #closed = false

  private constructor(server: net.Server, limits: TcpLimits, backlog: number) {
    this.#server = server
    this.#limits = { bufferBytes: limits.bufferBytes ?? DEFAULT_BUFFER, idleTimeoutMs: limits.idleTimeoutMs ?? 60_000, maxConns: limits.maxConns ?? 256 }
    this.#backlog = backlog
    const a = server.address() as net.AddressInfo
    this.address = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`
    server.on('connection', (s) => this.#arrived(s))
    server.on('error', () => this.close())
  }

  /** Binds `addr` ("127.0.0.1:0" picks a free port); ERR_INVALID_ARGUMENT when it cannot be bound (in use, not local). */
  static async listen(addr: string, limits: TcpLimits = {}, backlog = 511): Promise<TcpAcceptor> {
    const { host, port } = parseAddr(addr, true)
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true })
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new InvalidArgumentError(`cannot listen on ${addr}: ${e.message}`)))
      server.listen({ host, port, backlog, exclusive: true }, resolve)
    })
    return new TcpAcceptor(server, limits, backlog)
  }

  #arrived(s: net.Socket): void {
    s.on('error', () => s.destroy()) // a reset while waiting: never an uncaught error
    const a = this.#accepts.shift()
    if (a) { a.resolve(this.#conn(s)); return }
    if (this.#closed || this.#waiting.length >= this.#backlog) { s.resetAndDestroy(); return }
    this.#waiting.push(s)
    s.once('close', () => { const i = this.#waiting.indexOf(s); if (i >= 0) this.#waiting.splice(i, 1) })
  }

  #conn(s: net.Socket): TcpConn {
    s.removeAllListeners('error')
    s.removeAllListeners('close')
    const conn = new TcpConn(s, this.#limits)
    s.resume() // paused since it arrived; from now on TcpConn pauses it when its buffer is full
    return conn
  }

  /** Whether close() was called (by its holder, e.g. through the Listener capability). */
  get closed(): boolean { return this.#closed }

  /** The next connection; ERR_CLOSED once closed (pending accepts too). */
  accept(): Promise<TcpConn> {
    if (this.#closed) return Promise.reject(new ClosedError(`listener ${this.address}`))
    const s = this.#waiting.shift()
    if (s) return Promise.resolve(this.#conn(s))
    return new Promise((resolve, reject) => this.#accepts.push({ resolve, reject }))
  }

  /** Stops listening; waiting connections are ended, accepted ones stay open. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#server.close()
    for (const s of this.#waiting.splice(0)) s.destroySoon()
    for (const a of this.#accepts.splice(0)) a.reject(new ClosedError(`listener ${this.address}`))
  }
}

/** One connected TCP stream with bounded buffering both ways. */
export class TcpConn {
  readonly #socket: net.Socket
  readonly #limit: number
  #chunks: Buffer[] = []
  #buffered = 0
  #eof = false
  #readShut = false
  #writeShut = false
  #closed = false
  #reset: Error | undefined
  #readers: Array<{ max: number; resolve: (r: { data: Uint8Array; eof: boolean }) => void }> = []
  readonly closed: Promise<void>
  #onClosed!: () => void

  constructor(socket: net.Socket, limits: Required<TcpLimits>) {
    this.#socket = socket
    this.#limit = limits.bufferBytes
    this.closed = new Promise((r) => { this.#onClosed = r })
    socket.setNoDelay(true)
    if (limits.idleTimeoutMs > 0) socket.setTimeout(limits.idleTimeoutMs, () => this.close())
    socket.on('data', (b: Buffer) => {
      if (this.#readShut) return
      this.#chunks.push(b)
      this.#buffered += b.byteLength
      // Full: stop reading the socket; the kernel's window then pauses the peer.
      if (this.#buffered >= this.#limit) socket.pause()
      this.#serve()
    })
    socket.on('end', () => { this.#eof = true; this.#serve() })
    socket.on('error', (e) => { this.#reset = e })
    socket.on('close', () => {
      this.#eof = true
      this.#closed = true
      this.#serve()
      this.#onClosed()
    })
  }

  /** Bytes read from the socket and not yet taken by a read (at most about bufferBytes). */
  get buffered(): number { return this.#buffered }

  /** At least one byte (or eof), at most `max` (0: 64 KiB). Reads are answered in call order. */
  read(max = 0): Promise<{ data: Uint8Array; eof: boolean }> {
    return new Promise((resolve) => {
      this.#readers.push({ max: max === 0 ? DEFAULT_BUFFER : max, resolve })
      this.#serve()
    })
  }

  #serve(): void {
    while (this.#readers.length > 0) {
      if (this.#buffered === 0) {
        if (this.#eof || this.#readShut) { this.#readers.shift()!.resolve({ data: new Uint8Array(0), eof: true }); continue }
        return
      }
      const r = this.#readers.shift()!
      const parts: Buffer[] = []
      let n = 0
      while (n < r.max && this.#chunks.length > 0) {
        const head = this.#chunks[0]!
        const take = Math.min(head.byteLength, r.max - n)
        parts.push(head.subarray(0, take))
        n += take
        if (take === head.byteLength) this.#chunks.shift()
        else this.#chunks[0] = head.subarray(take)
      }
      this.#buffered -= n
      r.resolve({ data: parts.length === 1 ? parts[0]! : Buffer.concat(parts, n), eof: false })
    }
    if (this.#buffered < this.#limit && !this.#closed && !this.#readShut) this.#socket.resume()
  }

  /** Resolves once the socket took the bytes; waits while its send buffer is full. */
  write(data: Uint8Array): Promise<void> {
    if (this.#closed || this.#writeShut) return Promise.reject(new ClosedError(this.#reset ? 'connection (reset)' : 'connection'))
    const copy = Buffer.from(data) // custody: the caller's bytes may be a view into a guest
    return new Promise((resolve, reject) => {
      const more = this.#socket.write(copy, (e) => { if (e) reject(new ClosedError(`connection (${e.message})`)) })
      if (more) { resolve(); return }
      const onDrain = (): void => { this.#socket.off('close', onClose); resolve() }
      const onClose = (): void => { this.#socket.off('drain', onDrain); reject(new ClosedError('connection')) }
      this.#socket.once('drain', onDrain)
      this.#socket.once('close', onClose)
    })
  }

  shutdown(how: 'read' | 'write' | 'both'): void {
    if (how !== 'write') {
      this.#readShut = true
      this.#chunks = []
      this.#buffered = 0
      this.#serve()
    }
    if (how !== 'read' && !this.#writeShut) {
      this.#writeShut = true
      this.#socket.end()
    }
  }

  /** Flushes what was written, then closes both ways (FIN, not a reset). Idempotent. */
  close(): void {
    this.shutdown('both')
    this.#socket.destroySoon()
  }

  addrs(): { local: string; remote: string } {
    const fmt = (a: string | undefined, p: number | undefined): string => (a?.includes(':') ? `[${a}]:${p}` : `${a}:${p}`)
    return { local: fmt(this.#socket.localAddress, this.#socket.localPort), remote: fmt(this.#socket.remoteAddress, this.#socket.remotePort) }
  }
}
