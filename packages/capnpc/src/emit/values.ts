// Literals and XOR masks for default values and constants.

import { CapnpcError } from '../errors.js'
import type { PrimKind, ValueModel } from '../model.js'
import type { FileContext } from './context.js'

export function numberLiteral(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return 'Infinity'
  if (v === -Infinity) return '-Infinity'
  if (Object.is(v, -0)) return '-0'
  return String(v)
}

export function bigintLiteral(v: bigint): string {
  return `${v}n`
}

/** Is `v` the zero value of its type (no mask needed)? */
export function isZero(v: ValueModel): boolean {
  switch (v.kind) {
    case 'void': return true
    case 'bool': return !v.value
    case 'number': return v.value === 0 && !Object.is(v.value, -0)
    case 'bigint': return v.value === 0n
    case 'enum': return v.value === 0
    case 'text': return false // a text default is always explicit in capnp
    case 'data': case 'pointer': return v.packed === null
  }
}

const MASK: Partial<Record<PrimKind, string>> = {
  int8: 'getInt8Mask', int16: 'getInt16Mask', int32: 'getInt32Mask', int64: 'getInt64Mask',
  uint8: 'getUint8Mask', uint16: 'getUint16Mask', uint32: 'getUint32Mask', uint64: 'getUint64Mask',
  float32: 'getFloat32Mask', float64: 'getFloat64Mask',
}

/** The XOR mask expression capnp-ts's getters and setters take for a non-zero default. */
export function maskExpr(kind: PrimKind | 'enum', v: ValueModel, bitOffset: number): string {
  if (kind === 'bool') {
    if (v.kind !== 'bool') throw new CapnpcError('ERR_BAD_REQUEST', 'bool field with a non-bool default')
    return `$.getBitMask(${v.value}, ${bitOffset % 8})`
  }
  if (kind === 'enum') {
    if (v.kind !== 'enum') throw new CapnpcError('ERR_BAD_REQUEST', 'enum field with a non-enum default')
    return `$.getUint16Mask(${v.value})`
  }
  const fn = MASK[kind]
  if (fn === undefined) throw new CapnpcError('ERR_UNSUPPORTED', `no mask for ${kind}`)
  if (v.kind === 'bigint') return `$.${fn}(${bigintLiteral(v.value)})`
  if (v.kind === 'number') return `$.${fn}(${numberLiteral(v.value)})`
  throw new CapnpcError('ERR_BAD_REQUEST', `${kind} field with a ${v.kind} default`)
}

/** A literal for a primitive/text/data/enum value (constants). */
export function primitiveLiteral(ctx: FileContext, v: ValueModel): string {
  switch (v.kind) {
    case 'void': return 'undefined'
    case 'bool': return String(v.value)
    case 'number': return numberLiteral(v.value)
    case 'bigint': return bigintLiteral(v.value)
    case 'enum': return String(v.value)
    case 'text': return JSON.stringify(v.value)
    case 'data': return `new Uint8Array([${Array.from(v.value).join(', ')}])`
    case 'pointer': return v.packed === null ? 'null' : ctx.raw(v.packed)
  }
}
