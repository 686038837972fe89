// Reader over a received frame. Nothing in the frame is trusted: every pointer is bounds
// checked against its segment, far pointers are followed within the frame's segments,
// and traversal/nesting limits stop amplification and cycles. On the first violation the
// message records a ReadError and every read returns its default from then on.
// Struct fields outside a (smaller, older) struct read as defaults: schema evolution.

import { ElementSize, PointerKind, pointerOffset } from "./pointer";
import { ReadError } from "./errors";

export const MAX_SEGMENTS: u32 = 64;
export const DEFAULT_DEPTH_LIMIT: i32 = 64;

export class MessageReader {
  error: ReadError = ReadError.None;
  // Address of segment `i` is `base + segStart(i)`. Segment 0 is kept in fields, the rest
  // in arrays made only for multi-segment frames: a one-segment frame (every frame the
  // SDK sends and nearly every one it receives) costs one allocation, not five.
  seg0Off: u32 = 0;
  seg0Bytes: u32 = 0;
  moreOff: StaticArray<u32> | null = null;
  moreBytes: StaticArray<u32> | null = null;
  segCount: u32 = 0;
  /** Words the reader may still visit; charged per struct/list, like capnp's own limit. */
  traversalLeft: i64;
  depthLimit: i32;

  // Result of the last resolve(): where the content is and the describing pointer word.
  rSeg: u32 = 0;
  rOff: u32 = 0;
  rLo: u32 = 0;
  rHi: u32 = 0;

  /**
   * Read the stream framing at [base, base+len). `traversalWords` defaults to 8x the
   * frame's size: honest messages read each word once, so this only bites on overlap.
   */
  constructor(public base: usize, public len: u32, traversalWords: i64 = -1, depthLimit: i32 = DEFAULT_DEPTH_LIMIT) {
    this.traversalLeft = traversalWords >= 0 ? traversalWords : (<i64>(len >> 3) << 3) + 64;
    this.depthLimit = depthLimit;
    this.parseTable();
  }

  private parseTable(): void {
    const base = this.base, len = this.len;
    if (len < 8) { this.fail(ReadError.Truncated); return; }
    const count = load<u32>(base) + 1;
    if (count == 0 || count > MAX_SEGMENTS) { this.fail(ReadError.BadSegmentTable); return; }
    const tableBytes: u32 = ((4 + count * 4 + 7) >> 3) << 3;
    if (tableBytes > len) { this.fail(ReadError.Truncated); return; }
    const bytes0 = <u64>load<u32>(base + 4) << 3;
    if (<u64>tableBytes + bytes0 > <u64>len) { this.fail(ReadError.Truncated); return; }
    if (bytes0 < 8) { this.fail(ReadError.Truncated); return; }
    if (count > 1) {
      const offs = new StaticArray<u32>(count);
      const sizes = new StaticArray<u32>(count);
      let at: u64 = tableBytes;
      for (let i: u32 = 0; i < count; i++) {
        const bytes = <u64>load<u32>(base + 4 + i * 4) << 3;
        if (at + bytes > <u64>len) { this.fail(ReadError.Truncated); return; }
        offs[i] = <u32>at;
        sizes[i] = <u32>bytes;
        at += bytes;
      }
      this.moreOff = offs;
      this.moreBytes = sizes;
    }
    this.seg0Off = tableBytes;
    this.seg0Bytes = <u32>bytes0;
    this.segCount = count;
  }

  /** Byte offset of segment `i` (< segCount) from `base`. */
  @inline segStart(i: u32): u32 {
    return i == 0 ? this.seg0Off : unchecked(changetype<StaticArray<u32>>(this.moreOff)[i]);
  }

  /** Byte length of segment `i` (< segCount). */
  @inline segLength(i: u32): u32 {
    return i == 0 ? this.seg0Bytes : unchecked(changetype<StaticArray<u32>>(this.moreBytes)[i]);
  }

