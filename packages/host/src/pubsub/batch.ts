/**
 * Framing for pubsub between hosts: the messages one host publishes on a topic within one
 * tick travel as one network message, so per-message network costs (the publisher's
 * signature, each receiver's verification, gossip bookkeeping, one muxer frame and one
 * socket write per peer) are paid per batch. Each entry keeps its own sequence number, so
 * per-publisher order and gap detection still work message by message.
 *
 * Frame: [u8 version = 1] then entries of [u32 seq hi][u32 seq lo][u32 length][bytes],
 * all big-endian.
 */

export const BATCH_VERSION = 1
const HEADER = 1
const ENTRY = 12

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

export function encodeBatch(entries: ReadonlyArray<{ seq: number; data: Uint8Array }>): Uint8Array {
  let size = HEADER
  for (const e of entries) size += ENTRY + e.data.byteLength
  const out = new Uint8Array(size)
  const dv = new DataView(out.buffer)
  out[0] = BATCH_VERSION
  let o = HEADER
  for (const e of entries) {
    dv.setUint32(o, Math.floor(e.seq / 2 ** 32))
    dv.setUint32(o + 4, e.seq >>> 0)
    dv.setUint32(o + 8, e.data.byteLength)
    out.set(e.data, o + ENTRY)
    o += ENTRY + e.data.byteLength
  }
  return out
}

/**
 * The entries of a frame, in order, as views into `frame`; undefined if the frame is
 * malformed (unknown version, truncated entry, trailing bytes) — then none is delivered.
 */
export function decodeBatch(frame: Uint8Array): Array<{ seq: number; data: Uint8Array }> | undefined {
  if (frame.byteLength < HEADER || frame[0] !== BATCH_VERSION) return undefined
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const out: Array<{ seq: number; data: Uint8Array }> = []
  let o = HEADER
  while (o < frame.byteLength) {
    if (frame.byteLength - o < ENTRY) return undefined
    const seq = dv.getUint32(o) * 2 ** 32 + dv.getUint32(o + 4)
    const len = dv.getUint32(o + 8)
    o += ENTRY
    if (len > frame.byteLength - o || !Number.isSafeInteger(seq)) return undefined
    out.push({ seq, data: frame.subarray(o, o + len) })
    o += len
  }
  return out
}

/**
 * The number of entries in a frame, checked as decodeBatch checks it but without making
 * them; undefined if the frame is malformed.
 */
export function countBatch(frame: Uint8Array): number | undefined {
  if (frame.byteLength < HEADER || frame[0] !== BATCH_VERSION) return undefined
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  let n = 0
  let o = HEADER
  while (o < frame.byteLength) {
    if (frame.byteLength - o < ENTRY) return undefined
    const len = dv.getUint32(o + 8)
    o += ENTRY
    if (len > frame.byteLength - o || dv.getUint32(o - ENTRY) >= 2 ** 21) return undefined
    o += len
    n++
  }
  return n
}

/**
 * Collects one topic's outgoing messages and sends them as one frame at the end of the
 * current tick (process.nextTick: after the running code and its promise continuations),
 * or at once when a limit is reached. Messages leave in publish order. With
 * `minIntervalMs`, a batch due less than that after the last one waits out the rest.
 */
export class Batcher {
  #entries: Array<{ seq: number; data: Uint8Array }> = []
  #bytes = 0
  #scheduled = false
  #closed = false
  #timer: ReturnType<typeof setTimeout> | undefined
  #lastFlush = -Infinity

  constructor(
    private readonly send: (frame: Uint8Array) => void,
    private readonly limits: BatchLimits = DEFAULT_BATCH_LIMITS,
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
    this.send(encodeBatch(entries))
  }

  /** Sends what is pending, then drops later adds. */
  close(): void {
    clearTimeout(this.#timer)
    this.flush()
    this.#closed = true
  }
}
