// Deep copy of a pointer from a received frame into a message being built. Used to echo a
// message back in `unimplemented`, per rpc.capnp; the reader's bounds and traversal
// limits apply throughout, so a hostile frame cannot make the copy run away.

import { MessageBuilder } from "./builder";
import { MessageReader } from "./reader";
import { ElementSize, PointerKind } from "./pointer";
import { ReadError } from "./errors";

/** Copy the pointer at reader (seg, off) into builder pointer word `dst` (segment offset). */
export function copyPointer(src: MessageReader, seg: u32, off: u32, dst: MessageBuilder, dstAt: u32, depth: i32 = 0): void {
  if (!src.ok || load<u64>(src.addr(seg, off)) == 0) return;
  if (depth >= src.depthLimit) { src.fail(ReadError.DepthLimit); return; }
  if (!src.resolve(seg, off)) return;
  const lo = src.rLo, hi = src.rHi, cseg = src.rSeg, coff = src.rOff;
  const kind = lo & 3;
  if (kind == PointerKind.Other) {
    store<u64>(dst.at(dstAt), (<u64>hi << 32) | lo);
    return;
  }
  const segBytes = <u64>src.segLength(cseg);
  if (kind == PointerKind.Struct) {
    const dw = hi & 0xffff, pc = hi >>> 16;
    if (<u64>coff + ((<u64>dw + pc) << 3) > segBytes) { src.fail(ReadError.OutOfBounds); return; }
    if (!src.charge(dw + pc)) return;
    const to = dst.allocate(dw + pc);
    memory.copy(dst.at(to), src.addr(cseg, coff), dw << 3);
    dst.writeStructPointer(dstAt, to, <u16>dw, <u16>pc);
    for (let i: u32 = 0; i < pc; i++) {
      copyPointer(src, cseg, coff + (dw << 3) + (i << 3), dst, to + (dw << 3) + (i << 3), depth + 1);
    }
    return;
  }
  // Lists.
  const size = <ElementSize>(hi & 7);
  const count = hi >>> 3;
  if (size == ElementSize.InlineComposite) {
    if (<u64>coff + 8 + (<u64>count << 3) > segBytes) { src.fail(ReadError.OutOfBounds); return; }
    const tagHi = load<u32>(src.addr(cseg, coff), 4);
    const n = load<u32>(src.addr(cseg, coff)) >>> 2;
    const dw = tagHi & 0xffff, pc = tagHi >>> 16;
    if (<u64>n * (dw + pc) > <u64>count) { src.fail(ReadError.OutOfBounds); return; }
    if (!src.charge(max<u32>(count, n))) return;
    const to = dst.allocate(1 + count);
    memory.copy(dst.at(to), src.addr(cseg, coff), <u32>(8 + ((<u64>n * (dw + pc)) << 3)));
    dst.writeListPointer(dstAt, to, size, count);
    for (let e: u32 = 0; e < n; e++) {
      const base = 8 + e * ((dw + pc) << 3) + (dw << 3);
      for (let i: u32 = 0; i < pc; i++) {
        copyPointer(src, cseg, coff + base + (i << 3), dst, to + base + (i << 3), depth + 1);
      }
    }
    return;
  }
  const bits: u64 = size == ElementSize.Void ? 0 : size == ElementSize.Bit ? 1 : size == ElementSize.Byte ? 8
    : size == ElementSize.TwoBytes ? 16 : size == ElementSize.FourBytes ? 32 : 64;
  const bytes = (bits * count + 7) >> 3;
  if (<u64>coff + bytes > segBytes) { src.fail(ReadError.OutOfBounds); return; }
  if (!src.charge(bits == 0 ? count : <u32>((bytes + 7) >> 3))) return;
  const to = dst.allocate(<u32>((bytes + 7) >> 3));
  dst.writeListPointer(dstAt, to, size, count);
  if (size != ElementSize.Pointer) {
    memory.copy(dst.at(to), src.addr(cseg, coff), <u32>bytes);
    return;
  }
  for (let i: u32 = 0; i < count; i++) copyPointer(src, cseg, coff + (i << 3), dst, to + (i << 3), depth + 1);
}