  get ok(): bool { return this.error == ReadError.None; }

  fail(e: ReadError): void {
    if (this.error == ReadError.None) this.error = e;
  }

  @inline addr(seg: u32, off: u32): usize {
    return this.base + this.segStart(seg) + off;
  }

  root(): StructReader {
    if (!this.ok) return emptyStruct(this);
    return readStructAt(this, 0, 0, 0);
  }

  /** Charge `words` to the traversal budget; false (and an error) when exhausted. */
  charge(words: u64): bool {
    this.traversalLeft -= <i64>max<u64>(words, 1);
    if (this.traversalLeft < 0) { this.fail(ReadError.TraversalLimit); return false; }
    return true;
  }

  /**
   * Resolve the non-null pointer at (seg, off), following a far pointer if there is one.
   * Sets rSeg/rOff (content) and rLo/rHi (the word that describes it). Bounds of the
   * content itself are checked by the caller, who knows its size.
   */
  resolve(seg: u32, off: u32): bool {
    const lo = load<u32>(this.addr(seg, off));
    const hi = load<u32>(this.addr(seg, off), 4);
    if ((lo & 3) != PointerKind.Far) {
      this.rSeg = seg;
      this.rLo = lo;
      this.rHi = hi;
      if ((lo & 3) == PointerKind.Other) { this.rOff = 0; return true; }
      const target = <i64>off + 8 + (<i64>pointerOffset(lo) << 3);
      if (target < 0 || target > <i64>this.segLength(seg)) { this.fail(ReadError.OutOfBounds); return false; }
      this.rOff = <u32>target;
      return true;
    }
    const double = (lo & 4) != 0;
    const padSeg = hi;
    const padOff: u64 = <u64>(lo >>> 3) << 3;
    if (padSeg >= this.segCount || padOff + (double ? 16 : 8) > <u64>this.segLength(padSeg)) {
      this.fail(ReadError.BadFar);
      return false;
    }
    const padLo = load<u32>(this.addr(padSeg, <u32>padOff));
    const padHi = load<u32>(this.addr(padSeg, <u32>padOff), 4);
    if (!double) {
      // The landing pad is an ordinary pointer in the target segment.
      if ((padLo & 3) == PointerKind.Far) { this.fail(ReadError.BadFar); return false; }
      return this.resolve(padSeg, <u32>padOff);
    }
    // Double far: a single far pointer to the content's start, then the tag word.
    if ((padLo & 7) != PointerKind.Far || padHi >= this.segCount) { this.fail(ReadError.BadFar); return false; }
    const contentOff: u64 = <u64>(padLo >>> 3) << 3;
    if (contentOff > <u64>this.segLength(padHi)) { this.fail(ReadError.BadFar); return false; }
    const tagLo = load<u32>(this.addr(padSeg, <u32>padOff + 8));
    if ((tagLo & 3) == PointerKind.Far || (tagLo & 3) == PointerKind.Other) { this.fail(ReadError.BadFar); return false; }
    this.rSeg = padHi;
    this.rOff = <u32>contentOff;
    this.rLo = tagLo;
    this.rHi = load<u32>(this.addr(padSeg, <u32>padOff + 8), 4);
    return true;
  }
}

// What a null or unreadable pointer reads as: one empty struct and one empty list, over a
// failed empty message, shared by every reader. Every read of them gives the default, and
// nothing mutates them (a failed message ignores further failures), so a null pointer
// costs no allocation — most pointers an RPC envelope or a small call reads are null.
const EMPTY_MESSAGE = new MessageReader(0, 0);
const EMPTY_STRUCT = new StructReader(EMPTY_MESSAGE, 0, 0, 0, 0, 0);
const EMPTY_LIST = new ListReader(EMPTY_MESSAGE, 0, 0, ElementSize.Void, 0, 0, 0, 0, 0);

