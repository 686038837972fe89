// RPC envelopes (rpc.capnp Message/Call/Return/Finish/...) read and written as raw words.
//
// capnp-ts builds a Pointer object (with a debug trace call and a traversal-limit charge)
// for every struct it touches; an envelope costs a dozen of them each way and they were the
// top of the null-call profile. The envelope fields the connection needs are read here
// straight from the segment bytes, and the common outgoing envelopes are laid out word by
// word; capnp-ts objects are built only for what generated code uses (params and results
// structs) or for the rare shapes this reader declines (then the caller takes the capnp-ts
// path, so behaviour never depends on which path ran).
//
// Reads are bounds-checked against the message's own segment range at every hop. Frames
// from readFrame were already walked completely; this check is what lets the reader also
// accept host-built messages safely.

import { Message } from 'capnp-ts'
import { SingleSegmentArena } from 'capnp-ts/src/serialization/arena/single-segment-arena.js'
import { Segment } from 'capnp-ts/src/serialization/segment.js'
import { FrameMessage, frameMessage } from '../frame/message.js'

export type RawSegment = Segment

/** A segment's DataView (capnp-ts keeps `_dv` private in its typings). */
export function dvOf(seg: Segment): DataView {
  return (seg as unknown as { _dv: DataView })._dv
}

/** follow(): the pointer is null. */
export const NULL = -1
/** follow(): not a plain struct pointer inside the range (far, list, capability, out of range). */
export const DECLINE = -2

/** rpc.capnp Message union tags. */
export const M_CALL = 2
export const M_RETURN = 3
export const M_FINISH = 4

/**
 * Where an incoming message's segment 0 lives: the root pointer at `root`, every object
 * within [lo, hi). Undefined for messages this reader declines (multi-segment, empty).
 */
const NO_VIEW = new DataView(new ArrayBuffer(0))

export class Span {
  seg!: RawSegment
  dv!: DataView
  root = 0
  lo = 0
  hi = 0

  /** Let go of the message pointed at (its bytes may be someone else's). */
  release(): void {
    this.seg = undefined as unknown as RawSegment
    this.dv = NO_VIEW
  }

  /** Point at `m`; false if `m` is not a one-segment message (the caller takes the slow path). */
  of(m: Message): boolean {
    const segs = m._capnp.segments
    if (segs.length !== 1) return false
    const seg = segs[0] as RawSegment
    this.seg = seg
    this.dv = dvOf(seg) // throws ViewExpiredError on an expired borrowed message
    if (m instanceof FrameMessage) {
      this.root = this.lo = m.rootOffset
      this.hi = m.rootOffset + m.firstSegmentBytes
    } else {
      this.root = this.lo = 0
      this.hi = seg.byteLength
    }
    return true
  }

  /** Content position of the struct the pointer at `pos` points to, or NULL / DECLINE. */
  follow(pos: number): number {
    const dv = this.dv
    const a = dv.getUint32(pos, true)
    const b = dv.getUint32(pos + 4, true)
    if (a === 0 && b === 0) return NULL
    if ((a & 3) !== 0) return DECLINE
    const content = pos + 8 + (a >> 2) * 8
    if (content < this.lo || content + ((b & 0xffff) + (b >>> 16)) * 8 > this.hi) return DECLINE
    return content
  }

  /** Data section bytes of the struct whose pointer is at `pos` (follow() accepted it). */
  dataBytes(pos: number): number {
    return (this.dv.getUint32(pos + 4, true) & 0xffff) * 8
  }

  /** Pointer count of the struct whose pointer is at `pos`. */
  ptrCount(pos: number): number {
    return this.dv.getUint32(pos + 4, true) >>> 16
  }

  isNullAt(pos: number): boolean {
    return this.dv.getUint32(pos, true) === 0 && this.dv.getUint32(pos + 4, true) === 0
  }

  /** u32 field at byte `off` of a struct with `data` data bytes (0 beyond it, as capnp reads older structs). */
  u32(content: number, data: number, off: number): number {
    return off + 4 <= data ? this.dv.getUint32(content + off, true) : 0
  }

  u16(content: number, data: number, off: number): number {
    return off + 2 <= data ? this.dv.getUint16(content + off, true) : 0
  }

  u8(content: number, data: number, off: number): number {
    return off < data ? this.dv.getUint8(content + off) : 0
  }

  u64(content: number, data: number, off: number): bigint {
    return off + 8 <= data ? this.dv.getBigUint64(content + off, true) : 0n
  }
}

/**
 * A host message whose segment 0 holds `used` bytes already laid out, with room to grow to
 * `capacity` before capnp-ts reallocates (results and params are written by capnp-ts).
 */
export function hostMessage(used: number, capacity: number): Message {
  const buf = new ArrayBuffer(capacity < used ? used : capacity)
  const m = new Message(new SingleSegmentArena(buf))
  m._capnp.segments.push(new Segment(0, m, buf, used))
  return m
}

// Envelopes that capnp-ts will never grow (Finish; Call/Return whose params/results struct
// has no pointer fields; copies of received Returns) are carved from a shared slab instead of
// each getting an ArrayBuffer: ArrayBuffer allocation and collection was the largest cost
// left per call. Each message owns a disjoint, never reused range; its segment 0 spans the
// whole slab and counts as full, so any allocation capnp-ts makes after all (a resize, a cap
// table) goes to a fresh segment of its own (MultiSegmentArena), never into a neighbour.
const SLAB_BYTES = 32 * 1024
let slab = new ArrayBuffer(SLAB_BYTES)
let slabView = new DataView(slab)
let slabPos = 0

