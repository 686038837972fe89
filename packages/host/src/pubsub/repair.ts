// Repair for pubsub across hosts: what a publishing host keeps of its recent messages, and
// the wire format of a subscriber asking it for the ones it missed.
//
// Why: gossipsub is at-most-once. What is published while a link or its gossipsub stream is
// down, or before a subscriber's subscription reached the publisher again after a
// reconnect, is sent to no one and never resent (tools/cluster-faults README, findings 4,
// 13, 15: 39 % delivered on 8 hosts with resets). Every frame carries the publisher's epoch
// and its last seq (batch.ts), so a subscriber sees what it lacks — a hole before a later
// message, or a head past the last it got — and asks the publisher's host for exactly that
// (cluster/pubsub-repair.ts); the host answers from a window bounded in messages and bytes.
// What fell out of the window is answered as gone, and the subscriber skips it as a gap.
//
// Request: [u8 version = 1][u8 topic length][topic][u64 epoch][u8 ranges] then per range
//   [u64 from][u64 to] (inclusive, increasing, not overlapping). Version 2 adds [u32
//   withinMs]: only messages published at most that long ago are wanted (a subscriber's
//   opening request: what was published since it subscribed, by elapsed time, so the two
//   hosts' clocks need not agree); older ones are answered as gone.
// Answer:  [u64 through] then a batch frame (batch.ts) of the publisher's epoch and head
//   and the asked messages it still has, in order. Asked seqs up to `through` that it
//   holds no entry for are gone; asked seqs past `through` were not answered (ask again).

import { BATCH_VERSION, decodeFrame, encodeBatch, getU64, setU64, type BatchEntry, type BatchFrame } from './batch.js'

export const REPAIR_VERSION = 1
/** A request bounded by age (`withinMs`). */
export const REPAIR_VERSION_WITHIN = 2
/** Ranges one request may ask for. */
export const MAX_REPAIR_RANGES = 32
/** A request is at most this long (a 200-byte topic and 32 ranges fit). */
export const MAX_REPAIR_REQUEST_BYTES = 1 + 1 + 255 + 8 + 1 + MAX_REPAIR_RANGES * 16 + 4
/** Payload bytes and messages one answer carries at most; the rest is asked again. */
export const MAX_REPAIR_ANSWER_PAYLOAD = 1024 * 1024
export const MAX_REPAIR_ANSWER_MESSAGES = 1024
/** An answer is at most this long on the wire. */
export const MAX_REPAIR_ANSWER_BYTES = 8 + 17 + MAX_REPAIR_ANSWER_MESSAGES * 12 + MAX_REPAIR_ANSWER_PAYLOAD

/** The last seq that can be asked for: a range ending here asks "up to your head" (the tail). */
export const OPEN_END = Number.MAX_SAFE_INTEGER

export type SeqRange = readonly [from: number, to: number]

export interface RepairRequest {
  topic: string
  /** The publisher's epoch the asker knows; another epoch's seqs are all gone. */
  epoch: number
  ranges: SeqRange[]
  /** Only messages published at most this many ms ago (up to 2^32 − 1); older ones are gone. */
  withinMs?: number
}

export interface RepairAnswer extends BatchFrame {
  through: number
}

const enc = new TextEncoder()
const dec = new TextDecoder('utf-8', { fatal: true })

export function encodeRepairRequest(r: RepairRequest): Uint8Array {
  const topic = enc.encode(r.topic)
  const within = r.withinMs !== undefined
  const out = new Uint8Array(1 + 1 + topic.byteLength + 8 + 1 + r.ranges.length * 16 + (within ? 4 : 0))
  const dv = new DataView(out.buffer)
  out[0] = within ? REPAIR_VERSION_WITHIN : REPAIR_VERSION
  out[1] = topic.byteLength
  out.set(topic, 2)
  let o = 2 + topic.byteLength
  setU64(dv, o, r.epoch)
  out[o + 8] = r.ranges.length
  o += 9
  for (const [from, to] of r.ranges) { setU64(dv, o, from); setU64(dv, o + 8, to); o += 16 }
  if (within) dv.setUint32(o, Math.min(Math.max(0, Math.round(r.withinMs!)), 0xffff_ffff))
  return out
}

