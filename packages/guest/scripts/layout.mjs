#!/usr/bin/env node
// Emits AssemblyScript constant modules (ids, ordinals, struct layouts) for a .capnp file,
// read from the official compiler's CodeGeneratorRequest so no offset is ever guessed.
// Naming follows @ww/capnpc's AssemblyScript output: per struct DATA_WORDS, POINTER_COUNT,
// F_<field> (data byte offset), B_<field> (bool bit offset), P_<field> (pointer index),
// DISCRIMINANT (byte offset), W_<member> (union tag); per interface ID and M_<method>.
// D_<field> holds a non-zero default (capnp stores fields XOR their default).
//
//   node scripts/layout.mjs /usr/include/capnp/rpc.capnp > assembly/rpc/schema.ts
//
// Needs the `capnp` binary; the output is committed, so builds do not.
import { execFileSync } from 'node:child_process'
import * as capnp from 'capnp-ts'
import * as S from 'capnp-ts/src/std/schema.capnp.js'

const file = process.argv[2]
if (!file) { console.error('usage: layout.mjs <file.capnp>'); process.exit(2) }
const bytes = execFileSync('capnp', ['compile', '-o-', '-I/usr/include', file], { maxBuffer: 1 << 26 })
const req = new capnp.Message(bytes, false).getRoot(S.CodeGeneratorRequest)

const nodes = new Map()
req.getNodes().forEach((n) => nodes.set(n.getId().toString(), n))

// Byte width of a data slot by type; 0 = pointer, -1 = bool, -2 = void.
const W = { VOID: -2, BOOL: -1, INT8: 1, UINT8: 1, INT16: 2, UINT16: 2, ENUM: 2, INT32: 4, UINT32: 4, FLOAT32: 4, INT64: 8, UINT64: 8, FLOAT64: 8 }
const T = S.Type_Which
const typeName = (w) => Object.keys(T).find((k) => T[k] === w)
const asType = { 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' }

function defaultOf(value) {
  // Only primitive defaults matter for XOR decoding.
  const w = value.which()
  const V = S.Value_Which
  switch (w) {
    case V.BOOL: return value.getBool() ? 'true' : null
    case V.INT8: return value.getInt8() || null
    case V.INT16: return value.getInt16() || null
    case V.INT32: return value.getInt32() || null
    case V.INT64: { const v = value.getInt64(); return v ? v.toString() : null }
    case V.UINT8: return value.getUint8() || null
    case V.UINT16: return value.getUint16() || null
    case V.UINT32: return value.getUint32() || null
    case V.UINT64: { const v = value.getUint64(); return v ? v.toString() : null }
    case V.ENUM: return value.getEnum() || null
    default: return null
  }
}

const out = []
const line = (depth, s) => out.push('  '.repeat(depth) + s)
const pascal = (s) => s[0].toUpperCase() + s.slice(1)

function emitStructBody(node, depth) {
  const st = node.getStruct()
  if (!st.getIsGroup()) {
    line(depth, `export const ID: u64 = 0x${node.getId().toString(16)};`)
    line(depth, `export const DATA_WORDS: u16 = ${st.getDataWordCount()};`)
    line(depth, `export const POINTER_COUNT: u16 = ${st.getPointerCount()};`)
  }
  if (st.getDiscriminantCount() > 0) {
    line(depth, `export const DISCRIMINANT: u32 = ${st.getDiscriminantOffset() * 2};`)
  }
  st.getFields().forEach((f) => {
    const name = f.getName()
    const dv = f.getDiscriminantValue()
    if (dv !== 0xffff) line(depth, `export const W_${name}: u16 = ${dv};`)
    if (f.isGroup()) {
      const g = nodes.get(f.getGroup().getTypeId().toString())
      line(depth, `export namespace ${pascal(name)} {`)
      emitStructBody(g, depth + 1)
      line(depth, '}')
      return
    }
    const slot = f.getSlot()
    const tw = typeName(slot.getType().which())
    const width = W[tw] ?? 0
    const off = slot.getOffset()
    if (width === -2) return
    if (width === -1) {
      line(depth, `export const B_${name}: u32 = ${off};`)
      if (defaultOf(slot.getDefaultValue())) line(depth, `export const D_${name}: bool = true;`)
    } else if (width === 0) {
      line(depth, `export const P_${name}: u16 = ${off};`)
    } else {
      line(depth, `export const F_${name}: u32 = ${off * width};`)
      const d = defaultOf(slot.getDefaultValue())
      if (d !== null) line(depth, `export const D_${name}: ${asType[width]} = ${d};`)
    }
  })
}

function emitNode(node, name, depth) {
  const w = node.which()
  if (w === S.Node_Which.STRUCT) {
    line(depth, `export namespace ${name} {`)
    emitStructBody(node, depth + 1)
    emitNested(node, depth + 1)
    line(depth, '}')
  } else if (w === S.Node_Which.ENUM) {
    line(depth, `export namespace ${name} {`)
    node.getEnum().getEnumerants().forEach((e, i) => line(depth + 1, `export const ${e.getName()}: u16 = ${i};`))
    line(depth, '}')
  } else if (w === S.Node_Which.INTERFACE) {
    line(depth, `export namespace ${name} {`)
    line(depth + 1, `export const ID: u64 = 0x${node.getId().toString(16)};`)
    const methods = node.getInterface().getMethods()
    methods.forEach((m, i) => line(depth + 1, `export const M_${m.getName()}: u16 = ${i};`))
    methods.forEach((m) => {
      for (const [kind, id] of [['Params', m.getParamStructType()], ['Results', m.getResultStructType()]]) {
        const s = nodes.get(id.toString())
        // Only implicit ($Params/$Results) structs belong here; named ones are top level.
        if (s && BigInt(s.getScopeId()) === 0n) emitNode(s, pascal(m.getName()) + kind, depth + 1)
      }
    })
    emitNested(node, depth + 1)
    line(depth, '}')
  }
}

function emitNested(node, depth) {
  node.getNestedNodes().forEach((nn) => {
    const child = nodes.get(nn.getId().toString())
    if (child) emitNode(child, nn.getName(), depth)
  })
}

const requested = req.getRequestedFiles().get(0)
const fileNode = nodes.get(requested.getId().toString())
out.push(`// Generated by packages/guest/scripts/layout.mjs from ${requested.getFilename()}. Do not edit.`)
out.push(`// File id 0x${requested.getId().toString(16)}.`)
emitNested(fileNode, 0)
process.stdout.write(out.join('\n') + '\n')
