// One instruction at a time out of a function body or constant expression: its opcode
// and, for the ones the quick metering tier rewrites, the index it names. Covers what
// Binaryen's pass accepts (NODE20_WASM_FEATURES: MVP, sign extension, non-trapping
// conversions, bulk memory, reference types, multi-value, SIMD). Anything else
// (exception handling, tail calls, GC, atomics, relaxed SIMD, multi-memory, memory64)
// is `unsupported`: the caller leaves such a module to Binaryen's pass, which refuses it
// or takes it, the one authority on what ww runs.

import { DecodeError, type Reader } from './wasm-bytes.js'

export const OP = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, brTable: 0x0e, return: 0x0f,
  call: 0x10, callIndirect: 0x11, localSet: 0x21, localTee: 0x22, globalGet: 0x23, globalSet: 0x24, memorySize: 0x3f, memoryGrow: 0x40,
  i32Const: 0x41, i64ExtendI32U: 0xad, i64Add: 0x7c, i64GtU: 0x56, i32Sub: 0x6b, i32LtS: 0x48,
  localGet: 0x20, refFunc: 0xd2,
  i32Eqz: 0x45, i32Eq: 0x46, i32LtU: 0x49, i32Add: 0x6a, i32Shl: 0x74, i32Store: 0x36, select: 0x1b, tableSet: 0x26, tableGrow: 0xfc0f,
} as const

const VALTYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f])

function unsupported(what: string): never {
  throw new DecodeError(`${what} is beyond the quick metering tier`, true)
}

/** A value type (the numbers, v128, funcref, externref); typed references are GC's. */
export function valtype(r: Reader): number {
  const t = r.byte()
  if (!VALTYPES.has(t)) {
    if (t === 0x63 || t === 0x64 || (t >= 0x65 && t <= 0x6e) || t === 0x71 || t === 0x72 || t === 0x73 || t === 0x74) unsupported('a GC reference type')
    throw new DecodeError(`bad value type 0x${t.toString(16)} at byte ${r.pos - 1}`)
  }
  return t
}

function blocktype(r: Reader): void {
  const t = r.bytes[r.pos]
  if (t === 0x40) { r.pos++; return }
  if (t !== undefined && (t & 0xc0) === 0x40) { valtype(r); return } // a one-byte negative s33: a value type
  if (r.u32() > 0x7fffffff) throw new DecodeError('block type index out of range')
}

function memarg(r: Reader): void {
  const align = r.u32()
  if (align & 0x40) unsupported('multi-memory')
  r.skipLeb(32)
}

function memidx(r: Reader): void {
  if (r.byte() !== 0) unsupported('multi-memory')
}

/** The index immediate of the last call / ref.func / global.get / global.set / br / br_if read (br_table: its outermost label). */
export const last = { index: 0 }

/**
 * Reads the instruction at `r.pos` with its immediates; returns its opcode (0xfcNN /
 * 0xfdNNN for prefixed ones). For call, ref.func, global.get and global.set, `last.index`
 * is the index it names, read from `indexAt`.
 */
export function readInstr(r: Reader, at: { indexAt: number }): number {
  const op = r.byte()
  switch (op) {
    case 0x00: case 0x01: case 0x05: case 0x0b: case 0x0f: case 0x1a: case 0x1b: case 0xd1:
      return op
    case 0x02: case 0x03: case 0x04:
      blocktype(r)
      return op
    case 0x0c: case 0x0d:
      last.index = r.u32()
      return op
    case 0x0e: { // br_table: last.index is its outermost target
      const n = r.u32()
      last.index = 0
      for (let i = 0; i <= n; i++) last.index = Math.max(last.index, r.u32())
      return op
    }
    case 0x10: case 0x23: case 0x24: case 0xd2:
      at.indexAt = r.pos
      last.index = r.u32()
      return op
    case 0x11:
      r.u32()
      r.u32()
      return op
    case 0x1c: {
      const n = r.u32()
      for (let i = 0; i < n; i++) valtype(r)
      return op
    }
    case 0x20: case 0x21: case 0x22: case 0x25: case 0x26:
      r.u32()
      return op
    case 0x3f: case 0x40:
      memidx(r)
      return op
    case 0x41: r.skipLeb(32); return op
    case 0x42: r.skipLeb(64); return op
    case 0x43: r.skip(4); return op
    case 0x44: r.skip(8); return op
    case 0xd0: {
      const t = r.byte()
      if (t !== 0x70 && t !== 0x6f) unsupported('a GC heap type')
      return op
    }
    case 0xfc: return 0xfc00 | prefixedFC(r)
    case 0xfd: return 0xfd000 | prefixedFD(r)
    case 0x06: case 0x07: case 0x08: case 0x09: case 0x0a: case 0x18: case 0x19: case 0x1f:
      unsupported('exception handling')
    case 0x12: case 0x13: case 0x14: case 0x15:
      unsupported('tail calls and typed function references')
    case 0xfb: unsupported('GC')
    case 0xfe: unsupported('atomics')
    default:
      if ((op >= 0x28 && op <= 0x3e)) { memarg(r); return op }
      if (op >= 0x45 && op <= 0xc4) return op
      if (op >= 0xd3 && op <= 0xd6) unsupported('typed function references')
      throw new DecodeError(`unknown opcode 0x${op.toString(16)} at byte ${r.pos - 1}`)
  }
}

function prefixedFC(r: Reader): number {
  const sub = r.u32()
  switch (sub) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
      return sub
    case 8: r.u32(); memidx(r); return sub // memory.init data memidx
    case 9: case 13: case 15: case 16: case 17: r.u32(); return sub // data.drop, elem.drop, table.grow/size/fill
    case 10: memidx(r); memidx(r); return sub // memory.copy
    case 11: memidx(r); return sub // memory.fill
    case 12: case 14: r.u32(); r.u32(); return sub // table.init, table.copy
    default:
      if (sub <= 0x13) unsupported('memory64 / memory-control instructions')
      throw new DecodeError(`unknown 0xfc opcode ${sub}`)
  }
}

function prefixedFD(r: Reader): number {
  const sub = r.u32()
  if (sub <= 11 || sub === 92 || sub === 93) memarg(r) // loads and stores
  else if (sub === 12 || sub === 13) r.skip(16) // v128.const, i8x16.shuffle
  else if (sub >= 21 && sub <= 34) r.byte() // extract/replace lane
  else if (sub >= 84 && sub <= 91) { memarg(r); r.byte() } // load/store lane
  else if (sub >= 0x100 && sub <= 0x113) unsupported('relaxed SIMD')
  else if (sub > 255) throw new DecodeError(`unknown SIMD opcode ${sub}`)
  return sub
}
