// Socket capabilities: the spawner hands in binders (listeners it bound itself) and the
// guest sees each as a pre-opened socket fd; sock_accept turns one into conn fds only this
// process holds. Real node:net implementations are in net/ (listenTcp, dialerFor); an
// in-memory one lives here for tests and in-process wiring.

/** Stops a watch: the callback is dropped and will not be called. */
export type Unwatch = () => void

// A guest's poll_oneoff waits on many fds at once and, once one is ready, on none of the
// others: the optional watch* methods let it drop its callbacks from the fds that stayed
// idle. (Waiting through the readable()/acceptable() promises instead would leave one
// reaction per poll on every idle fd until it becomes ready.)

/** A listening socket granted to one process. */
export interface Binder {
  /** The next pending connection, or null when none is waiting. */
  accept(): Conn | null
  canAccept(): boolean
  /** Resolves when accept() would return a connection. */
  acceptable(): Promise<void>
  /** Calls `wake` when canAccept() may have become true. */
  watchAcceptable?(wake: () => void): Unwatch
  close(): void
  /**
   * Called by createWasi with the process it is granted to. A binder that must serve one
   * process only throws when a second one claims it (net/ TcpListener: CapInUse).
   */
  claim?(processId: string): void
}

/** One connection. Reads and writes never block: they report "not now" and offer a promise. */
export interface Conn {
  /** Up to `max` bytes: non-empty, empty when nothing is ready, null at end of stream. */
  read(max: number): Uint8Array | null
  canRead(): boolean
  readable(): Promise<void>
  /**
   * Calls `wake` whenever canRead() may have become true — at every such change, none
   * missed: poll_oneoff takes an armed watch that has not fired to mean "not readable".
   */
  watchReadable?(wake: () => void): Unwatch
  /** True when read() would say end of stream (null): nothing buffered, nothing more will come. poll_oneoff reports HANGUP. */
  readEnded?(): boolean
  /** True when a write would fail (write side shut, or the connection reset/closed). poll_oneoff reports HANGUP. */
  writeEnded?(): boolean
  /** Accepts some prefix of `bytes` (copies it) and returns its length; 0 when full. Throws ConnClosed after shutdown. */
  write(bytes: Uint8Array): number
  canWrite(): boolean
  writable(): Promise<void>
  /** Calls `wake` whenever canWrite() may have become true (as watchReadable). */
  watchWritable?(wake: () => void): Unwatch
  /** `how`: 1 = no more reads, 2 = no more writes, 3 = both (WASI sdflags). */
  shutdown(how: number): void
  close(): void
}

/** Writing to a connection whose write side is shut. */
export class ConnClosed extends Error {
  readonly code = 'ERR_CONN_CLOSED'
}

/**
 * Callbacks to run once, at the next change; each may be dropped before that. Arrays, not
 * a Set: a busy connection adds and wakes a callback per request, and a Set's add/clear
 * pair allocates a new table each time (net.http: ~2 KB per request).
 */
export class Waiters {
  #list: Array<() => void> = []
  /** The array the last wake() ran, emptied, kept for the next: waking allocates nothing. */
  #spare: Array<() => void> | undefined
  get size(): number { return this.#list.length }
  add(f: () => void): Unwatch {
    this.#list.push(f)
    return () => { this.#drop(f) }
  }
  wait(): Promise<void> { return new Promise((r) => { this.#list.push(r) }) }
  wake(): void {
    const fs = this.#list
    if (fs.length === 0) return
    // Callbacks added while these run (a re-armed watch) wait for the next wake.
    this.#list = this.#spare ?? []
    this.#spare = undefined
    for (let i = 0; i < fs.length; i++) fs[i]!()
    fs.length = 0
    this.#spare = fs
  }
  #drop(f: () => void): void {
    const i = this.#list.lastIndexOf(f)
    if (i >= 0) this.#list.splice(i, 1)
  }
}

class Pipe {
  chunks: Uint8Array[] = []
  bytes = 0
  ended = false
  readonly waiters = new Waiters()
  wake(): void { this.waiters.wake() }
  wait(): Promise<void> { return this.waiters.wait() }
}

/** One end of an in-memory connection; the other end reads what this one writes. */
class MemoryConn implements Conn {
  constructor(readonly inbound: Pipe, readonly outbound: Pipe, readonly capacity: number) {}

  read(max: number): Uint8Array | null {
    const p = this.inbound
    const head = p.chunks[0]
    if (head === undefined) return p.ended ? null : new Uint8Array(0)
    const out = head.length <= max ? (p.chunks.shift(), head) : head.subarray(0, max)
    if (out !== head) p.chunks[0] = head.subarray(max)
    p.bytes -= out.length
    p.wake() // room for the writer
    return out
  }
  canRead(): boolean { return this.inbound.chunks.length > 0 || this.inbound.ended }
  readEnded(): boolean { return this.inbound.chunks.length === 0 && this.inbound.ended }
  writeEnded(): boolean { return this.outbound.ended }
  readable(): Promise<void> { return this.canRead() ? Promise.resolve() : this.inbound.wait() }
  watchReadable(wake: () => void): Unwatch { return this.inbound.waiters.add(wake) }
  watchWritable(wake: () => void): Unwatch { return this.outbound.waiters.add(wake) }
  canWrite(): boolean { return this.outbound.bytes < this.capacity || this.outbound.ended }
  write(bytes: Uint8Array): number {
    const p = this.outbound
    if (p.ended) throw new ConnClosed('write after shutdown')
    const n = Math.min(bytes.length, this.capacity - p.bytes)
    if (n <= 0) return 0
    p.chunks.push(bytes.slice(0, n))
    p.bytes += n
    p.wake()
    return n
  }
  writable(): Promise<void> { return this.canWrite() ? Promise.resolve() : this.outbound.wait() }
  shutdown(how: number): void {
    if (how & 2) { this.outbound.ended = true; this.outbound.wake() }
    if (how & 1) { this.inbound.chunks = []; this.inbound.bytes = 0; this.inbound.ended = true; this.inbound.wake() }
  }
  close(): void { this.shutdown(3) }
}

/** An in-memory listener: `connect()` gives the client end, the guest accepts the server end. */
export class MemoryListener implements Binder {
  #pending: Conn[] = []
  #waiters = new Waiters()
  #closed = false
  constructor(readonly capacityBytes = 64 * 1024) {}

  connect(): Conn {
    if (this.#closed) throw new ConnClosed('listener closed')
    const a = new Pipe(), b = new Pipe()
    this.#pending.push(new MemoryConn(a, b, this.capacityBytes))
    this.#waiters.wake()
    return new MemoryConn(b, a, this.capacityBytes)
  }
  accept(): Conn | null { return this.#pending.shift() ?? null }
  canAccept(): boolean { return this.#pending.length > 0 || this.#closed }
  acceptable(): Promise<void> {
    return this.canAccept() ? Promise.resolve() : this.#waiters.wait()
  }
  watchAcceptable(wake: () => void): Unwatch { return this.#waiters.add(wake) }
  close(): void {
    this.#closed = true
    for (const c of this.#pending.splice(0)) c.close()
    this.#waiters.wake()
  }
}
