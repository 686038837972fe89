// One capnp-ts Struct subclass per struct or group node, with capnp-ts's accessor
// vocabulary: getX/setX/hasX/initX/adoptX/disownX, and for unions which()/isX().

import type { FieldModel, SlotField, StructNode } from '../model.js'
import { capitalize, hexId, tsName, upperSnake } from '../names.js'
import type { FileContext } from './context.js'
import { isZero, maskExpr } from './values.js'

const BYTES: Record<string, number> = {
  int8: 1, uint8: 1, int16: 2, uint16: 2, enum: 2, int32: 4, uint32: 4, float32: 4,
  int64: 8, uint64: 8, float64: 8,
}
const ACCESSOR: Record<string, string> = {
  int8: 'Int8', uint8: 'Uint8', int16: 'Int16', uint16: 'Uint16', enum: 'Uint16', int32: 'Int32',
  uint32: 'Uint32', float32: 'Float32', int64: 'Int64', uint64: 'Uint64', float64: 'Float64',
}
const TS_TYPE: Record<string, string> = {
  int8: 'number', uint8: 'number', int16: 'number', uint16: 'number', int32: 'number', uint32: 'number',
  float32: 'number', float64: 'number', int64: 'bigint', uint64: 'bigint',
}

export function emitStruct(ctx: FileContext, node: StructNode): string {
  const name = tsName(node)
  const discByte = node.discriminantOffset * 2
  const defaults: string[] = []
  const body: string[] = []
  const fields = [...node.fields].sort((a, b) => a.codeOrder - b.codeOrder)
  for (const f of fields) body.push(...emitField(ctx, node, name, f, discByte, defaults))
  const out: string[] = []
  if (node.discriminantCount > 0) {
    const tags = node.fields.filter((f) => f.discriminant !== null)
      .map((f) => `  ${upperSnake(f.name)} = ${f.discriminant},`)
    out.push(`export enum ${name}_Which {`, ...tags, '}', '')
    body.push(`  which(): ${name}_Which { return $.Struct.getUint16(${discByte}, this) as ${name}_Which }`)
  }
  out.push(doc(node.doc, ''))
  const size = `new $.ObjectSize(${node.dataWords * 8}, ${node.pointerCount})`
  out.push(`export class ${name} extends $.Struct {`)
  out.push(`  static override readonly _capnp = {`)
  out.push(`    displayName: ${JSON.stringify(node.localName)}, id: '${hexId(node.id)}', size: ${size},`)
  for (const d of defaults) out.push(`    ${d},`)
  out.push('  }')
  out.push(...body)
  out.push(`  override toString(): string { return '${name}_' + super.toString() }`)
  out.push('}', '')
  return out.filter((l) => l !== '').join('\n') + '\n'
}

function emitField(ctx: FileContext, node: StructNode, cls: string, f: FieldModel, discByte: number, defaults: string[]): string[] {
  const X = capitalize(f.name)
  const inUnion = f.discriminant !== null
  const setTag = inUnion ? `$.Struct.setUint16(${discByte}, ${f.discriminant}, this); ` : ''
  const check = inUnion ? `$.Struct.testWhich(${JSON.stringify(f.name)}, $.Struct.getUint16(${discByte}, this), ${f.discriminant}, this); ` : ''
  const out: string[] = []
  const memberDoc = node.memberDocs[node.fields.indexOf(f)] ?? ''
  if (memberDoc !== '') out.push(doc(memberDoc, '  '))
  if (inUnion) out.push(`  is${X}(): boolean { return $.Struct.getUint16(${discByte}, this) === ${f.discriminant} }`)
  if (f.kind === 'group') {
    const g = ctx.ref(f.groupId)
    out.push(`  get${X}(): ${g} { ${check}return $.Struct.getAs(${g}, this) }`)
    out.push(`  init${X}(): ${g} { ${setTag}return $.Struct.getAs(${g}, this) }`)
    return out
  }
  return out.concat(emitSlot(ctx, cls, f, X, setTag, check, defaults))
}

