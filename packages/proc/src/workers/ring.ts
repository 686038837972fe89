// One direction between two pool workers: a single-producer/single-consumer ring of
// records in a SharedArrayBuffer. The producer copies a guest's message into it straight
// out of the guest's memory (the one copy out of the sender); the consumer reads it in
// place and copies it into the receiver (its recv buffer, or a Message of its own) before
// it frees the space. No event loop, no structured clone, no allocation per record.
//
// Layout: the producer's head (bytes ever written) and the consumer's tail (bytes ever
// freed) on separate cache lines, a flag the producer raises when it waits for room, then
// the data. Records are 8-byte aligned and never wrap: one that would not fit before the
// end is preceded by a PAD record to the end. Counters are u32 and wrap (used = head - tail).
//
// Records (i32 words): [size, type, ...]
//   MSG  [size, 1, to, from, cap, len, box, 0] then len bytes: a guest's message
//   ACK  [16, 2, box, r]: the receiver's answer for a message of outbox `box`
//   PORT [16, 3, seq, 0]: the next message of this direction came by the port (large or shared)
//   PAD  [size, 0]: skip to the end of the data

import { WwError } from '@ww/interface'

export const RING_BYTES = 1 << 18
/** The largest message that goes through a ring; larger ones go by port, in order (a PORT record). */
export const RING_MAX_MESSAGE = 1 << 14

const HEAD = 0
const TAIL = 16
const WANT_ROOM = 32
const DATA = 256

const PAD = 0
export const MSG = 1
export const ACK = 2
export const PORT = 3
const MSG_HEADER = 32

/** A record that cannot be what a peer wrote: the link it came on is ended with this reason. */
export class RingCorruptError extends WwError<'ERR_RING_CORRUPT'> {
  constructor(detail: string) { super('ERR_RING_CORRUPT', `corrupt ring record: ${detail}`) }
}

/** A new ring's shared memory (made by the pool, one per direction between two workers). */
export function ringMemory(bytes = RING_BYTES): SharedArrayBuffer {
  // A power of two: positions are u32 counters that wrap, and stay right modulo the size.
  if (bytes < 64 || bytes > 1 << 30 || (bytes & (bytes - 1)) !== 0) throw new RangeError(`ring of ${bytes} bytes: a power of two from 64 to 2^30`)
  return new SharedArrayBuffer(DATA + bytes)
}

const align8 = (n: number): number => (n + 7) & ~7

/** A ring's memory as views: the control cells, the data as words and as bytes. */
function views(sab: SharedArrayBuffer): { cells: Int32Array; words: Int32Array; bytes: Uint8Array } {
  return { cells: new Int32Array(sab, 0, DATA / 4), words: new Int32Array(sab, DATA), bytes: new Uint8Array(sab, DATA) }
}

export class RingWriter {
  readonly #cells: Int32Array
  readonly #words: Int32Array
  readonly #bytes: Uint8Array
  readonly #cap: number
  #head: number
  #tail: number

