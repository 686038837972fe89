// A spawner's preopened sockets (ExecOptions.preopens: net.capnp Listener and Conn
// capabilities) as the socket fds of @ww/wasi-restricted, whose calls never block: each
// adapter keeps one RPC ahead — a read (its answer buffered until the guest takes it) or an
// accept — and accepts writes while fewer than WRITE_BOUND bytes are on the wire, writable
// again as their calls return. A failed call is the end of that direction (end of stream,
// write side ended, no more connections): the guest sees a socket that ended, the host no
// exception.

import { ConnClosed, Waiters, type Binder, type Conn, type Unwatch } from '@ww/wasi-restricted'
import { net as capNet } from '@ww/schema'
import type { ClientLike } from 'capnp-ts'
import { normalizeClient } from 'capnp-ts/src/rpc/capability.js'
import type { PreopenCap } from '../exec/types.js'

/** Bytes one read call asks for (the most the adapter buffers on the guest's side). */
export const READ_AHEAD_BYTES = 64 * 1024
/** Bytes of writes on the wire (sent, not yet answered) before the guest must wait. */
export const WRITE_BOUND_BYTES = 64 * 1024

const ignore = (): void => {}

/** A Net.Conn capability as a non-blocking Conn. `owned`: the adapter disposes the capability on close. */
export class RpcConn implements Conn {
  readonly #conn: capNet.Conn$Client
  readonly #owned: boolean
  #buffered: Uint8Array | undefined
  #reading = false
  #eof = false
  #inFlight = 0
  #writeEnded = false
  #closed = false
  readonly #readable = new Waiters()
  readonly #writable = new Waiters()

  constructor(conn: ClientLike, owned = false) {
    this.#conn = new capNet.Conn.Client(normalizeClient(conn))
    this.#owned = owned
  }

