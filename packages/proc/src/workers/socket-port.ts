// A socket capability of the spawner's thread (a Binder or Conn: a listener it bound, a
// connection it holds, one reached over RPC) used by a guest on a worker: served over a
// MessagePort here (serveBinder, serveConn), seen as a Binder or Conn there (PortBinder,
// PortConn). Bytes are moved, never shared: each chunk is copied once into a buffer of its
// own, which is transferred.
// Both directions are windowed (WINDOW bytes in flight, acknowledged as the other side
// takes them), so neither thread buffers more than the socket itself would; a listener's
// connection is taken from it only when the guest has taken the one before (the others
// wait in the listener, as for a guest on this thread). Either end closing the port ends
// the capability there: a worker that dies closes the spawner's socket; a capability that
// throws ends its serving (and the guest's fd), never the spawner's thread.

import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { ConnClosed, Waiters, type Binder, type Conn, type Unwatch } from '@ww/wasi-restricted'

/** Bytes in flight each way, per connection. */
export const WINDOW = 64 * 1024
/** How long a connection the guest closed may take to send what it wrote before it. */
const LINGER_MS = 5_000

type ToGuest =
  | { t: 'data'; bytes: Uint8Array }
  | { t: 'eof' }
  /** Writes fail from now on (the connection was shut for writing, reset or closed). */
  | { t: 'write-ended' }
  /** The spawner's connection took `n` more bytes of what the guest wrote. */
  | { t: 'taken'; n: number }
  /** A listener's next connection, on its own port. */
  | { t: 'conn'; port: MessagePort }
  | { t: 'listener-closed' }

type FromGuest =
  /** The guest read `n` bytes (0: it accepted this connection and wants its bytes). */
  | { t: 'read'; n: number }
  | { t: 'write'; bytes: Uint8Array }
  | { t: 'shutdown'; how: number }
  /** The guest took the listener's last connection: send the next. */
  | { t: 'accepted' }
  | { t: 'close' }

/** Serves `conn` on `port` until either side closes; the spawner's conn is closed with it. */
export function serveConn(conn: Conn, port: MessagePort): void {
  let inFlight = 0
  let reading = false
  let started = false
  let eofSent = false
  let closed = false
  const writes: Uint8Array[] = []
  let writing = false
  /** The guest closed it: what it wrote still goes out (within the linger time), then the conn closes. */
  let closing = false
  const post = (m: ToGuest, transfer?: ArrayBuffer[]): void => { if (!closed) port.postMessage(m, transfer ?? []) }
  const end = (): void => {
    if (closed) return
    closed = true
    conn.close()
    port.close()
  }
  const pump = async (): Promise<void> => {
    if (reading || !started) return
    reading = true
    try {
      while (!closed && !eofSent && inFlight < WINDOW) {
        const got = conn.read(WINDOW - inFlight)
        if (got === null) { eofSent = true; post({ t: 'eof' }); break }
        if (got.length === 0) { await conn.readable(); continue }
        // A copy of its own to move: `got` may be a view into a buffer Node still uses (a
        // Buffer's slice() is a view too, and its pool cannot be transferred).
        const own = new Uint8Array(got)
        inFlight += own.length
        post({ t: 'data', bytes: own }, [own.buffer])
      }
    } finally { reading = false }
  }
  const drain = async (): Promise<void> => {
    if (writing) return
    writing = true
    try {
      while (!closed && writes.length > 0) {
        const head = writes[0]!
        let n: number
        try { n = conn.write(head) } catch {
          // ConnClosed (shut, reset, closed), or any other refusal: the guest's writes fail from now on.
          writes.length = 0
          post({ t: 'write-ended' })
          break
        }
        if (n === 0) { await conn.writable(); continue }
        if (n === head.length) writes.shift(); else writes[0] = head.subarray(n)
        post({ t: 'taken', n })
      }
    } finally { writing = false }
    if (closing) end()
  }
  port.on('message', (m: FromGuest) => {
    switch (m.t) {
      case 'read':
        inFlight -= m.n
        started = true
        void pump().catch(end)
        break
      case 'write': writes.push(m.bytes); void drain().catch(end); break
      // Shut after the writes before it, in order.
      case 'shutdown': if (writes.length === 0) conn.shutdown(m.how); else void drainThen(() => conn.shutdown(m.how)).catch(end); break
      case 'close':
        closing = true
        if (writes.length === 0) end()
        else setTimeout(end, LINGER_MS).unref() // a peer that never reads does not hold it for ever
        break
    }
  })
  const drainThen = async (f: () => void): Promise<void> => {
    while (writes.length > 0 && !closed) await conn.writable()
    if (!closed) f()
  }
  port.on('close', end)
}

/** Serves `binder` on `port`: one connection at a time goes to the guest, when it took the last. */
export function serveBinder(binder: Binder, port: MessagePort): void {
  let closed = false
  let offered = false
  const end = (): void => {
    if (closed) return
    closed = true
    binder.close()
    port.close()
  }
  const offer = async (): Promise<void> => {
    if (offered || closed) return
    offered = true
    await binder.acceptable()
    if (closed) return
    const c = binder.accept()
    if (c === null) {
      // Acceptable with nothing to accept: the listener is closed.
      port.postMessage({ t: 'listener-closed' } satisfies ToGuest)
      end()
      return
    }
    const { port1, port2 } = new MessageChannel()
    serveConn(c, port1)
    port.postMessage({ t: 'conn', port: port2 } satisfies ToGuest, [port2])
  }
  port.on('message', (m: FromGuest) => {
    if (m.t === 'accepted') { offered = false; void offer().catch(end) }
    else if (m.t === 'close') end()
  })
  port.on('close', end)
  void offer().catch(end)
}

