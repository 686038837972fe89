// Cap'n Proto stream framing (unpacked): a segment table (u32 count-1, u32 words per
// segment, padded to 8 bytes) then the segments. readFrame validates a frame completely
// and decodes single-segment frames in place; writeFrame writes a message's segments
// straight into a target buffer.

import type { Message } from 'capnp-ts'
import { FrameError, LimitError } from './errors.js'
import { DEFAULT_LIMITS, type FrameLimits } from './limits.js'
import { walkFrame, walkSingleSegment } from './frame/validate.js'
import { FrameMessage, expire, detach, frameMessage, viewOf } from './frame/message.js'

export { expire, detach, FrameMessage }

export interface ReadFrameResult {
  message: Message
  /** True: decoded in place, the message views `buffer` and is valid only until expired. */
  borrowed: boolean
  /** Frame length actually used (header + segments), ≤ length. */
  bytes: number
}

function headerBytes(segmentCount: number): number {
  return (4 + 4 * segmentCount + 7) & ~7
}

/**
 * Validate and decode the frame at `buffer[offset, offset+length)`. Single-segment frames at
 * an 8-byte aligned offset without far pointers are decoded in place (borrowed); any other
 * frame is copied once into per-segment ArrayBuffers. Throws FrameError / LimitError.
 */
export function readFrame(buffer: ArrayBuffer, offset: number, length: number, limits: FrameLimits = DEFAULT_LIMITS): ReadFrameResult {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > buffer.byteLength) {
    throw new FrameError(`frame range [${offset}, +${length}) is outside a buffer of ${buffer.byteLength} bytes`)
  }
  if (length < 8) throw new FrameError(`truncated frame: ${length} bytes, a segment table needs at least 8`)
  const dv = viewOf(buffer)
  const count = dv.getUint32(offset, true) + 1
  if (count === 1) {
    // The common case (what guests should write): no segment-table arrays, in place if aligned.
    const start = offset + 8
    const end = start + dv.getUint32(offset + 4, true) * 8
    const total = end - offset
    if (total > limits.maxFrameBytes) throw new LimitError(`frame exceeds ${limits.maxFrameBytes} bytes (segment 0)`)
    if (total > length) throw new FrameError(`truncated frame: segment table declares ${total} bytes, have ${length}`)
    if (end - start < 8) throw new FrameError('segment 0 is empty: no root pointer')
    const hasFar = walkSingleSegment(dv, start, end, limits)
    if (!hasFar && (offset & 7) === 0) {
      return { message: frameMessage([buffer], start, end - start, true, dv), borrowed: true, bytes: total }
    }
    const copy = buffer.slice(start, end)
    return { message: frameMessage([copy], 0, copy.byteLength, false), borrowed: false, bytes: total }
  }
  if (count > limits.maxSegments) throw new LimitError(`frame has ${count} segments, limit is ${limits.maxSegments}`)
  const hdr = headerBytes(count)
  if (hdr > length) throw new FrameError(`truncated frame: segment table of ${count} segments needs ${hdr} bytes, have ${length}`)
  const starts: number[] = new Array(count)
  const ends: number[] = new Array(count)
  let pos = offset + hdr
  for (let i = 0; i < count; i++) {
    const bytes = dv.getUint32(offset + 4 + 4 * i, true) * 8
    starts[i] = pos
    pos += bytes
    ends[i] = pos
    if (pos - offset > limits.maxFrameBytes) throw new LimitError(`frame exceeds ${limits.maxFrameBytes} bytes (segment ${i})`)
  }
  const total = pos - offset
  if (total > length) throw new FrameError(`truncated frame: segment table declares ${total} bytes, have ${length}`)
  if (ends[0]! - starts[0]! < 8) throw new FrameError('segment 0 is empty: no root pointer')
  walkFrame(dv, { starts, ends }, limits)
  const buffers: ArrayBuffer[] = new Array(count)
  for (let i = 0; i < count; i++) buffers[i] = buffer.slice(starts[i]!, ends[i]!)
  return { message: frameMessage(buffers, 0, buffers[0]!.byteLength, false), borrowed: false, bytes: total }
}

/**
 * Total length of the frame at the head of `bytes`, or undefined while its segment table is
 * incomplete. Throws LimitError / FrameError on a header that can never become a valid frame.
 */
export function frameLength(bytes: Uint8Array, limits: FrameLimits = DEFAULT_LIMITS): number | undefined {
  if (bytes.byteLength < 4) return undefined
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const count = dv.getUint32(0, true) + 1
  if (count > limits.maxSegments) throw new LimitError(`frame has ${count} segments, limit is ${limits.maxSegments}`)
  const hdr = headerBytes(count)
  if (bytes.byteLength < hdr) return undefined
  let total = hdr
  for (let i = 0; i < count; i++) {
    total += dv.getUint32(4 + 4 * i, true) * 8
    if (total > limits.maxFrameBytes) throw new LimitError(`frame exceeds ${limits.maxFrameBytes} bytes (segment ${i})`)
  }
  if (total === hdr) throw new FrameError('segment 0 is empty: no root pointer')
  return total
}

/** A message's segments as [buffer, start, byteLength] triples (borrowed frames: their own range). */
function segmentsOf(message: Message): { buffer: ArrayBuffer; start: number; bytes: number }[] {
  if (message._capnp.segments.length === 0) message.getSegment(0)
  const segs = message._capnp.segments
  const out: { buffer: ArrayBuffer; start: number; bytes: number }[] = new Array(segs.length)
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!
    if (i === 0 && message instanceof FrameMessage) out[i] = { buffer: s.buffer, start: message.rootOffset, bytes: message.firstSegmentBytes }
    else out[i] = { buffer: s.buffer, start: 0, bytes: (s.byteLength + 7) & ~7 }
  }
  return out
}

/** Bytes writeFrame will write for `message`. */
export function frameSize(message: Message): number {
  if (message._capnp.segments.length === 0) message.getSegment(0)
  const segs = message._capnp.segments
  let n = headerBytes(segs.length)
  if (message instanceof FrameMessage) {
    n += message.firstSegmentBytes
    for (let i = 1; i < segs.length; i++) n += (segs[i]!.byteLength + 7) & ~7
    return n
  }
  for (let i = 0; i < segs.length; i++) n += (segs[i]!.byteLength + 7) & ~7
  return n
}

/**
 * Write `message` framed into `target` at `offset`: the segment table, then each segment
 * copied straight from its buffer. Returns bytes written; throws LimitError if it does not fit.
 */
export function writeFrame(message: Message, target: Uint8Array, offset = 0): number {
  const segs = segmentsOf(message)
  const hdr = headerBytes(segs.length)
  let total = hdr
  for (const s of segs) total += s.bytes
  if (offset < 0 || offset + total > target.byteLength) {
    throw new LimitError(`frame of ${total} bytes does not fit in ${target.byteLength - offset} bytes of target`)
  }
  const dv = new DataView(target.buffer, target.byteOffset + offset, hdr)
  dv.setUint32(0, segs.length - 1, true)
  for (let i = 0; i < segs.length; i++) dv.setUint32(4 + 4 * i, segs[i]!.bytes / 8, true)
  if ((segs.length & 1) === 0) dv.setUint32(hdr - 4, 0, true)
  let pos = offset + hdr
  for (const s of segs) {
    target.set(new Uint8Array(s.buffer, s.start, s.bytes), pos)
    pos += s.bytes
  }
  return total
}
