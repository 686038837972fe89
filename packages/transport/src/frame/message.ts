// A capnp-ts Message over frame bytes. In place: segment 0 is the *whole* ArrayBuffer
// (capnp-ts segments start at byte 0) and the root pointer sits at the frame's segment
// address; pointers are relative, so everything resolves — once walkFrame has proved
// they stay inside the frame. Copied: one ArrayBuffer per segment.
//
// The arena is a MultiSegmentArena so that, should capnp-ts need to grow a struct read
// from an older schema, it allocates a fresh segment rather than copying the whole buffer.

import { Message } from 'capnp-ts'
import { MultiSegmentArena } from 'capnp-ts/src/serialization/arena/multi-segment-arena.js'
import { Segment } from 'capnp-ts/src/serialization/segment.js'
import { validate as validatePointer, getTargetStructSize } from 'capnp-ts/src/serialization/pointers/pointer.js'
import { PointerType } from 'capnp-ts/src/serialization/pointers/pointer-type.js'
import { resize } from 'capnp-ts/src/serialization/pointers/struct.js'
import type { Struct, StructCtor } from 'capnp-ts'
import { ViewExpiredError } from '../errors.js'

// Every frame was walked by our validator, whose traversal limit is the one that counts;
// capnp-ts's own per-read countdown would fail honest servers that read a field twice.
const UNLIMITED = Number.MAX_SAFE_INTEGER

export class FrameMessage extends Message {
  /** Byte position of the root pointer in segment 0's buffer. */
  readonly rootOffset: number
  /** Byte length of segment 0's frame part (from rootOffset). */
  readonly firstSegmentBytes: number
  /** True if segment 0 is a view into someone else's buffer (guest memory, a socket chunk). */
  readonly borrowed: boolean
  expired = false

  constructor(buffers: ArrayBuffer[], rootOffset: number, firstSegmentBytes: number, borrowed: boolean) {
    super(new MultiSegmentArena(buffers))
    this.rootOffset = rootOffset
    this.firstSegmentBytes = firstSegmentBytes
    this.borrowed = borrowed
    const segs: Segment[] = new Array(buffers.length)
    for (let i = 0; i < buffers.length; i++) segs[i] = new Segment(i, this, buffers[i]!, buffers[i]!.byteLength)
    this._capnp.segments = segs
    this._capnp.traversalLimit = UNLIMITED
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

const EXPIRED: PropertyDescriptor = {
  get(): never { throw new ViewExpiredError() },
  configurable: true,
}

/** After this, every read through `message` (or any struct/list/data from it) throws ViewExpiredError. */
export function expire(message: Message): void {
  if (message instanceof FrameMessage) {
    if (message.expired) return
    message.expired = true
  }
  // Structs hold their Segment; Segment reads go through `_dv` and `buffer`. Replacing both
  // with throwing accessors cuts every path into the borrowed bytes at once.
  for (const seg of message._capnp.segments) {
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
  const out = new FrameMessage(buffers, 0, copy.byteLength, false)
  if (message._capnp.capTable !== undefined) out._capnp.capTable = message._capnp.capTable
  return out
}
