// A capnp-ts Message over frame bytes. In place: segment 0 is the *whole* ArrayBuffer
// (capnp-ts segments start at byte 0) and the root pointer sits at the frame's segment
// address; pointers are relative, so everything resolves — once walkFrame has proved
// they stay inside the frame. Copied: one ArrayBuffer per segment.
//
// The arena is a MultiSegmentArena so that, should capnp-ts need to grow a struct read
// from an older schema, it allocates a fresh segment rather than copying the whole buffer.

import { Message } from 'capnp-ts'
import { MultiSegmentArena } from 'capnp-ts/src/serialization/arena/multi-segment-arena.js'
import { ArenaKind } from 'capnp-ts/src/serialization/arena/arena-kind.js'
import { Segment } from 'capnp-ts/src/serialization/segment.js'
import { validate as validatePointer, getTargetStructSize } from 'capnp-ts/src/serialization/pointers/pointer.js'
import { PointerType } from 'capnp-ts/src/serialization/pointers/pointer-type.js'
import { resize } from 'capnp-ts/src/serialization/pointers/struct.js'
import { pack } from 'capnp-ts/src/serialization/packing.js'
import type { Struct, StructCtor } from 'capnp-ts'
import { ViewExpiredError } from '../errors.js'

// Every frame was walked by our validator, whose traversal limit is the one that counts;
// capnp-ts's own per-read countdown would fail honest servers that read a field twice.
const UNLIMITED = Number.MAX_SAFE_INTEGER

export class FrameMessage extends Message {
  /** Byte position of the root pointer in segment 0's buffer. */
  declare readonly rootOffset: number
  /** Byte length of segment 0's frame part (from rootOffset). */
  declare readonly firstSegmentBytes: number
  /** True if segment 0 is a view into someone else's buffer (guest memory, a socket chunk). */
  declare readonly borrowed: boolean
  declare expired: boolean

  /** Not called: frameMessage() makes every FrameMessage (one object shape, no per-frame capnp-ts constructors). */
  private constructor() {
    super()
  }

  /**
   * The standard stream framing of this message's own bytes. capnp-ts's version assumes a
   * segment starts at byte 0 of its buffer and ends at its byteLength; segment 0 here is a
   * range [rootOffset, +firstSegmentBytes) of a larger buffer (guest memory, a slab).
   */
  override toArrayBuffer(): ArrayBuffer {
    const segs = this._capnp.segments
    const n = segs.length
    const hdr = (4 + 4 * n + 7) & ~7
    let total = hdr + this.firstSegmentBytes
    for (let i = 1; i < n; i++) total += (segs[i]!.byteLength + 7) & ~7
    const out = new ArrayBuffer(total)
    const dv = new DataView(out)
    const bytes = new Uint8Array(out)
    dv.setUint32(0, n - 1, true)
    dv.setUint32(4, this.firstSegmentBytes / 8, true)
    bytes.set(new Uint8Array(segs[0]!.buffer, this.rootOffset, this.firstSegmentBytes), hdr)
    let pos = hdr + this.firstSegmentBytes
    for (let i = 1; i < n; i++) {
      const len = (segs[i]!.byteLength + 7) & ~7
      dv.setUint32(4 + 4 * i, len / 8, true)
      bytes.set(new Uint8Array(segs[i]!.buffer, 0, len), pos)
      pos += len
    }
    return out
  }

  override toPackedArrayBuffer(): ArrayBuffer {
    return pack(this.toArrayBuffer())
  }

  override getRoot<T extends Struct>(RootStruct: StructCtor<T>): T {
    const root = new RootStruct(this.getSegment(0), this.rootOffset)
    validatePointer(PointerType.STRUCT, root)
    const ts = getTargetStructSize(root)
    const want = RootStruct._capnp.size
    if (ts.dataByteLength < want.dataByteLength || ts.pointerLength < want.pointerLength) resize(want, root)
    return root
  }
}

/**
 * Segment 0 of an in-place frame. Every capnp-ts read goes through a segment's `_dv` (or
 * `buffer`); here both are accessors that check one flag, so expiring a borrowed message is
 * a store, not a reshaping of live objects, and every struct, list or Data taken from it
 * (they all hold this segment) throws ViewExpiredError from then on.
 */
const NO_VIEW = new DataView(new ArrayBuffer(0))

class BorrowedSegment extends Segment {
  declare expired_: boolean
  declare dv_: DataView
  declare buffer_: ArrayBuffer
}
// Accessors on the prototype (capnp-ts declares `_dv` and `buffer` as fields; segment()
// assigns them, which lands in the setters).
Object.defineProperty(BorrowedSegment.prototype, '_dv', {
  get(this: BorrowedSegment): DataView {
    if (this.expired_) throw new ViewExpiredError()
    return this.dv_
  },
  set(this: BorrowedSegment, v: DataView) { this.dv_ = v },
})
Object.defineProperty(BorrowedSegment.prototype, 'buffer', {
  get(this: BorrowedSegment): ArrayBuffer {
    if (this.expired_) throw new ViewExpiredError()
    return this.buffer_
  },
  set(this: BorrowedSegment, v: ArrayBuffer) { this.buffer_ = v },
})

