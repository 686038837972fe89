// Single-segment Cap'n Proto message builder writing the standard unpacked stream framing
// ([u32 0][u32 words] then the segment) into one growable, 16-byte aligned heap block.
// Everything is addressed by byte offset from the segment start, never by address: the
// block moves when it grows.

import { ElementSize } from "./pointer";

const HEADER: u32 = 8;

export class MessageBuilder {
  /** The frame: header then segment. Moves when the buffer grows. */
  buf: usize = 0;
  capacity: u32 = 0;
  /** Bytes of the segment in use (a multiple of 8). */
  used: u32 = 0;

  constructor(initialBytes: u32 = 1024) {
    this.capacity = max<u32>(initialBytes, 64) + HEADER;
    this.buf = heap.alloc(this.capacity);
    this.reset();
  }

  /** Start a new message in the same buffer: the root pointer word, zeroed. */
  reset(): void {
    this.used = 8;
    store<u64>(this.buf + HEADER, 0);
  }

  /** Address of segment byte `off`: valid only until the next allocation. */
  @inline at(off: u32): usize {
    return this.buf + HEADER + off;
  }

  /** Allocate `words` zeroed words; returns their segment byte offset. */
  allocate(words: u32): u32 {
    const bytes = words << 3;
    const off = this.used;
    const need = HEADER + off + bytes;
    if (need > this.capacity) {
      let cap = this.capacity << 1;
      while (cap < need) cap <<= 1;
      this.buf = heap.realloc(this.buf, cap);
      this.capacity = cap;
    }
    memory.fill(this.buf + HEADER + off, 0, bytes);
    this.used = off + bytes;
    return off;
  }

  initRoot(dataWords: u16, pointerCount: u16): StructBuilder {
    const off = this.allocate(<u32>dataWords + <u32>pointerCount);
    this.writeStructPointer(0, off, dataWords, pointerCount);
    return new StructBuilder(this, off, dataWords, pointerCount);
  }

  /** Finish the frame (segment table) and return its address; length is `frameLength`. */
  finish(): usize {
    store<u32>(this.buf, 0);
    store<u32>(this.buf, this.used >> 3, 4);
    return this.buf;
  }

  get frameLength(): i32 {
    return <i32>(HEADER + this.used);
  }

  // Pointer words. `at` is the pointer's segment byte offset, `target` the content's.
  writeStructPointer(at: u32, target: u32, dataWords: u16, pointerCount: u16): void {
    // A zero-sized struct gets offset -1, as Cap'n Proto encodes it: with offset 0 its
    // pointer would be all zeros, i.e. null (readers take that as the default struct, but
    // a host reading a Return's results in place declines a null and takes its slow path).
    const rel = dataWords == 0 && pointerCount == 0 ? -1 : (<i32>target - <i32>at - 8) >> 3;
    store<u32>(this.at(at), <u32>(rel << 2));
    store<u32>(this.at(at), <u32>dataWords | (<u32>pointerCount << 16), 4);
  }

  writeListPointer(at: u32, target: u32, size: ElementSize, count: u32): void {
    const rel = (<i32>target - <i32>at - 8) >> 3;
    store<u32>(this.at(at), <u32>(rel << 2) | 1);
    store<u32>(this.at(at), <u32>size | (count << 3), 4);
  }
}

/** A struct being built: data section at `off`, then its pointer section. */
export class StructBuilder {
  constructor(
    public msg: MessageBuilder,
    public off: u32,
    public dataWords: u16,
    public pointerCount: u16,
  ) {}

  @inline private data(byteOff: u32, size: u32): usize {
    // Schema offsets are compile-time facts; a wrong one is a guest bug, not input.
    assert(byteOff + size <= (<u32>this.dataWords << 3), "data field outside struct");
    return this.msg.at(this.off + byteOff);
  }