/** The guest's end of a served Conn. */
export class PortConn implements Conn {
  readonly #port: MessagePort
  #chunks: Uint8Array[] = []
  #eof = false
  #writeEnded = false
  #writeShut = false
  #outstanding = 0
  #closed = false
  #readable = new Waiters()
  #writable = new Waiters()

  constructor(port: MessagePort) {
    this.#port = port
    port.on('message', (m: ToGuest) => {
      switch (m.t) {
        case 'data': this.#chunks.push(m.bytes); this.#readable.wake(); break
        case 'eof': this.#eof = true; this.#readable.wake(); break
        case 'write-ended': this.#writeEnded = true; this.#writable.wake(); break
        case 'taken': this.#outstanding -= m.n; this.#writable.wake(); break
      }
    })
    // The spawner's side is gone (its thread ended the capability): both directions end.
    port.on('close', () => { this.#eof = true; this.#writeEnded = true; this.#closed = true; this.#readable.wake(); this.#writable.wake() })
    this.#post({ t: 'read', n: 0 }) // start sending
  }

  #post(m: FromGuest, transfer?: ArrayBuffer[]): void { if (!this.#closed) this.#port.postMessage(m, transfer ?? []) }

  /** Bytes received and not yet read: at most WINDOW. */
  get bufferedIn(): number { let n = 0; for (const c of this.#chunks) n += c.length; return n }

  read(max: number): Uint8Array | null {
    const head = this.#chunks[0]
    if (head === undefined) return this.#eof ? null : new Uint8Array(0)
    let out: Uint8Array
    if (head.length <= max) { this.#chunks.shift(); out = head } else { out = head.subarray(0, max); this.#chunks[0] = head.subarray(max) }
    this.#post({ t: 'read', n: out.length })
    return out
  }
  canRead(): boolean { return this.#chunks.length > 0 || this.#eof }
  readEnded(): boolean { return this.#chunks.length === 0 && this.#eof }
  readable(): Promise<void> { return this.canRead() ? Promise.resolve() : this.#readable.wait() }
  watchReadable(wake: () => void): Unwatch { return this.#readable.add(wake) }

  write(bytes: Uint8Array): number {
    if (this.writeEnded()) throw new ConnClosed('write after shutdown or close')
    const n = Math.min(bytes.length, WINDOW - this.#outstanding)
    if (n <= 0) return 0
    const own = new Uint8Array(bytes.subarray(0, n)) // a copy of its own, to move (`bytes` may be a Buffer view)
    this.#outstanding += n
    this.#post({ t: 'write', bytes: own }, [own.buffer])
    return n
  }
  writeEnded(): boolean { return this.#writeShut || this.#writeEnded }
  canWrite(): boolean { return this.writeEnded() || this.#outstanding < WINDOW }
  writable(): Promise<void> { return this.canWrite() ? Promise.resolve() : this.#writable.wait() }
  watchWritable(wake: () => void): Unwatch { return this.#writable.add(wake) }

  shutdown(how: number): void {
    if (how & 1) { this.#eof = true; this.#chunks = []; this.#readable.wake() }
    if (how & 2) { this.#writeShut = true; this.#writable.wake() }
    this.#post({ t: 'shutdown', how })
  }
  close(): void {
    if (this.#closed) return
    this.shutdown(3)
    this.#post({ t: 'close' })
    this.#closed = true
    // The spawner's side closes the port once what was written went out: closing it here
    // could drop those writes. Unref'd, it does not keep this thread alive meanwhile.
    this.#port.unref()
  }
}

/** The guest's end of a served Binder. */
export class PortBinder implements Binder {
  readonly #port: MessagePort
  #next: PortConn | undefined
  #closed = false
  #waiters = new Waiters()

  constructor(port: MessagePort) {
    this.#port = port
    port.on('message', (m: ToGuest) => {
      if (m.t === 'conn') {
        const c = new PortConn(m.port)
        if (this.#closed) c.close(); else this.#next = c
      } else if (m.t === 'listener-closed') this.#closed = true
      this.#waiters.wake()
    })
    port.on('close', () => { this.#closed = true; this.#waiters.wake() })
  }

  accept(): Conn | null {
    const c = this.#next
    if (c === undefined) return null
    this.#next = undefined
    if (!this.#closed) this.#port.postMessage({ t: 'accepted' } satisfies FromGuest)
    return c
  }
  canAccept(): boolean { return this.#next !== undefined || this.#closed }
  acceptable(): Promise<void> { return this.canAccept() ? Promise.resolve() : this.#waiters.wait() }
  watchAcceptable(wake: () => void): Unwatch { return this.#waiters.add(wake) }
  close(): void {
    this.#next?.close()
    this.#next = undefined
    if (!this.#closed) this.#port.postMessage({ t: 'close' } satisfies FromGuest)
    this.#closed = true
    this.#port.unref() // closed by the spawner's side (serveBinder), as a PortConn's
  }
}