/** A host-owned message of `bytes` (≤ SLAB_BYTES) zeroed bytes at its rootOffset in a slab. */
export function slabMessage(bytes: number): FrameMessage {
  if (slabPos + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES)
    slabView = new DataView(slab)
    slabPos = 0
  }
  const m = frameMessage([slab], slabPos, bytes, false, slabView)
  slabPos += (bytes + 7) & ~7
  return m
}

/** A host-owned copy of the `bytes` bytes at `start` of `src` (a received frame's segment). */
export function slabCopy(src: ArrayBuffer, start: number, bytes: number): Message {
  if (bytes > SLAB_BYTES >>> 2) {
    const copy = src.slice(start, start + bytes)
    return frameMessage([copy], 0, bytes, false)
  }
  const m = slabMessage(bytes)
  new Uint8Array(slab, m.rootOffset, bytes).set(new Uint8Array(src, start, bytes))
  return m
}

/** Byte position of `m`'s root pointer in its segment 0. */
export function baseOf(m: Message): number {
  return m instanceof FrameMessage ? m.rootOffset : 0
}

export function segmentOf(m: Message): RawSegment {
  return m._capnp.segments[0] as RawSegment
}

/** A struct pointer word pair at byte `b + pos` to content at byte `b + content`. */
function structPtr(dv: DataView, b: number, pos: number, content: number, dataWords: number, ptrs: number): void {
  dv.setUint32(b + pos, (((content - pos - 8) >> 3) << 2) >>> 0, true)
  dv.setUint32(b + pos + 4, (dataWords | (ptrs << 16)) >>> 0, true)
}

/** A message for an envelope of `used` bytes; `grows`: capnp-ts will write pointers into it. */
function envelopeMessage(used: number, grows: boolean): Message {
  return grows || used > SLAB_BYTES >>> 2 ? hostMessage(used, used + 64) : slabMessage(used)
}

// Word layouts (byte offsets) of the envelopes written here. Root pointer at 0, then:
//   Message  {data 1, ptrs 1} at 8; its pointer at 16
//   Call     {data 3, ptrs 3} at 24; pointers at 48 (target), 56 (params), 64 (thirdParty)
//   MessageTarget {data 1, ptrs 1} at 72
//   Payload  {data 0, ptrs 2} at 88; content pointer at 88, capTable at 96
//   params content at 104
// Return: Return {data 2, ptrs 1} at 24; its pointer at 40 -> Payload at 48 (content 48,
//   capTable 56); results content at 64.
// Finish: Finish {data 1, ptrs 0} at 24; 32 bytes.

export const CALL_PAYLOAD_PTR = 56
const CALL_CONTENT = 104

/**
 * A Call on imported capability `cap`, params an empty struct of the given size (capnp-ts's
 * initStructAt layout). The params struct pointer is at byte baseOf(m) + CALL_PARAMS_PTR,
 * the Payload pointer at baseOf(m) + CALL_PAYLOAD_PTR.
 */
export function writeCall(qid: number, interfaceId: bigint, methodId: number, cap: number, paramsDataWords: number, paramsPtrs: number): Message {
  const used = CALL_CONTENT + (paramsDataWords + paramsPtrs) * 8
  const m = envelopeMessage(used, paramsPtrs > 0)
  const dv = dvOf(segmentOf(m))
  const b = baseOf(m)
  structPtr(dv, b, 0, 8, 1, 1)
  dv.setUint16(b + 8, M_CALL, true)
  structPtr(dv, b, 16, 24, 3, 3)
  dv.setUint32(b + 24, qid, true)
  dv.setUint16(b + 28, methodId, true)
  // sendResultsTo: caller (0); flags 0.
  dv.setBigUint64(b + 32, interfaceId, true)
  structPtr(dv, b, 48, 72, 1, 1)
  structPtr(dv, b, 56, 88, 0, 2)
  dv.setUint32(b + 72, cap, true) // target: importedCap (tag 0)
  structPtr(dv, b, 88, CALL_CONTENT, paramsDataWords, paramsPtrs)
  return m
}
export const CALL_PARAMS_PTR = 88

export const RETURN_PAYLOAD_PTR = 40
export const RETURN_RESULTS_PTR = 48
const RETURN_CONTENT = 64

/**
 * A Return of results for `answerId` (releaseParamCaps false), results an empty struct of the
 * given size; its Payload pointer at baseOf(m) + RETURN_PAYLOAD_PTR, results pointer at baseOf(m) + RETURN_RESULTS_PTR.
 */
export function writeReturn(answerId: number, resultsDataWords: number, resultsPtrs: number): Message {
  const used = RETURN_CONTENT + (resultsDataWords + resultsPtrs) * 8
  const m = envelopeMessage(used, resultsPtrs > 0)
  const dv = dvOf(segmentOf(m))
  const b = baseOf(m)
  structPtr(dv, b, 0, 8, 1, 1)
  dv.setUint16(b + 8, M_RETURN, true)
  structPtr(dv, b, 16, 24, 2, 1)
  dv.setUint32(b + 24, answerId, true)
  // releaseParamCaps = false: stored as true XOR its default (true); which = results (0).
  dv.setUint8(b + 28, 1)
  structPtr(dv, b, 40, 48, 0, 2)
  structPtr(dv, b, 48, RETURN_CONTENT, resultsDataWords, resultsPtrs)
  return m
}

/** A Finish for `questionId`, releaseResultCaps false. */
export function writeFinish(questionId: number): Message {
  const m = slabMessage(32)
  const dv = dvOf(segmentOf(m))
  const b = m.rootOffset
  structPtr(dv, b, 0, 8, 1, 1)
  dv.setUint16(b + 8, M_FINISH, true)
  structPtr(dv, b, 16, 24, 1, 0)
  dv.setUint32(b + 24, questionId, true)
  // releaseResultCaps = false (stored XOR default true).
  dv.setUint8(b + 28, 1)
  return m
}