  setU8(byteOff: u32, v: u8): void { store<u8>(this.data(byteOff, 1), v); }
  setU16(byteOff: u32, v: u16): void { store<u16>(this.data(byteOff, 2), v); }
  setU32(byteOff: u32, v: u32): void { store<u32>(this.data(byteOff, 4), v); }
  setU64(byteOff: u32, v: u64): void { store<u64>(this.data(byteOff, 8), v); }
  setI8(byteOff: u32, v: i8): void { store<i8>(this.data(byteOff, 1), v); }
  setI16(byteOff: u32, v: i16): void { store<i16>(this.data(byteOff, 2), v); }
  setI32(byteOff: u32, v: i32): void { store<i32>(this.data(byteOff, 4), v); }
  setI64(byteOff: u32, v: i64): void { store<i64>(this.data(byteOff, 8), v); }
  setF32(byteOff: u32, v: f32): void { store<f32>(this.data(byteOff, 4), v); }
  setF64(byteOff: u32, v: f64): void { store<f64>(this.data(byteOff, 8), v); }

  /** Bools are bit offsets from the data section's start. */
  setBool(bit: u32, v: bool): void {
    const p = this.data(bit >> 3, 1);
    const mask = <u8>(<u32>1 << (bit & 7));
    store<u8>(p, v ? load<u8>(p) | mask : load<u8>(p) & ~mask);
  }

  /** Segment byte offset of pointer slot `i`. */
  pointerAt(i: u16): u32 {
    assert(i < this.pointerCount, "pointer field outside struct");
    return this.off + (<u32>this.dataWords << 3) + (<u32>i << 3);
  }

  initStruct(i: u16, dataWords: u16, pointerCount: u16): StructBuilder {
    const at = this.pointerAt(i);
    const off = this.msg.allocate(<u32>dataWords + <u32>pointerCount);
    this.msg.writeStructPointer(at, off, dataWords, pointerCount);
    return new StructBuilder(this.msg, off, dataWords, pointerCount);
  }

  /** Text: UTF-8 plus a NUL terminator, as a byte list. */
  setText(i: u16, s: string): void {
    const len = <u32>String.UTF8.byteLength(s, false);
    const at = this.pointerAt(i);
    const off = this.msg.allocate((len + 1 + 7) >> 3);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, this.msg.at(off), false);
    this.msg.writeListPointer(at, off, ElementSize.Byte, len + 1);
  }

  /** Data from `len` bytes at `src` (which must not lie inside this builder's buffer). */
  setDataRaw(i: u16, src: usize, len: u32): void {
    const at = this.pointerAt(i);
    const off = this.msg.allocate((len + 7) >> 3);
    memory.copy(this.msg.at(off), src, len);
    this.msg.writeListPointer(at, off, ElementSize.Byte, len);
  }

  setData(i: u16, bytes: Uint8Array): void {
    this.setDataRaw(i, bytes.dataStart, <u32>bytes.length);
  }

  /** A list of primitives (`size` Bit..EightBytes) or pointers; returns a list builder. */
  initList(i: u16, size: ElementSize, count: u32): ListBuilder {
    assert(size != ElementSize.InlineComposite, "use initStructList");
    const bits: u64 = <u64>elementBits(size) * <u64>count;
    const at = this.pointerAt(i);
    const off = this.msg.allocate(<u32>((bits + 63) >> 6));
    this.msg.writeListPointer(at, off, size, count);
    return new ListBuilder(this.msg, off, size, count, 0, 0);
  }

  /** A list of structs (inline composite: a tag word, then the elements). */
  initStructList(i: u16, count: u32, dataWords: u16, pointerCount: u16): ListBuilder {
    const stride = <u32>dataWords + <u32>pointerCount;
    const at = this.pointerAt(i);
    const off = this.msg.allocate(1 + stride * count);
    this.msg.writeListPointer(at, off, ElementSize.InlineComposite, stride * count);
    // The tag is a struct pointer whose offset field holds the element count.
    store<u32>(this.msg.at(off), count << 2);
    store<u32>(this.msg.at(off), <u32>dataWords | (<u32>pointerCount << 16), 4);
    return new ListBuilder(this.msg, off + 8, ElementSize.InlineComposite, count, dataWords, pointerCount);
  }

  /** A capability pointer: index `capIndex` into the message's cap table. */
  setCapability(i: u16, capIndex: u32): void {
    const at = this.pointerAt(i);
    store<u32>(this.msg.at(at), 3);
    store<u32>(this.msg.at(at), capIndex, 4);
  }
}