/** The empty struct (the default for a struct pointer). */
export function emptyStructReader(): StructReader { return EMPTY_STRUCT; }
/** The empty list (the default for a list pointer). */
export function emptyListReader(): ListReader { return EMPTY_LIST; }

// `msg` stays in the signature: readers of a failed message also read as empty.
@inline function emptyStruct(msg: MessageReader): StructReader {
  return EMPTY_STRUCT;
}

/** Read the struct pointer at (seg, off); null pointers give an empty (all-default) struct. */
function readStructAt(msg: MessageReader, seg: u32, off: u32, depth: i32): StructReader {
  if (load<u64>(msg.addr(seg, off)) == 0) return emptyStruct(msg);
  if (depth >= msg.depthLimit) { msg.fail(ReadError.DepthLimit); return emptyStruct(msg); }
  if (!msg.resolve(seg, off)) return emptyStruct(msg);
  if ((msg.rLo & 3) != PointerKind.Struct) { msg.fail(ReadError.WrongKind); return emptyStruct(msg); }
  const dataBytes = (msg.rHi & 0xffff) << 3;
  const ptrs = msg.rHi >>> 16;
  if (<u64>msg.rOff + <u64>dataBytes + (<u64>ptrs << 3) > <u64>msg.segLength(msg.rSeg)) {
    msg.fail(ReadError.OutOfBounds);
    return emptyStruct(msg);
  }
  if (!msg.charge(<u64>(dataBytes >> 3) + ptrs)) return emptyStruct(msg);
  // A zero-sized struct (empty params or results) reads exactly as the shared empty one.
  if (dataBytes == 0 && ptrs == 0) return EMPTY_STRUCT;
  return new StructReader(msg, msg.rSeg, msg.rOff, dataBytes, <u16>ptrs, depth + 1);
}

export class StructReader {
  constructor(
    public msg: MessageReader,
    public seg: u32,
    public off: u32,
    public dataBytes: u32,
    public pointerCount: u16,
    public depth: i32,
  ) {}

  // Fields beyond the struct's data section were added after its writer's schema: default.
  @inline private has(byteOff: u32, size: u32): bool {
    return this.msg.ok && byteOff + size <= this.dataBytes;
  }
  @inline private p(byteOff: u32): usize { return this.msg.addr(this.seg, this.off + byteOff); }

  u8(o: u32): u8 { return this.has(o, 1) ? load<u8>(this.p(o)) : 0; }
  u16(o: u32): u16 { return this.has(o, 2) ? load<u16>(this.p(o)) : 0; }
  u32(o: u32): u32 { return this.has(o, 4) ? load<u32>(this.p(o)) : 0; }
  u64(o: u32): u64 { return this.has(o, 8) ? load<u64>(this.p(o)) : 0; }
  i8(o: u32): i8 { return this.has(o, 1) ? load<i8>(this.p(o)) : 0; }
  i16(o: u32): i16 { return this.has(o, 2) ? load<i16>(this.p(o)) : 0; }
  i32(o: u32): i32 { return this.has(o, 4) ? load<i32>(this.p(o)) : 0; }
  i64(o: u32): i64 { return this.has(o, 8) ? load<i64>(this.p(o)) : 0; }
  f32(o: u32): f32 { return this.has(o, 4) ? load<f32>(this.p(o)) : 0; }
  f64(o: u32): f64 { return this.has(o, 8) ? load<f64>(this.p(o)) : 0; }
  bool(bit: u32): bool {
    return this.has(bit >> 3, 1) ? (load<u8>(this.p(bit >> 3)) & (1 << (bit & 7))) != 0 : false;
  }

  /** Segment byte offset of pointer slot `i`, or -1 when the struct has no such slot. */
  private slot(i: u16): i64 {
    if (!this.msg.ok || i >= this.pointerCount) return -1;
    return <i64>(this.off + this.dataBytes + (<u32>i << 3));
  }