function emitSlot(ctx: FileContext, cls: string, f: SlotField, X: string, setTag: string, check: string, defaults: string[]): string[] {
  const t = f.type
  const o = f.offset
  const hasDefault = !isZero(f.defaultValue)
  const dflt = `${cls}._capnp.default${X}`
  const ptr = `$.Struct.getPointer(${o}, this)`
  const has = `  has${X}(): boolean { return !$.Struct.isNull(${ptr}) }`
  const adopt = (T: string) => [
    `  adopt${X}(value: $.Orphan<${T}>): void { ${setTag}$.Struct.adopt(value, ${ptr}) }`,
    `  disown${X}(): $.Orphan<${T}> { return $.Struct.disown(this.get${X}()) }`,
  ]
  switch (t.kind) {
    case 'void':
      return setTag === '' ? [] : [`  set${X}(): void { ${setTag.trim()} }`]
    case 'bool': {
      const m = hasDefault ? `, ${dflt}` : ''
      if (hasDefault) defaults.push(`default${X}: ${maskExpr('bool', f.defaultValue, o)}`)
      return [
        `  get${X}(): boolean { ${check}return $.Struct.getBit(${o}, this${m}) }`,
        `  set${X}(value: boolean): void { ${setTag}$.Struct.setBit(${o}, value, this${m}) }`,
      ]
    }
    case 'enum': case 'int8': case 'int16': case 'int32': case 'int64': case 'uint8': case 'uint16':
    case 'uint32': case 'uint64': case 'float32': case 'float64': {
      const byteOffset = o * (BYTES[t.kind] ?? 0)
      const acc = ACCESSOR[t.kind] ?? ''
      const m = hasDefault ? `, ${dflt}` : ''
      if (hasDefault) defaults.push(`default${X}: ${maskExpr(t.kind, f.defaultValue, o)}`)
      if (t.kind === 'enum') {
        const E = ctx.ref(t.id)
        return [
          `  get${X}(): ${E} { ${check}return $.Struct.getUint16(${byteOffset}, this${m}) as ${E} }`,
          `  set${X}(value: ${E}): void { ${setTag}$.Struct.setUint16(${byteOffset}, value, this${m}) }`,
        ]
      }
      const T = TS_TYPE[t.kind] ?? 'number'
      // capnp-ts 0.9.3 bugs with a default mask: getInt32 XORs only 16 bits of it and
      // getUint32 returns the XOR as a signed int32. Read both through getUint32 and
      // coerce to the right range.
      if (hasDefault && (t.kind === 'int32' || t.kind === 'uint32')) {
        const coerce = t.kind === 'int32' ? '| 0' : '>>> 0'
        return [
          `  get${X}(): number { ${check}return $.Struct.getUint32(${byteOffset}, this${m}) ${coerce} }`,
          `  set${X}(value: number): void { ${setTag}$.Struct.set${acc}(${byteOffset}, value, this${m}) }`,
        ]
      }
      return [
        `  get${X}(): ${T} { ${check}return $.Struct.get${acc}(${byteOffset}, this${m}) }`,
        `  set${X}(value: ${T}): void { ${setTag}$.Struct.set${acc}(${byteOffset}, value, this${m}) }`,
      ]
    }
    case 'text': {
      const d = f.defaultValue.kind === 'text' && f.defaultValue.value !== '' ? `, ${JSON.stringify(f.defaultValue.value)}` : ''
      return [
        `  get${X}(): string { ${check}return $.Struct.getText(${o}, this${d}) }`,
        `  set${X}(value: string): void { ${setTag}$.Struct.setText(${o}, value, this) }`,
        has,
      ]
    }
    case 'data': {
      const d = pointerDefault(ctx, cls, f, X, defaults)
      return [
        `  get${X}(): $.Data { ${check}return $.Struct.getData(${o}, this${d}) }`,
        `  init${X}(length: number): $.Data { ${setTag}return $.Struct.initData(${o}, length, this) }`,
        `  set${X}(value: ArrayBuffer | ArrayBufferView): void { this.init${X}(value.byteLength).copyBuffer(value) }`,
        has,
        ...adopt('$.Data'),
      ]
    }
    case 'struct': {
      const S = ctx.ref(t.id)
      const d = pointerDefault(ctx, cls, f, X, defaults)
      return [
        `  get${X}(): ${S} { ${check}return $.Struct.getStruct(${o}, ${S}, this${d}) }`,
        `  init${X}(): ${S} { ${setTag}return $.Struct.initStructAt(${o}, ${S}, this) }`,
        `  set${X}(value: ${S}): void { ${setTag}$.Struct.copyFrom(value, ${ptr}) }`,
        has,
        ...adopt(S),
      ]
    }
    case 'list': {
      const L = ctx.listCtor(t.element)
      const T = `$.List<${ctx.elementType(t.element)}>`
      const d = pointerDefault(ctx, cls, f, X, defaults)
      return [
        `  get${X}(): ${T} { ${check}return $.Struct.getList(${o}, ${L}, this${d}) }`,
        `  init${X}(length: number): ${T} { ${setTag}return $.Struct.initList(${o}, ${L}, length, this) }`,
        `  set${X}(value: ${T}): void { ${setTag}$.Struct.copyFrom(value, ${ptr}) }`,
        has,
        ...adopt(T),
      ]
    }
    case 'interface': {
      const C = ctx.ref(t.id, '$Client')
      return [
        `  get${X}(): ${C} { ${check}return new ${C}($.getInterfaceClient(${o}, this)) }`,
        `  set${X}(value: $.ClientLike): void { ${setTag}$.setInterfaceClient(${o}, value, this) }`,
        has,
      ]
    }
    case 'anyPointer':
      return [
        `  get${X}(): $.Pointer { ${check}return ${ptr} }`,
        `  get${X}As<T extends $.Struct>(StructClass: $.StructCtor<T>): T { ${check}return $.Struct.getStruct(${o}, StructClass, this) }`,
        `  init${X}As<T extends $.Struct>(StructClass: $.StructCtor<T>): T { ${setTag}return $.Struct.initStructAt(${o}, StructClass, this) }`,
        `  set${X}(value: $.Pointer): void { ${setTag}$.Struct.copyFrom(value, ${ptr}) }`,
        has,
      ]
  }
}

function pointerDefault(ctx: FileContext, cls: string, f: SlotField, X: string, defaults: string[]): string {
  const v = f.defaultValue
  if ((v.kind !== 'pointer' && v.kind !== 'data') || v.packed === null) return ''
  defaults.push(`default${X}: ${ctx.raw(v.packed)}`)
  return `, ${cls}._capnp.default${X}`
}

export function doc(text: string, indent: string): string {
  const t = text.trim()
  if (t === '') return ''
  const lines = t.split('\n').map((l) => l.trimEnd().replace(/\*\//g, '*\\/'))
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`.trimEnd()).join('\n')}\n${indent} */`
}