  /**
   * One read in flight while nothing is buffered; its answer waits for the guest. Started
   * by the guest's first look at the fd, so a spawn that fails reads nothing.
   */
  #pull(): void {
    if (this.#reading || this.#eof || this.#buffered !== undefined) return
    this.#reading = true
    this.#conn.read((p) => p.setMax(READ_AHEAD_BYTES)).then((r) => {
      this.#reading = false
      if (this.#eof) return // read side shut meanwhile: discard
      // Custody: the answer's bytes live in its message; one copy the guest reads from.
      const data = r.hasData() ? r.getData().toUint8Array().slice() : new Uint8Array(0)
      if (data.byteLength > 0) this.#buffered = data
      if (r.getEof()) this.#eof = true
      this.#readable.wake()
      this.#pull()
    }, () => { this.#reading = false; this.#eof = true; this.#readable.wake() })
  }

  read(max: number): Uint8Array | null {
    const b = this.#buffered
    if (b === undefined) { this.#pull(); return this.#eof ? null : new Uint8Array(0) }
    if (b.byteLength <= max) this.#buffered = undefined
    else this.#buffered = b.subarray(max)
    this.#pull()
    return b.byteLength <= max ? b : b.subarray(0, max)
  }
  canRead(): boolean { this.#pull(); return this.#buffered !== undefined || this.#eof }
  readEnded(): boolean { return this.#buffered === undefined && this.#eof }
  readable(): Promise<void> { return this.canRead() ? Promise.resolve() : this.#readable.wait() }
  watchReadable(wake: () => void): Unwatch { this.#pull(); return this.#readable.add(wake) }

  write(bytes: Uint8Array): number {
    if (this.#writeEnded) throw new ConnClosed('write after shutdown, close or a failed write')
    const n = Math.min(bytes.byteLength, WRITE_BOUND_BYTES - this.#inFlight)
    if (n <= 0) return 0
    this.#inFlight += n
    // Calls on one capability are delivered in order: writes need not wait for each other.
    this.#conn.write((p) => p.setData(n === bytes.byteLength ? bytes : bytes.subarray(0, n))).then(
      () => { this.#inFlight -= n; this.#writable.wake() },
      () => { this.#inFlight -= n; this.#writeEnded = true; this.#writable.wake() },
    )
    return n
  }
  canWrite(): boolean { return this.#writeEnded || this.#inFlight < WRITE_BOUND_BYTES }
  writeEnded(): boolean { return this.#writeEnded }
  writable(): Promise<void> { return this.canWrite() ? Promise.resolve() : this.#writable.wait() }
  watchWritable(wake: () => void): Unwatch { return this.#writable.add(wake) }

  shutdown(how: number): void {
    const read = (how & 1) !== 0 && !this.#eof
    const write = (how & 2) !== 0 && !this.#writeEnded
    if (read) { this.#eof = true; this.#buffered = undefined; this.#readable.wake() }
    if (write) { this.#writeEnded = true; this.#writable.wake() }
    if (!read && !write) return
    const h = read && write ? capNet.ShutdownHow.BOTH : read ? capNet.ShutdownHow.READ : capNet.ShutdownHow.WRITE
    // After the writes already sent (in order): the peer gets them, then FIN.
    this.#conn.shutdown((p) => p.setHow(h)).then(ignore, ignore)
  }

  /** Closes the connection (its holder flushes what was written, then FIN). Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#eof = true; this.#buffered = undefined; this.#writeEnded = true
    this.#readable.wake(); this.#writable.wake()
    this.#conn.close().then(ignore, ignore)
    if (this.#owned) this.#conn.client.dispose()
  }
}

/** A Net.Listener capability as a Binder: one accept in flight while no connection waits. */
export class RpcListener implements Binder {
  readonly #listener: capNet.Listener$Client
  #pending: RpcConn | undefined
  #accepting = false
  #ended = false
  readonly #waiters = new Waiters()

  constructor(listener: ClientLike) {
    this.#listener = new capNet.Listener.Client(normalizeClient(listener))
  }

  /** Started by the guest's first look at the fd (as RpcConn's reads). */
  #pull(): void {
    if (this.#accepting || this.#ended || this.#pending !== undefined) return
    this.#accepting = true
    this.#listener.accept().then((r) => {
      this.#accepting = false
      const conn = new RpcConn(r.getConn(), true)
      if (this.#ended) { conn.close(); return }
      this.#pending = conn
      this.#waiters.wake()
    }, () => { this.#accepting = false; this.#ended = true; this.#waiters.wake() })
  }

  accept(): Conn | null {
    const c = this.#pending
    this.#pending = undefined
    this.#pull()
    return c ?? null
  }
  canAccept(): boolean { this.#pull(); return this.#pending !== undefined || this.#ended }
  acceptable(): Promise<void> { return this.canAccept() ? Promise.resolve() : this.#waiters.wait() }
  watchAcceptable(wake: () => void): Unwatch { this.#pull(); return this.#waiters.add(wake) }

  /** Closes the listener (Listener.close) and a connection accepted but not yet taken. Idempotent. */
  close(): void {
    if (this.#ended && this.#pending === undefined) return
    const wasEnded = this.#ended
    this.#ended = true
    this.#pending?.close()
    this.#pending = undefined
    this.#waiters.wake()
    if (!wasEnded) this.#listener.close().then(ignore, ignore)
  }
}

/**
 * A spawn's preopens as createWasi's `sockets` (listeners) and `conns`, in the spawner's
 * order within each kind (preopenFds numbers them). The capabilities stay the caller's
 * (the process tree holds them until the process ends); closing the fds closes the sockets.
 */
export function preopenSockets(preopens: readonly PreopenCap[] | undefined): { sockets: Binder[]; conns: Conn[] } {
  const sockets: Binder[] = [], conns: Conn[] = []
  for (const p of preopens ?? []) {
    if (p.kind === 'listener') sockets.push(new RpcListener(p.cap))
    else conns.push(new RpcConn(p.cap))
  }
  return { sockets, conns }
}