// A frame is made per message sent or received (7 per forwarded call), so this builds the
// FrameMessage, its arena and segments directly rather than through capnp-ts's constructors:
// those make a DataView per segment and a `debug` trace call each. The objects get the
// same own properties, in the same order, as those constructors give them.

const views = new WeakMap<ArrayBuffer, DataView>()

/**
 * A DataView over the whole of `buffer`, made once per buffer: frames read from one guest's
 * memory, one socket chunk or one slab all share it. A grown memory has a new buffer.
 */
export function viewOf(buffer: ArrayBuffer): DataView {
  let dv = views.get(buffer)
  if (dv === undefined) {
    dv = new DataView(buffer)
    views.set(buffer, dv)
  }
  return dv
}

/**
 * A message over frame bytes: segment 0 is `buffers[0]` with the root pointer at `rootOffset`
 * (`view0`, if given, a DataView over the whole of it), other segments are whole buffers.
 * `borrowed`: segment 0 views someone else's bytes, and expire() cuts it.
 */
export function frameMessage(buffers: ArrayBuffer[], rootOffset: number, firstSegmentBytes: number, borrowed: boolean, view0?: DataView): FrameMessage {
  const m = Object.create(FrameMessage.prototype) as Mutable<FrameMessage>
  const arena = Object.create(MultiSegmentArena.prototype) as Mutable<MultiSegmentArena>
  arena.kind = ArenaKind.MULTI_SEGMENT
  arena.buffers = buffers
  const segs: Segment[] = new Array(buffers.length)
  m._capnp = { arena, segments: segs, traversalLimit: UNLIMITED }
  m.rootOffset = rootOffset
  m.firstSegmentBytes = firstSegmentBytes
  m.borrowed = borrowed
  m.expired = false
  // Only segment 0 of an in-place frame views borrowed bytes; it alone needs the expiry check.
  segs[0] = segment(borrowed ? BorrowedSegment.prototype : Segment.prototype, 0, m, buffers[0]!, view0 ?? new DataView(buffers[0]!))
  if (borrowed) (segs[0] as BorrowedSegment).expired_ = false
  for (let i = 1; i < buffers.length; i++) segs[i] = segment(Segment.prototype, i, m, buffers[i]!, new DataView(buffers[i]!))
  return m
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** A Segment as capnp-ts's constructor makes it, on `dv` (through the setters of a BorrowedSegment). */
function segment(proto: Segment, id: number, message: Message, buffer: ArrayBuffer, dv: DataView): Segment {
  const s = Object.create(proto) as Record<string | symbol, unknown>
  s[Symbol.toStringTag] = 'Segment'
  s['id'] = id
  s['message'] = message
  s['buffer'] = buffer
  s['_dv'] = dv
  s['byteOffset'] = 0
  s['byteLength'] = buffer.byteLength
  return s as unknown as Segment
}

const EXPIRED: PropertyDescriptor = {
  get(): never { throw new ViewExpiredError() },
  configurable: true,
}

/** After this, every read through `message` (or any struct/list/data from it) throws ViewExpiredError. */
export function expire(message: Message): void {
  if (message instanceof FrameMessage) {
    if (message.expired) return
    message.expired = true
    const segs = message._capnp.segments
    const s0 = segs[0]
    if (s0 instanceof BorrowedSegment) {
      // The only borrowed bytes; other segments of a FrameMessage are host-owned copies.
      // Let go of the lender's buffer too: a message kept after it expired (a question's
      // results, an error) must not keep a guest's whole memory alive.
      s0.expired_ = true
      s0.dv_ = NO_VIEW
      s0.buffer_ = NO_VIEW.buffer as ArrayBuffer
      return
    }
    if (!message.borrowed) {
      cutSegments(segs)
      return
    }
  }
  cutSegments(message._capnp.segments)
}

function cutSegments(segs: Segment[]): void {
  // Any other message: structs hold their Segment; Segment reads go through `_dv` and
  // `buffer`. Replacing both with throwing accessors cuts every path into the bytes at once.
  for (const seg of segs) {
    Object.defineProperty(seg, '_dv', EXPIRED)
    Object.defineProperty(seg, 'buffer', EXPIRED)
  }
}

/**
 * A host-owned copy of `message`, made once: a borrowed frame's segment bytes are copied
 * into a fresh ArrayBuffer; other messages are returned as they are (already host-owned).
 */
export function detach(message: Message): Message {
  if (!(message instanceof FrameMessage) || !message.borrowed) return message
  if (message.expired) throw new ViewExpiredError()
  const src = message._capnp.segments[0]!.buffer
  const start = message.rootOffset
  const copy = src.slice(start, start + message.firstSegmentBytes)
  const buffers = [copy]
  for (let i = 1; i < message._capnp.segments.length; i++) buffers.push(message._capnp.segments[i]!.buffer)
  const out = frameMessage(buffers, 0, copy.byteLength, false)
  if (message._capnp.capTable !== undefined) out._capnp.capTable = message._capnp.capTable
  return out
}