  hasPointer(i: u16): bool {
    const s = this.slot(i);
    return s >= 0 && load<u64>(this.msg.addr(this.seg, <u32>s)) != 0;
  }

  struct(i: u16): StructReader {
    const s = this.slot(i);
    if (s < 0) return emptyStruct(this.msg);
    return readStructAt(this.msg, this.seg, <u32>s, this.depth);
  }

  list(i: u16): ListReader {
    const s = this.slot(i);
    if (s < 0) return emptyList(this.msg);
    return readListAt(this.msg, this.seg, <u32>s, this.depth);
  }

  /** Whether pointer slot `i` holds a capability (a non-null "other" pointer). */
  isCapability(i: u16): bool {
    const s = this.slot(i);
    return s >= 0 && (load<u32>(this.msg.addr(this.seg, <u32>s)) & 3) == PointerKind.Other;
  }

  /** Index into the message's cap table, or -1 (null or not a capability). */
  capIndex(i: u16): i32 {
    const s = this.slot(i);
    if (s < 0) return -1;
    const w = load<u64>(this.msg.addr(this.seg, <u32>s));
    if (w == 0) return -1;
    if (<u32>w != PointerKind.Other) { this.msg.fail(ReadError.WrongKind); return -1; }
    return <i32>(w >>> 32);
  }

  /** Data as a fresh copy (the frame's buffer is reused). */
  data(i: u16): Uint8Array {
    const l = this.list(i);
    return l.bytes();
  }

  text(i: u16): string {
    const l = this.list(i);
    if (l.length == 0) return "";
    if (l.size != ElementSize.Byte || load<u8>(l.addr(l.length - 1)) != 0) {
      this.msg.fail(ReadError.BadText);
      return "";
    }
    return String.UTF8.decodeUnsafe(l.addr(0), l.length - 1, false);
  }
}

@inline function emptyList(msg: MessageReader): ListReader {
  return EMPTY_LIST;
}

function readListAt(msg: MessageReader, seg: u32, off: u32, depth: i32): ListReader {
  if (load<u64>(msg.addr(seg, off)) == 0) return emptyList(msg);
  if (depth >= msg.depthLimit) { msg.fail(ReadError.DepthLimit); return emptyList(msg); }
  if (!msg.resolve(seg, off)) return emptyList(msg);
  if ((msg.rLo & 3) != PointerKind.List) { msg.fail(ReadError.WrongKind); return emptyList(msg); }
  const size = <ElementSize>(msg.rHi & 7);
  const count = msg.rHi >>> 3;
  const lseg = msg.rSeg;
  let start = msg.rOff;
  const segBytes = <u64>msg.segLength(lseg);
  if (size == ElementSize.InlineComposite) {
    // `count` is the word count after the tag; the tag says elements and their size.
    if (<u64>start + 8 + (<u64>count << 3) > segBytes) { msg.fail(ReadError.OutOfBounds); return emptyList(msg); }
    const tagLo = load<u32>(msg.addr(lseg, start));
    const tagHi = load<u32>(msg.addr(lseg, start), 4);
    if ((tagLo & 3) != PointerKind.Struct) { msg.fail(ReadError.WrongKind); return emptyList(msg); }
    const n = tagLo >>> 2;
    const dw = tagHi & 0xffff;
    const pc = tagHi >>> 16;
    if (<u64>n * <u64>(dw + pc) > <u64>count) { msg.fail(ReadError.OutOfBounds); return emptyList(msg); }
    // Zero-sized elements cost nothing to store: charge per element to stop amplification.
    if (!msg.charge(max<u64>(<u64>count, <u64>n))) return emptyList(msg);
    return new ListReader(msg, lseg, start + 8, size, n, (dw + pc) << 6, dw << 3, <u16>pc, depth + 1);
  }
  const bits: u64 = size == ElementSize.Void ? 0 : size == ElementSize.Bit ? 1 : size == ElementSize.Byte ? 8
    : size == ElementSize.TwoBytes ? 16 : size == ElementSize.FourBytes ? 32 : 64;
  const bytes = (bits * <u64>count + 7) >> 3;
  if (<u64>start + bytes > segBytes) { msg.fail(ReadError.OutOfBounds); return emptyList(msg); }
  if (!msg.charge(bits == 0 ? <u64>count : (bytes + 7) >> 3)) return emptyList(msg);
  // Non-composite lists read as struct lists: a primitive is field 0, a pointer is slot 0.
  const dataBytes: u32 = size == ElementSize.Pointer ? 0 : <u32>(bits >> 3);
  const pc: u16 = size == ElementSize.Pointer ? 1 : 0;
  return new ListReader(msg, lseg, start, size, count, <u32>bits, dataBytes, pc, depth + 1);
}