  constructor(sab: SharedArrayBuffer) {
    ({ cells: this.#cells, words: this.#words, bytes: this.#bytes } = views(sab))
    this.#cap = this.#bytes.byteLength
    this.#head = Atomics.load(this.#cells, HEAD) >>> 0
    this.#tail = Atomics.load(this.#cells, TAIL) >>> 0
  }

  /** A message of `src[start, end)`; false when the ring has no room for it now. */
  message(to: number, from: number, cap: number, box: number, src: Uint8Array, start: number, end: number): boolean {
    const len = end - start
    const at = this.#reserve(align8(MSG_HEADER + len))
    if (at < 0) return false
    const w = this.#words
    const i = at >> 2
    w[i + 1] = MSG; w[i + 2] = to; w[i + 3] = from; w[i + 4] = cap; w[i + 5] = len; w[i + 6] = box; w[i + 7] = 0
    const b = this.#bytes
    const o = at + MSG_HEADER
    if (len <= 64) for (let k = 0; k < len; k++) b[o + k] = src[start + k]!
    else b.set(src.subarray(start, end), o)
    this.#publish()
    return true
  }

  /** An acknowledgement (ACK) or a port marker (PORT): two words; false when there is no room now. */
  small(type: typeof ACK | typeof PORT, a: number, b: number): boolean {
    const at = this.#reserve(16)
    if (at < 0) return false
    const i = at >> 2
    this.#words[i + 1] = type; this.#words[i + 2] = a; this.#words[i + 3] = b
    this.#publish()
    return true
  }

  /**
   * Says it waits for room and returns the tail it saw: wait on `cells[TAIL]` for a change
   * (the reader wakes it). Undefined if room came meanwhile (no need to wait).
   */
  wantRoom(size: number): { cells: Int32Array; index: number; value: number } | undefined {
    Atomics.store(this.#cells, WANT_ROOM, 1)
    const tail = Atomics.load(this.#cells, TAIL)
    this.#tail = tail >>> 0
    if (this.#fits(align8(size))) return undefined
    return { cells: this.#cells, index: TAIL, value: tail }
  }

  /** Whether `size` bytes of record would fit now, reading the consumer's tail only when needed. */
  #fits(size: number): boolean {
    const pos = this.#head % this.#cap
    const need = pos + size > this.#cap ? this.#cap - pos + size : size
    return need <= this.#cap - ((this.#head - this.#tail) >>> 0)
  }

  /** Space for a record of `size` bytes (a PAD first when it would cross the end): its offset, or -1. */
  #reserve(size: number): number {
    if (!this.#fits(size)) {
      this.#tail = Atomics.load(this.#cells, TAIL) >>> 0
      if (!this.#fits(size)) return -1
    }
    let pos = this.#head % this.#cap
    if (pos + size > this.#cap) {
      const rest = this.#cap - pos
      this.#words[pos >> 2] = rest
      this.#words[(pos >> 2) + 1] = PAD
      this.#head = (this.#head + rest) >>> 0
      pos = 0
    }
    this.#words[pos >> 2] = size
    this.#head = (this.#head + size) >>> 0
    return pos
  }

  #publish(): void { Atomics.store(this.#cells, HEAD, this.#head | 0) }
}

/** What a reader does with each record; `message`'s bytes are valid only during the call. */
export interface RingVisitor {
  message(to: number, from: number, cap: number, box: number, src: Uint8Array, start: number, end: number): void
  ack(box: number, r: number): void
  /** The next message came by port: false stops reading here (the rest waits for it). */
  port(seq: number): boolean
}

export class RingReader {
  readonly #cells: Int32Array
  readonly #words: Int32Array
  readonly #bytes: Uint8Array
  readonly #cap: number
  #tail: number

  constructor(sab: SharedArrayBuffer) {
    ({ cells: this.#cells, words: this.#words, bytes: this.#bytes } = views(sab))
    this.#cap = this.#bytes.byteLength
    this.#tail = Atomics.load(this.#cells, TAIL) >>> 0
  }

  /** Records written and not yet read. */
  get pending(): boolean { return (Atomics.load(this.#cells, HEAD) >>> 0) !== this.#tail }

  /**
   * Reads every record written so far (or up to a PORT the visitor is not ready for), then
   * frees their space and wakes a writer waiting for room. A record that cannot be what a
   * writer wrote throws RingCorruptError (what was read before it stays read).
   */
  read(v: RingVisitor): number {
    const head = Atomics.load(this.#cells, HEAD) >>> 0
    let tail = this.#tail
    let n = 0
    try {
      while (tail !== head) {
        const used = (head - tail) >>> 0
        const pos = tail % this.#cap
        const w = this.#words
        const i = pos >> 2
        const size = w[i]!
        if (size < 8 || size % 8 !== 0 || size > used || pos + size > this.#cap) throw new RingCorruptError(`size ${size} at ${pos} (${used} bytes written)`)
        const type = w[i + 1]!
        if (type === MSG) {
          const len = w[i + 5]!
          if (len < 0 || align8(MSG_HEADER + len) !== size) throw new RingCorruptError(`message of ${len} bytes in a record of ${size}`)
          const to = w[i + 2]!
          const from = w[i + 3]!
          const cap = w[i + 4]!
          if (to < 1 || from < 0 || cap < 0) throw new RingCorruptError(`message to ${to} from ${from} carrying ${cap}`)
          v.message(to, from, cap, w[i + 6]!, this.#bytes, pos + MSG_HEADER, pos + MSG_HEADER + len)
        } else if (type === ACK) {
          if (size !== 16) throw new RingCorruptError(`acknowledgement of ${size} bytes`)
          v.ack(w[i + 2]!, w[i + 3]!)
        } else if (type === PORT) {
          if (size !== 16) throw new RingCorruptError(`port marker of ${size} bytes`)
          if (!v.port(w[i + 2]!)) break
        } else if (type === PAD) {
          if (pos + size !== this.#cap) throw new RingCorruptError(`padding of ${size} at ${pos} short of the end`)
        } else {
          throw new RingCorruptError(`type ${type} at ${pos}`)
        }
        tail = (tail + size) >>> 0
        n++
      }
    } finally {
      if (tail !== this.#tail) {
        this.#tail = tail
        Atomics.store(this.#cells, TAIL, tail | 0)
        if (Atomics.load(this.#cells, WANT_ROOM) !== 0) {
          Atomics.store(this.#cells, WANT_ROOM, 0)
          Atomics.notify(this.#cells, TAIL)
        }
      }
    }
    return n
  }
}

/**
 * A worker's doorbell: one cell its peers ring after writing to a ring for it, which
 * costs a notify only while the worker is parked (idle, waiting in Atomics.waitAsync).
 */
export const AWAKE = 0
export const PARKED = 1

/** Atomics.waitAsync (Node ≥ 16; typed here: the project's lib predates ES2024). */
export const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync
type WaitAsync = (cells: Int32Array, index: number, value: number) =>
  { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> }

export function ringBell(bell: Int32Array): void {
  if (Atomics.load(bell, 0) === PARKED && Atomics.compareExchange(bell, 0, PARKED, AWAKE) === PARKED) Atomics.notify(bell, 0)
}