/** A request, or why it is refused (then the asker is counted and its stream ends). */
export function decodeRepairRequest(b: Uint8Array): RepairRequest | string {
  if (b.byteLength > MAX_REPAIR_REQUEST_BYTES) return `${b.byteLength} bytes, over ${MAX_REPAIR_REQUEST_BYTES}`
  if (b.byteLength < 2 || (b[0] !== REPAIR_VERSION && b[0] !== REPAIR_VERSION_WITHIN)) return 'not a repair request'
  const within = b[0] === REPAIR_VERSION_WITHIN
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const tl = b[1]!
  let o = 2 + tl
  if (tl === 0 || b.byteLength < o + 9) return 'truncated'
  let topic: string
  try { topic = dec.decode(b.subarray(2, o)) } catch { return 'topic not UTF-8' }
  const epoch = getU64(dv, o)
  const n = b[o + 8]!
  o += 9
  if (epoch === undefined) return 'epoch past 2^53'
  if (n === 0 || n > MAX_REPAIR_RANGES) return `${n} ranges, not 1-${MAX_REPAIR_RANGES}`
  if (b.byteLength !== o + n * 16 + (within ? 4 : 0)) return 'length does not match its ranges'
  const ranges: SeqRange[] = []
  let last = 0
  for (let i = 0; i < n; i++, o += 16) {
    const from = getU64(dv, o)
    const to = getU64(dv, o + 8)
    if (from === undefined || to === undefined || from <= last || to < from) return 'ranges must be increasing, from 1, not overlapping'
    ranges.push([from, to])
    last = to
  }
  return within ? { topic, epoch, ranges, withinMs: dv.getUint32(o) } : { topic, epoch, ranges }
}

export function encodeRepairAnswer(a: RepairAnswer): Uint8Array {
  const frame = encodeBatch(a.entries, { epoch: a.epoch, head: a.head })
  const out = new Uint8Array(8 + frame.byteLength)
  setU64(new DataView(out.buffer), 0, a.through)
  out.set(frame, 8)
  return out
}

/** Why an answer was refused; `forged` when it holds bytes that were not asked for. */
export interface RepairRefusal { refused: string; forged: boolean }

/**
 * An answer to `asked`, or why it is refused: malformed, or holding an entry that was not
 * asked for (or of another epoch), or a `through` past what was asked — bytes the asker
 * did not ask for are a forgery, not a repair.
 */
export function decodeRepairAnswer(b: Uint8Array, asked: RepairRequest): RepairAnswer | RepairRefusal {
  const bad = (refused: string, forged = false): RepairRefusal => ({ refused, forged })
  if (b.byteLength > MAX_REPAIR_ANSWER_BYTES) return bad(`${b.byteLength} bytes, over ${MAX_REPAIR_ANSWER_BYTES}`)
  if (b.byteLength < 8 + 1 || b[8] !== BATCH_VERSION) return bad('not a repair answer')
  const through = getU64(new DataView(b.buffer, b.byteOffset, b.byteLength), 0)
  const frame = decodeFrame(b.subarray(8))
  if (through === undefined || frame === undefined) return bad('malformed')
  if (frame.entries.length > MAX_REPAIR_ANSWER_MESSAGES) return bad('too many entries')
  if (frame.epoch !== asked.epoch) return frame.entries.length === 0 ? { ...frame, through: 0 } : bad('entries of another epoch', true)
  if (through > asked.ranges.at(-1)![1]) return bad('answers past what was asked', true)
  let i = 0
  for (const e of frame.entries) {
    while (i < asked.ranges.length && asked.ranges[i]![1] < e.seq) i++
    const r = asked.ranges[i]
    if (r === undefined || e.seq < r[0] || e.seq > through) return bad(`seq ${e.seq} was not asked for`, true)
  }
  return { ...frame, through }
}

/** What a publishing host keeps of its own messages for repair (option `pubsubRepair`). */
export interface RepairWindowLimits {
  /** Messages kept per topic. Default 1024. */
  messages: number
  /** Payload bytes kept per topic (a larger message is not kept). Default 1 MiB. */
  bytes: number
  /** Topics kept (the least recently published on is forgotten first). Default 16. */
  topics: number
}

/** A publisher's window by default: 1,024 messages and 1 MiB per topic, 16 topics. */
export const DEFAULT_REPAIR_WINDOW: RepairWindowLimits = { messages: 1024, bytes: 1024 * 1024, topics: 16 }

/** One topic's recent messages as published here, oldest first, and its last seq. */
class TopicWindow {
  readonly entries: BatchEntry[] = []
  /** When each entry was published here (this host's clock), parallel to `entries`. */
  readonly times: number[] = []
  #start = 0 // entries before this index have fallen out (compacted now and then)
  bytes = 0
  head = 0
  lastAt = 0
  markers = 0 // head markers sent since the last publish