export class ListReader {
  constructor(
    public msg: MessageReader,
    public seg: u32,
    public off: u32,
    public size: ElementSize,
    public length: u32,
    /** Bits per element (for structs: whole element). */
    public strideBits: u32,
    public elemDataBytes: u32,
    public elemPointers: u16,
    public depth: i32,
  ) {}

  /** Address of byte `i` of the list's content (for byte lists). */
  addr(i: u32): usize { return this.msg.addr(this.seg, this.off + i); }

  @inline private ok(i: u32, bits: u32): bool {
    // A list written with wider elements still reads its low bytes (upgrade rule).
    return this.msg.ok && i < this.length && this.strideBits >= bits && this.size != ElementSize.Bit
      && this.size != ElementSize.Pointer;
  }
  @inline private e(i: u32): usize { return this.addr(i * (this.strideBits >> 3)); }

  u8(i: u32): u8 { return this.ok(i, 8) ? load<u8>(this.e(i)) : 0; }
  u16(i: u32): u16 { return this.ok(i, 16) ? load<u16>(this.e(i)) : 0; }
  u32(i: u32): u32 { return this.ok(i, 32) ? load<u32>(this.e(i)) : 0; }
  u64(i: u32): u64 { return this.ok(i, 64) ? load<u64>(this.e(i)) : 0; }
  f32(i: u32): f32 { return this.ok(i, 32) ? load<f32>(this.e(i)) : 0; }
  f64(i: u32): f64 { return this.ok(i, 64) ? load<f64>(this.e(i)) : 0; }
  bool(i: u32): bool {
    if (!this.msg.ok || i >= this.length || this.size != ElementSize.Bit) return false;
    return (load<u8>(this.addr(i >> 3)) & (1 << (i & 7))) != 0;
  }

  /** Element `i` as a struct (any list but bits: see readListAt). */
  struct(i: u32): StructReader {
    if (!this.msg.ok || i >= this.length || this.size == ElementSize.Bit) return emptyStruct(this.msg);
    const at = this.off + i * (this.strideBits >> 3);
    return new StructReader(this.msg, this.seg, at, this.elemDataBytes, this.elemPointers, this.depth);
  }

  /** Element `i` of a pointer list read as Text ("" when null or not text). */
  text(i: u32): string {
    return this.struct(i).text(0);
  }

  /** Element `i` of a pointer list read as Data (a copy). */
  data(i: u32): Uint8Array {
    return this.struct(i).data(0);
  }

  /** Element `i` of a pointer list as a cap-table index, or -1. */
  capIndex(i: u32): i32 {
    return this.struct(i).capIndex(0);
  }

  /** The bytes of a byte list, copied. */
  bytes(): Uint8Array {
    if (!this.msg.ok || this.length == 0) return new Uint8Array(0);
    if (this.size != ElementSize.Byte) { this.msg.fail(ReadError.WrongKind); return new Uint8Array(0); }
    const out = new Uint8Array(this.length);
    memory.copy(out.dataStart, this.addr(0), this.length);
    return out;
  }
}