export class ListBuilder {
  constructor(
    public msg: MessageBuilder,
    public off: u32,
    public size: ElementSize,
    public length: u32,
    public dataWords: u16,
    public pointerCount: u16,
  ) {}

  @inline private elem(i: u32, bytes: u32): usize {
    assert(i < this.length, "list index out of range");
    assert(elementBits(this.size) == bytes << 3, "list element width mismatch");
    return this.msg.at(this.off + i * bytes);
  }

  setU8(i: u32, v: u8): void { store<u8>(this.elem(i, 1), v); }
  setU16(i: u32, v: u16): void { store<u16>(this.elem(i, 2), v); }
  setU32(i: u32, v: u32): void { store<u32>(this.elem(i, 4), v); }
  setU64(i: u32, v: u64): void { store<u64>(this.elem(i, 8), v); }
  setF32(i: u32, v: f32): void { store<f32>(this.elem(i, 4), v); }
  setF64(i: u32, v: f64): void { store<f64>(this.elem(i, 8), v); }

  setBool(i: u32, v: bool): void {
    assert(i < this.length && this.size == ElementSize.Bit, "bad bool list access");
    const p = this.msg.at(this.off + (i >> 3));
    const mask = <u8>(<u32>1 << (i & 7));
    store<u8>(p, v ? load<u8>(p) | mask : load<u8>(p) & ~mask);
  }

  /** Element `i` of a pointer list: a capability, index `capIndex` into the cap table. */
  setCapability(i: u32, capIndex: u32): void {
    assert(i < this.length && this.size == ElementSize.Pointer, "bad capability list access");
    store<u32>(this.msg.at(this.off + (i << 3)), 3);
    store<u32>(this.msg.at(this.off + (i << 3)), capIndex, 4);
  }

  /** Element `i` of a pointer list: Text (UTF-8 plus NUL). */
  setText(i: u32, s: string): void {
    assert(i < this.length && this.size == ElementSize.Pointer, "bad text list access");
    const len = <u32>String.UTF8.byteLength(s, false);
    const at = this.off + (i << 3);
    const off = this.msg.allocate((len + 1 + 7) >> 3);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, this.msg.at(off), false);
    this.msg.writeListPointer(at, off, ElementSize.Byte, len + 1);
  }

  /** Element `i` of a pointer list: Data. */
  setData(i: u32, bytes: Uint8Array): void {
    assert(i < this.length && this.size == ElementSize.Pointer, "bad data list access");
    const at = this.off + (i << 3);
    const len = <u32>bytes.length;
    const off = this.msg.allocate((len + 7) >> 3);
    memory.copy(this.msg.at(off), bytes.dataStart, len);
    this.msg.writeListPointer(at, off, ElementSize.Byte, len);
  }

  /** Element `i` of a struct list. */
  struct(i: u32): StructBuilder {
    assert(i < this.length && this.size == ElementSize.InlineComposite, "bad struct list access");
    const stride = (<u32>this.dataWords + <u32>this.pointerCount) << 3;
    return new StructBuilder(this.msg, this.off + i * stride, this.dataWords, this.pointerCount);
  }
}

export function elementBits(size: ElementSize): u32 {
  switch (size) {
    case ElementSize.Void: return 0;
    case ElementSize.Bit: return 1;
    case ElementSize.Byte: return 8;
    case ElementSize.TwoBytes: return 16;
    case ElementSize.FourBytes: return 32;
    case ElementSize.EightBytes: return 64;
    case ElementSize.Pointer: return 64;
    default: return 0;
  }
}