  add(e: BatchEntry, limits: RepairWindowLimits, now: number): void {
    this.head = e.seq
    this.lastAt = now
    this.markers = 0
    if (e.data.byteLength <= limits.bytes) { this.entries.push(e); this.times.push(now); this.bytes += e.data.byteLength }
    while (this.entries.length - this.#start > limits.messages || this.bytes > limits.bytes) {
      this.bytes -= this.entries[this.#start]!.data.byteLength
      this.entries[this.#start++] = undefined as unknown as BatchEntry
    }
    if (this.#start > 1024 && this.#start * 2 > this.entries.length) {
      this.entries.splice(0, this.#start)
      this.times.splice(0, this.#start)
      this.#start = 0
    }
  }

  /**
   * The kept entries in `ranges` (published at or after `since`, this host's clock), within
   * the answer's bounds, and how far that answers.
   */
  answer(ranges: readonly SeqRange[], since = -Infinity): { entries: BatchEntry[]; through: number } {
    const out: BatchEntry[] = []
    let bytes = 0
    // Binary search for the first kept entry at or past the first range.
    let lo = this.#start, hi = this.entries.length
    while (lo < hi) { const m = (lo + hi) >> 1; if (this.entries[m]!.seq < ranges[0]![0]) lo = m + 1; else hi = m }
    let r = 0
    for (let i = lo; i < this.entries.length; i++) {
      const e = this.entries[i]!
      while (r < ranges.length && ranges[r]![1] < e.seq) r++
      if (r === ranges.length) break
      if (e.seq < ranges[r]![0] || this.times[i]! < since) continue
      if (out.length > 0 && (out.length >= MAX_REPAIR_ANSWER_MESSAGES || bytes + e.data.byteLength > MAX_REPAIR_ANSWER_PAYLOAD)) {
        return { entries: out, through: out.at(-1)!.seq }
      }
      if (e.data.byteLength > MAX_REPAIR_ANSWER_PAYLOAD) continue // can never travel: gone
      out.push(e)
      bytes += e.data.byteLength
    }
    // Not yet published is not gone: answer no further than the head.
    return { entries: out, through: Math.min(ranges.at(-1)![1], this.head) }
  }
}

/**
 * What this host published on each topic, kept for repair: per topic at most
 * `limits.messages` messages and `limits.bytes` bytes, for at most `limits.topics` topics.
 * The message bytes are the ones its local subscribers got (shared, never copied).
 */
export class RepairWindows {
  readonly limits: RepairWindowLimits
  readonly #topics = new Map<string, TopicWindow>() // least recently published first
  #latest: string | undefined
  readonly #now: () => number

  constructor(readonly epoch: number, limits: Partial<RepairWindowLimits> = {}, now: () => number = performance.now.bind(performance)) {
    this.limits = { ...DEFAULT_REPAIR_WINDOW, ...limits }
    for (const k of ['messages', 'bytes', 'topics'] as const) {
      if (!(Number.isSafeInteger(this.limits[k]) && this.limits[k] >= 1)) throw new RangeError(`repair window ${k} must be an integer ≥ 1, got ${this.limits[k]}`)
    }
    this.#now = now
  }

  add(topic: string, seq: number, data: Uint8Array): void {
    let w = this.#topics.get(topic)
    if (topic !== this.#latest) { // re-inserted last: most recently published (not per message on one topic)
      if (w) this.#topics.delete(topic)
      else w = new TopicWindow()
      this.#topics.set(topic, w)
      this.#latest = topic
      if (this.#topics.size > this.limits.topics) this.#topics.delete(this.#topics.keys().next().value!)
    }
    w!.add({ seq, data }, this.limits, this.#now())
  }

  /** The answer to a request (its epoch already checked by the caller or answered here). */
  answer(req: RepairRequest): RepairAnswer {
    const w = this.#topics.get(req.topic)
    // Another epoch's seqs: none is here (the asker takes them as gone), nor is a topic not
    // kept (its head unknown: 0; the asker clamps `through` to the head it knows).
    if (req.epoch !== this.epoch) return { epoch: this.epoch, head: w?.head ?? 0, through: 0, entries: [] }
    if (!w) return { epoch: this.epoch, head: 0, through: req.ranges.at(-1)![1], entries: [] }
    const since = req.withinMs === undefined ? -Infinity : this.#now() - req.withinMs
    return { epoch: this.epoch, head: w.head, ...w.answer(req.ranges, since) }
  }

  /**
   * Topics whose stream went quiet and are due a head marker: the i-th marker `delays[i]`
   * ms after the last publish (then none until the next publish). Marks them sent.
   */
  dueMarkers(delays: readonly number[] = MARKER_DELAYS_MS): Array<{ topic: string; head: number }> {
    const now = this.#now()
    const due: Array<{ topic: string; head: number }> = []
    for (const [topic, w] of this.#topics) {
      if (w.markers < delays.length && now - w.lastAt >= delays[w.markers]!) {
        w.markers++
        due.push({ topic, head: w.head })
      }
    }
    return due
  }

  /** Whether some topic still has markers to send. */
  pendingMarkers(delays: readonly number[] = MARKER_DELAYS_MS): boolean {
    for (const w of this.#topics.values()) if (w.markers < delays.length) return true
    return false
  }
}

/**
 * After a publisher's last message on a topic, its head goes out again this many ms later,
 * once each: a subscriber that missed the last messages (its link down then, or its
 * gossipsub stream) learns of them when the link is back, without a steady stream to show
 * the gap. Bounded: five markers per quiet spell.
 */
export const MARKER_DELAYS_MS: readonly number[] = [500, 1000, 2000, 4000, 8000]
