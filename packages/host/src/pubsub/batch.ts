/**
 * Framing for pubsub between hosts: the messages one host publishes on a topic within one
 * tick travel as one network message, so per-message network costs (the publisher's
 * signature, each receiver's verification, gossip bookkeeping, one muxer frame and one
 * socket write per peer) are paid per batch. Each entry keeps its own sequence number, so
 * per-publisher order and gap detection still work message by message.
 *
 * Frame: [u8 version = 2][u64 epoch][u64 head] then entries of [u32 seq hi][u32 seq lo]
 * [u32 length][bytes], all big-endian, seqs increasing. `epoch` is the publishing host's
 * start (a restarted publisher begins its sequence again under a new epoch); `head` is the
 * last seq it had published on the topic when the frame left — a frame without entries is
 * a marker that says only that (repair.ts: a subscriber that missed the last messages
 * learns of them).
 */

export const BATCH_VERSION = 2
const HEADER = 17
const ENTRY = 12

export interface BatchEntry { seq: number; data: Uint8Array }
/** Where a frame stands in its publisher's stream: its epoch and the last seq published. */
export interface BatchStamp { epoch: number; head: number }
export interface BatchFrame extends BatchStamp { entries: BatchEntry[] }

export interface BatchLimits {
  /** A batch is sent once its payload bytes reach this (a larger single message goes alone). */
  maxBytes: number
  /** A batch is sent once it holds this many messages. */
  maxMessages: number
  /**
   * Batches that leave by time (not by size) leave at least this far apart: under a steady
   * stream of publishes, one network message per this many ms instead of one per tick
   * (receivers limit network messages per publisher: flood.ts). Default 0: every tick.
   */
  minIntervalMs?: number
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxBytes: 64 * 1024, maxMessages: 512 }

/** A frame of `entries`; `stamp` defaults to epoch 0 and the last entry's seq. */
export function encodeBatch(entries: ReadonlyArray<BatchEntry>, stamp?: BatchStamp): Uint8Array {
  let size = HEADER
  for (const e of entries) size += ENTRY + e.data.byteLength
  const out = new Uint8Array(size)
  const dv = new DataView(out.buffer)
  out[0] = BATCH_VERSION
  setU64(dv, 1, stamp?.epoch ?? 0)
  setU64(dv, 9, stamp?.head ?? entries.at(-1)?.seq ?? 0)
  let o = HEADER
  for (const e of entries) {
    setU64(dv, o, e.seq)
    dv.setUint32(o + 8, e.data.byteLength)
    out.set(e.data, o + ENTRY)
    o += ENTRY + e.data.byteLength
  }
  return out
}

/**
 * A frame's stamp and entries, in order, as views into `frame`; undefined if the frame is
 * malformed (unknown version, truncated entry, trailing bytes, seqs not increasing or past
 * the head, numbers past 2^53) — then none is delivered.
 */
export function decodeFrame(frame: Uint8Array): BatchFrame | undefined {
  if (frame.byteLength < HEADER || frame[0] !== BATCH_VERSION) return undefined
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const epoch = getU64(dv, 1)
  const head = getU64(dv, 9)
  if (epoch === undefined || head === undefined) return undefined
  const entries: BatchEntry[] = []
  let o = HEADER
  let last = 0
  while (o < frame.byteLength) {
    if (frame.byteLength - o < ENTRY) return undefined
    const seq = getU64(dv, o)
    const len = dv.getUint32(o + 8)
    o += ENTRY
    if (len > frame.byteLength - o || seq === undefined || seq <= last || seq > head) return undefined
    entries.push({ seq, data: frame.subarray(o, o + len) })
    last = seq
    o += len
  }
  return { epoch, head, entries }
}

/** The entries of a frame (decodeFrame without its stamp). */
export function decodeBatch(frame: Uint8Array): BatchEntry[] | undefined {
  return decodeFrame(frame)?.entries
}

/**
 * The number of entries in a frame, checked as decodeFrame checks it but without making
 * them; undefined if the frame is malformed. A marker counts 0.
 */
export function countBatch(frame: Uint8Array): number | undefined {
  if (frame.byteLength < HEADER || frame[0] !== BATCH_VERSION) return undefined
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const head = getU64(dv, 9)
  if (getU64(dv, 1) === undefined || head === undefined) return undefined
  let n = 0
  let o = HEADER
  let last = 0
  while (o < frame.byteLength) {
    if (frame.byteLength - o < ENTRY) return undefined
    const seq = getU64(dv, o)
    const len = dv.getUint32(o + 8)
    o += ENTRY
    if (len > frame.byteLength - o || seq === undefined || seq <= last || seq > head) return undefined
    last = seq
    o += len
    n++
  }
  return n
}

/** A u64 at `o` as a number; undefined past 2^53 (not a safe integer). */
export function getU64(dv: DataView, o: number): number | undefined {
  const hi = dv.getUint32(o)
  return hi >= 2 ** 21 ? undefined : hi * 2 ** 32 + dv.getUint32(o + 4)
}

export function setU64(dv: DataView, o: number, n: number): void {
  dv.setUint32(o, Math.floor(n / 2 ** 32))
  dv.setUint32(o + 4, n >>> 0)
}

/**
 * Collects one topic's outgoing messages and sends them as one frame at the end of the
 * current tick (process.nextTick: after the running code and its promise continuations),
 * or at once when a limit is reached. Messages leave in publish order. With
 * `minIntervalMs`, a batch due less than that after the last one waits out the rest.
 */
export class Batcher {
  #entries: BatchEntry[] = []
  #bytes = 0
  #scheduled = false
  #closed = false
  #timer: ReturnType<typeof setTimeout> | undefined
  #lastFlush = -Infinity

  constructor(
    private readonly send: (frame: Uint8Array) => void,
    private readonly limits: BatchLimits = DEFAULT_BATCH_LIMITS,
    /** The publishing host's epoch, stamped on every frame. */
    private readonly epoch = 0,
  ) {
    if (!(limits.maxBytes >= 1) || !(limits.maxMessages >= 1)) {
      throw new RangeError('batch limits must be at least 1')
    }
  }

  get pending(): number { return this.#entries.length }

  add(seq: number, data: Uint8Array): void {
    if (this.#closed) return
    if (this.#entries.length > 0 && this.#bytes + data.byteLength > this.limits.maxBytes) this.flush()
    this.#entries.push({ seq, data })
    this.#bytes += data.byteLength
    if (this.#entries.length >= this.limits.maxMessages || this.#bytes >= this.limits.maxBytes) {
      this.flush()
    } else if (!this.#scheduled) {
      this.#scheduled = true
      const wait = (this.limits.minIntervalMs ?? 0) - (performance.now() - this.#lastFlush)
      if (wait <= 0) process.nextTick(this.#due)
      else this.#timer = setTimeout(this.#due, wait)
    }
  }

  readonly #due = (): void => { this.#scheduled = false; this.#timer = undefined; this.flush() }

  /** Sends what is pending now. */
  flush(): void {
    if (this.#entries.length === 0) return
    if (this.limits.minIntervalMs) this.#lastFlush = performance.now()
    const entries = this.#entries
    this.#entries = []
    this.#bytes = 0
    this.send(encodeBatch(entries, { epoch: this.epoch, head: entries.at(-1)!.seq }))
  }

  /** Sends what is pending, then drops later adds. */
  close(): void {
    clearTimeout(this.#timer)
    this.flush()
    this.#closed = true
  }
}
