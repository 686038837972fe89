import { Waiters, type Unwatch } from './sockets.js'

// Stream capabilities for stdio. The spawner hands in sinks for fd 1 and 2 (its log, a
// pipe, a test buffer) and optionally a stream for fd 0. Both sides speak backpressure:
// a sink may refuse bytes when full and say when it can take more; the layer then
// suspends the guest (or, with no suspension hook, returns EAGAIN), never buffers.

/** One write of a guest to fd 1 or 2. `bytes` is the host's own copy, immutable, the sink may keep it. */
export interface OutputRecord {
  readonly processId: string
  readonly fd: 1 | 2
  readonly bytes: Uint8Array
}

export interface OutputSink {
  /** Takes the record and returns true, or returns false (full) without keeping it. */
  write(record: OutputRecord): boolean
  /** Resolves when a refused write may be retried. */
  writable(): Promise<void>
  /**
   * True while the sink has room: poll_oneoff reports fd 1/2 writable only then. Without
   * it the fd is always writable (a write to a full sink then waits in fd_write).
   */
  canWrite?(): boolean
  /** Calls `wake` whenever canWrite() may have become true, none missed (as Conn.watchWritable). */
  watchWritable?(wake: () => void): Unwatch
}

export interface InputStream {
  /**
   * Up to `max` bytes now: a non-empty array, an empty one when nothing is ready yet,
   * or null at end of stream.
   */
  read(max: number): Uint8Array | null
  /** True when read() would return bytes or end of stream now. */
  canRead(): boolean
  /** Resolves when read() would return something (bytes or end of stream). */
  readable(): Promise<void>
}

/** An in-memory sink holding at most `capacityBytes` until taken (tests, buffering spawners). */
export class MemorySink implements OutputSink {
  readonly records: OutputRecord[] = []
  #held = 0
  readonly #waiters = new Waiters()
  constructor(readonly capacityBytes = Infinity) {}

  write(r: OutputRecord): boolean {
    // An empty sink takes any record, so a record larger than the capacity cannot stall forever.
    if (this.#held > 0 && this.#held + r.bytes.length > this.capacityBytes) return false
    this.records.push(r)
    this.#held += r.bytes.length
    return true
  }

  writable(): Promise<void> {
    if (this.canWrite()) return Promise.resolve()
    return this.#waiters.wait()
  }

  canWrite(): boolean { return this.#held < this.capacityBytes }
  watchWritable(wake: () => void): Unwatch { return this.#waiters.add(wake) }

  /** Everything written so far to `fd` (default both), as text. */
  text(fd?: 1 | 2): string {
    const parts = this.records.filter((r) => fd === undefined || r.fd === fd).map((r) => Buffer.from(r.bytes).toString('utf8'))
    return parts.join('')
  }

  /** Empties the sink (a consumer read it), waking writers. */
  take(): OutputRecord[] {
    const out = this.records.splice(0)
    this.#held = 0
    this.#waiters.wake()
    return out
  }
}

/** An in-memory input stream: push() bytes, end() to signal end of stream. */
export class MemoryStream implements InputStream {
  #chunks: Uint8Array[] = []
  #ended = false
  #waiters: Array<() => void> = []

  push(bytes: Uint8Array | string): void {
    this.#chunks.push(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes.slice())
    this.#wake()
  }
  end(): void { this.#ended = true; this.#wake() }

  read(max: number): Uint8Array | null {
    const head = this.#chunks[0]
    if (head === undefined) return this.#ended ? null : new Uint8Array(0)
    if (head.length <= max) { this.#chunks.shift(); return head }
    this.#chunks[0] = head.subarray(max)
    return head.subarray(0, max)
  }

  canRead(): boolean { return this.#chunks.length > 0 || this.#ended }

  readable(): Promise<void> {
    if (this.canRead()) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  #wake(): void { for (const w of this.#waiters.splice(0)) w() }
}
