// A TCP connection (node:net Socket) as a Conn capability. Nothing here blocks and nothing
// buffers without bound: received bytes queue up to `bufferBytes`, then the socket is
// paused (the kernel's window closes, the peer slows down); writes are taken only while
// the socket's send queue is under `bufferBytes` (0 = "full", the guest waits for drain).
// A close sends FIN after the queued bytes, never a reset.

import type { Socket } from 'node:net'
import { ConnClosed, Waiters, type Conn, type Unwatch } from '../sockets.js'
import type { NetLimits } from './limits.js'

export interface ConnStats {
  /** Bytes received and not yet read by the guest. */
  readonly bufferedIn: number
  /** Bytes the guest wrote that the kernel has not taken yet. */
  readonly bufferedOut: number
  readonly paused: boolean
  /** Callbacks waiting for this connection to become readable or writable (polls, blocked calls). */
  readonly waiting: number
}

export class TcpConn implements Conn {
  readonly #socket: Socket
  readonly #limits: NetLimits
  #chunks: Buffer[] = []
  #bufferedIn = 0
  #paused = false
  /** No more bytes will arrive (peer FIN, reset, idle timeout, read side shut). */
  #eof = false
  #writeShut = false
  #closed = false
  #closing = false
  #readable = new Waiters()
  #writable = new Waiters()
  #onClose: Array<() => void> = []

  constructor(socket: Socket, limits: NetLimits) {
    this.#socket = socket
    this.#limits = limits
    socket.setNoDelay(true)
    socket.on('data', (b: Buffer) => this.#data(b))
    socket.on('end', () => { this.#eof = true; this.#readable.wake() })
    // A reset or any socket error ends both directions; handled here so it never reaches the host as an uncaught error.
    socket.on('error', () => { this.#eof = true; this.#writeShut = true; this.#wake() })
    socket.on('close', () => { this.#eof = true; this.#closed = true; this.#writeShut = true; this.#wake(); for (const f of this.#onClose.splice(0)) f() })
    socket.on('drain', () => this.#writable.wake())
    socket.removeAllListeners('timeout') // the listener's timer for a waiting connection
    socket.setTimeout(limits.idleTimeoutMs, limits.idleTimeoutMs > 0 ? () => this.close() : undefined)
    socket.resume() // listeners pause on connect until the guest accepts
  }

  get remoteAddress(): string { return `${this.#socket.remoteAddress}:${this.#socket.remotePort}` }

  #data(b: Buffer): void {
    if (this.#eof) return // read side shut: discard
    this.#chunks.push(b)
    this.#bufferedIn += b.length
    if (this.#bufferedIn >= this.#limits.bufferBytes && !this.#paused) { this.#paused = true; this.#socket.pause() }
    this.#readable.wake()
  }

  #wake(): void { this.#readable.wake(); this.#writable.wake() }

  read(max: number): Uint8Array | null {
    const head = this.#chunks[0]
    if (head === undefined) return this.#eof ? null : new Uint8Array(0)
    let out: Buffer
    if (head.length <= max) { this.#chunks.shift(); out = head } else { out = head.subarray(0, max); this.#chunks[0] = head.subarray(max) }
    this.#bufferedIn -= out.length
    if (this.#paused && this.#bufferedIn < this.#limits.bufferBytes) { this.#paused = false; this.#socket.resume() }
    return out
  }
  canRead(): boolean { return this.#chunks.length > 0 || this.#eof }
  readEnded(): boolean { return this.#chunks.length === 0 && this.#eof }
  writeEnded(): boolean { return this.#writeShut || this.#socket.destroyed }
  readable(): Promise<void> { return this.canRead() ? Promise.resolve() : this.#readable.wait() }
  watchReadable(wake: () => void): Unwatch { return this.#readable.add(wake) }

  write(bytes: Uint8Array): number {
    if (this.#writeShut || this.#socket.destroyed) throw new ConnClosed('write after shutdown or close')
    const room = this.#limits.bufferBytes - this.#socket.writableLength
    if (room <= 0) return 0
    const n = Math.min(bytes.length, room)
    // `bytes` is already the host's copy of guest memory (stream-io's gather): no second copy.
    this.#socket.write(n === bytes.length ? bytes : bytes.subarray(0, n))
    return n
  }
  canWrite(): boolean { return this.#writeShut || this.#socket.destroyed || this.#socket.writableLength < this.#limits.bufferBytes }
  writable(): Promise<void> { return this.canWrite() ? Promise.resolve() : this.#writable.wait() }
  watchWritable(wake: () => void): Unwatch { return this.#writable.add(wake) }

  shutdown(how: number): void {
    if (how & 1 && !this.#eof) {
      this.#eof = true
      this.#chunks = []; this.#bufferedIn = 0
      if (this.#paused) { this.#paused = false; this.#socket.resume() } // keep reading (and discarding) so the peer's FIN arrives
      this.#readable.wake()
    }
    if (how & 2 && !this.#writeShut) {
      this.#writeShut = true
      this.#socket.end() // FIN once the queued bytes are sent
      this.#writable.wake()
    }
  }

  /** FIN after what was written; the socket is destroyed if the peer has not closed within `lingerMs`. */
  close(): void {
    if (this.#closing) return
    this.#closing = true
    this.shutdown(3)
    if (!this.#socket.destroyed) {
      const t = setTimeout(() => this.#socket.destroy(), this.#limits.lingerMs)
      t.unref()
      this.#socket.once('close', () => clearTimeout(t))
    }
  }

  /** Runs `f` once the socket is fully closed. */
  onClose(f: () => void): void { if (this.#socket.closed) f(); else this.#onClose.push(f) }

  stats(): ConnStats {
    return { bufferedIn: this.#bufferedIn, bufferedOut: this.#socket.writableLength, paused: this.#paused, waiting: this.#readable.size + this.#writable.size }
  }
}
