// AssemblyScript RPC stubs (`--as-rpc`): typed readers, builders, clients, answers and
// server bases over the guest SDK. The layout constants stay the single source of
// offsets: every accessor names its constant (`Point.F_x`), never a bare number.
//
//   struct S            namespace S { …constants…; class Reader; class Builder }
//   group g of S        namespace S_g { class Reader; class Builder } (same struct words)
//   interface I         class IClient, abstract class IServer, and per method m
//                       class I_m$Request (params builder + send) and I_m$Answer
//
// AssemblyScript has no closures and no exceptions, so everything is a plain class whose
// methods read or write one field; failures are RPC exceptions on answers.

import { Message } from 'capnp-ts'
import { CapnpcError } from '../errors.js'
import type { InterfaceNode, MethodModel, PrimKind, SlotField, StructNode, TypeRef, ValueModel } from '../model.js'
import { capitalize, fileOf, importAlias, outputPath, tsName } from '../names.js'
import type { FileContext } from './context.js'
import { isZero } from './values.js'
import { posix } from 'node:path'

export const DEFAULT_AS_SDK = '@ww/guest/assembly/index'

/** The SDK names generated code uses (all exported by the SDK index). */
const SDK_NAMES = [
  'StructReader', 'StructBuilder', 'ListReader', 'ListBuilder', 'ElementSize', 'Cap', 'CallBuilder',
  'CapContext', 'Server', 'IncomingCall', 'Client', 'TypedAnswer', 'startCall',
  'clearPointer', 'defaultRoot', 'bytesOf', 'ListShape', 'PrimitiveList', 'EnumList', 'VoidList', 'TextList', 'DataList',
  'StructList', 'CapList', 'ListList', 'PrimitiveListBuilder', 'EnumListBuilder', 'TextListBuilder', 'DataListBuilder',
  'VoidListBuilder', 'StructListBuilder', 'CapListBuilder', 'ListListBuilder',
]

// Words AssemblyScript will not take as a parameter or method name; such a schema name
// gets a `$` suffix (capnp identifiers never contain `$`).
const RESERVED = new Set([
  'abstract', 'as', 'break', 'case', 'catch', 'class', 'const', 'constructor', 'continue', 'debugger',
  'declare', 'default', 'delete', 'do', 'else', 'enum', 'export', 'extends', 'false', 'finally', 'for',
  'from', 'function', 'get', 'if', 'implements', 'import', 'in', 'instanceof', 'interface', 'is', 'keyof',
  'let', 'module', 'namespace', 'new', 'null', 'of', 'package', 'private', 'protected', 'public',
  'readonly', 'return', 'set', 'static', 'super', 'switch', 'this', 'throw', 'true', 'try', 'type',
  'typeof', 'var', 'void', 'while', 'with', 'yield',
])
// As method names asc 0.28 takes keywords (`new`, `delete`, `get`…) but not modifiers.
const RESERVED_METHOD = new Set(['abstract', 'constructor', 'declare', 'private', 'protected', 'public', 'readonly', 'static'])

export interface AsRpcOptions {
  /** The module generated code imports the SDK from. */
  sdk: string
  /** Schema files not generated in this run → the AssemblyScript module to import them from. */
  asImportMap?: Record<string, string>
}

const AS_TYPE: Record<string, string> = {
  bool: 'bool', int8: 'i8', int16: 'i16', int32: 'i32', int64: 'i64', uint8: 'u8', uint16: 'u16',
  uint32: 'u32', uint64: 'u64', float32: 'f32', float64: 'f64',
}
// Reader method / builder method suffix per primitive.
const ACC: Record<string, string> = {
  int8: 'I8', int16: 'I16', int32: 'I32', int64: 'I64', uint8: 'U8', uint16: 'U16', uint32: 'U32',
  uint64: 'U64', float32: 'F32', float64: 'F64', enum: 'U16',
}
const BITS: Record<string, number> = {
  int8: 8, uint8: 8, int16: 16, uint16: 16, enum: 16, int32: 32, uint32: 32, float32: 32,
  int64: 64, uint64: 64, float64: 64,
}
const ELEMENT_SIZE: Record<string, string> = {
  void: 'Void', bool: 'Bit', int8: 'Byte', uint8: 'Byte', int16: 'TwoBytes', uint16: 'TwoBytes', enum: 'TwoBytes',
  int32: 'FourBytes', uint32: 'FourBytes', float32: 'FourBytes', int64: 'EightBytes', uint64: 'EightBytes',
  float64: 'EightBytes',
}

/** Where a struct-like node's constants live: its root struct's namespace plus a group prefix. */
interface Scope { root: string; prefix: string }

export class AsRpc {
  readonly imports = new Map<string, string>() // alias → module
  readonly statics: string[] = []
  private readonly scopes = new Map<bigint, Scope>()

  constructor(readonly ctx: FileContext, readonly opts: AsRpcOptions) {}

  // ---- names ----

  /** Node `id` as spelled in this module (importing its module when it is another file's). */
  ref(id: bigint): string {
    const n = this.ctx.node(id)
    const f = fileOf(this.ctx.req, n)
    if (f === this.ctx.file) return tsName(n)
    const alias = importAlias(f.displayName)
    let spec: string
    if (this.ctx.generated.has(f.id)) {
      const from = posix.dirname(outputPath(this.ctx.file.displayName))
      spec = posix.relative(from, outputPath(f.displayName, ''))
      if (!spec.startsWith('.')) spec = './' + spec
    } else {
      const mapped = this.opts.asImportMap?.[f.displayName]
      if (mapped === undefined) {
        throw new CapnpcError('ERR_UNRESOLVED_IMPORT', `${this.ctx.file.displayName} uses a type of ${f.displayName}, which is neither generated nor in asImportMap`)
      }
      spec = mapped
    }
    const prev = this.imports.get(alias)
    if (prev !== undefined && prev !== spec) throw new CapnpcError('ERR_UNSUPPORTED', `two imported files share the alias ${alias}`)
    this.imports.set(alias, spec)
    return `${alias}.${tsName(n)}`
  }

  clientOf(id: bigint): string { return this.ref(id) + 'Client' }

  private scope(n: StructNode): Scope {
    const s = this.scopes.get(n.id)
    if (s !== undefined) return s
    if (n.isGroup) throw new CapnpcError('ERR_UNKNOWN_NODE', `group ${n.displayName} reached before its struct`)
    return { root: tsName(n), prefix: '' }
  }

  // ---- structs ----

  /** The Reader and Builder classes of a struct or group (lines inside its namespace). */
  structClasses(n: StructNode): string[] {
    const sc = this.scope(n)
    const fields = [...n.fields].sort((a, b) => a.codeOrder - b.codeOrder)
    const disc = n.discriminantCount > 0 ? `${sc.root}.DISCRIMINANT${sc.prefix === '' ? '' : '_' + sc.prefix.slice(0, -1)}` : null
    const r: string[] = [
      '  /** Reads a received (or stored) struct; capability fields come from `ctx`\'s cap table. */',
      '  export class Reader {',
      '    constructor(public s: StructReader, public ctx: CapContext) {}',
    ]
    const b: string[] = [
      '  /** Writes a struct of a message being built; capability fields go to `ctx`\'s cap table. */',
      '  export class Builder {',
      '    constructor(public s: StructBuilder, public ctx: CapContext) {}',
    ]
    if (disc !== null) r.push(`    /** The union's tag: one of the W_ constants. */`, `    which(): u16 { return this.s.u16(${disc}); }`)
    for (const f of fields) {
      const tag = f.discriminant === null || disc === null ? null : { disc, value: `${sc.root}.W_${sc.prefix}${f.name}` }
      if (tag !== null) r.push(`    is${capitalize(f.name)}(): bool { return this.s.u16(${tag.disc}) == ${tag.value}; }`)
      if (f.kind === 'group') {
        const g = this.ctx.node(f.groupId)
        if (g.kind !== 'struct') throw new CapnpcError('ERR_BAD_REQUEST', `group ${f.name} is not a struct node`)
        this.scopes.set(g.id, { root: sc.root, prefix: `${sc.prefix}${f.name}_` })
        const G = tsName(g)
        r.push(`    get${capitalize(f.name)}(): ${G}.Reader { return new ${G}.Reader(this.s, this.ctx); }`)
        if (tag === null) {
          b.push(`    get${capitalize(f.name)}(): ${G}.Builder { return new ${G}.Builder(this.s, this.ctx); }`)
        } else {
          // As in Cap'n Proto: selecting a group member zeroes the group's fields, which
          // share their words with the other members.
          const zero: string[] = []
          this.zeroGroup(g, { root: sc.root, prefix: `${sc.prefix}${f.name}_` }, zero)
          b.push(`    init${capitalize(f.name)}(): ${G}.Builder {`, `      this.s.setU16(${tag.disc}, ${tag.value});`,
            ...zero.map((z) => '      ' + z), `      return new ${G}.Builder(this.s, this.ctx);`, '    }')
        }
        continue
      }
      this.slot(f, sc, tag, r, b)
    }
    r.push('  }')
    b.push('  }')
    return [...r, ...b]
  }

  private zeroGroup(g: StructNode, sc: Scope, out: string[]): void {
    if (g.discriminantCount > 0) out.push(`this.s.setU16(${sc.root}.DISCRIMINANT_${sc.prefix.slice(0, -1)}, 0);`)
    for (const f of g.fields) {
      if (f.kind === 'group') {
        const gg = this.ctx.node(f.groupId)
        if (gg.kind === 'struct') this.zeroGroup(gg, { root: sc.root, prefix: `${sc.prefix}${f.name}_` }, out)
        continue
      }
      const k = f.type.kind
      const name = `${sc.root}.${constPrefix(k)}${sc.prefix}${f.name}`
      if (k === 'void') continue
      if (k === 'bool') out.push(`this.s.setBool(${name}, false);`)
      else if (k in BITS) out.push(`this.s.setU${BITS[k]}(${name}, 0);`)
      else out.push(`clearPointer(this.s, ${name});`)
    }
  }

  private slot(f: SlotField, sc: Scope, tag: { disc: string; value: string } | null, r: string[], b: string[]): void {
    const X = capitalize(f.name)
    const t = f.type
    const k = t.kind
    const c = `${sc.root}.${constPrefix(k)}${sc.prefix}${f.name}`
    const setTag = tag === null ? [] : [`this.s.setU16(${tag.disc}, ${tag.value});`]
    const setter = (sig: string, body: string[]): void => {
      const all = [...setTag, ...body]
      if (all.length === 1) b.push(`    ${sig} { ${all[0]} }`)
      else b.push(`    ${sig} {`, ...all.map((l) => '      ' + l), '    }')
    }
    // An inactive union member reads as its default, not as another member's bits.
    const guard = (dflt: string): string[] => (tag === null ? [] : [`if (this.s.u16(${tag.disc}) != ${tag.value}) return ${dflt};`])
    const getter = (sig: string, dflt: string, expr: string): void => {
      const g = guard(dflt)
      if (g.length === 0) r.push(`    ${sig} { return ${expr}; }`)
      else r.push(`    ${sig} {`, `      ${g[0]}`, `      return ${expr};`, '    }')
    }
    const has = (): void => { r.push(`    has${X}(): bool { return this.s.hasPointer(${c}); }`) }

    if (k === 'void') {
      if (tag !== null) setter(`set${X}(): void`, [])
      return
    }
    if (k === 'bool') {
      const on = f.defaultValue.kind === 'bool' && f.defaultValue.value
      getter(`get${X}(): bool`, String(on), on ? `!this.s.bool(${c})` : `this.s.bool(${c})`)
      setter(`set${X}(v: bool): void`, [`this.s.setBool(${c}, ${on ? '!v' : 'v'});`])
      return
    }
    if (k === 'enum' || k in AS_TYPE) {
      const prim = k as PrimKind | 'enum'
      const T = k === 'enum' ? this.ref((t as { id: bigint }).id) : AS_TYPE[k] ?? ''
      const mask = isZero(f.defaultValue) ? null : maskHex(prim, f.defaultValue)
      const bits = BITS[k] ?? 0
      let read: string
      let write: string
      if (k === 'enum') {
        read = mask === null ? `<${T}>this.s.u16(${c})` : `<${T}>(this.s.u16(${c}) ^ ${mask})`
        write = mask === null ? `this.s.setU16(${c}, <u16>v);` : `this.s.setU16(${c}, (<u16>v) ^ ${mask});`
      } else if (mask === null) {
        read = `this.s.${(ACC[k] ?? '').toLowerCase()}(${c})`
        write = `this.s.set${ACC[k]}(${c}, v);`
      } else if (k === 'float32' || k === 'float64') {
        // Defaults are XORed on the bits, as for integers.
        read = `reinterpret<${T}>(this.s.u${bits}(${c}) ^ ${mask})`
        write = `this.s.setU${bits}(${c}, reinterpret<u${bits}>(v) ^ ${mask});`
      } else {
        read = `<${T}>(this.s.u${bits}(${c}) ^ ${mask})`
        write = `this.s.setU${bits}(${c}, (<u${bits}>v) ^ ${mask});`
      }
      getter(`get${X}(): ${T}`, defaultLiteral(prim, T, f.defaultValue), read)
      setter(`set${X}(v: ${T}): void`, [write])
      return
    }
    if (k === 'text') {
      const d = f.defaultValue.kind === 'text' ? JSON.stringify(f.defaultValue.value) : '""'
      const read = d === '""' ? `this.s.text(${c})` : `this.s.hasPointer(${c}) ? this.s.text(${c}) : ${d}`
      getter(`get${X}(): string`, d, read)
      has()
      setter(`set${X}(v: string): void`, [`this.s.setText(${c}, v);`])
      return
    }
    if (k === 'data') {
      const bytes = f.defaultValue.kind === 'data' && f.defaultValue.packed !== null ? Array.from(f.defaultValue.value) : []
      const d = bytes.length === 0 ? 'new Uint8Array(0)' : `bytesOf([${bytes.map(hex2).join(', ')}])`
      const read = bytes.length === 0 ? `this.s.data(${c})` : `this.s.hasPointer(${c}) ? this.s.data(${c}) : ${d}`
      getter(`get${X}(): Uint8Array`, d, read)
      has()
      setter(`set${X}(v: Uint8Array): void`, [`this.s.setData(${c}, v);`])
      return
    }
    if (k === 'struct') {
      const S = this.ref(t.id)
      const dflt = this.defaultPointer(f.defaultValue)
      const target = dflt === null ? `this.s.struct(${c})` : `this.s.hasPointer(${c}) ? this.s.struct(${c}) : ${dflt}.struct(0)`
      // No such pointer slot: the empty struct, which reads as defaults.
      const empty = dflt === null ? `this.s.struct(0xffff)` : `${dflt}.struct(0)`
      getter(`get${X}(): ${S}.Reader`, `new ${S}.Reader(${empty}, this.ctx)`, `new ${S}.Reader(${target}, this.ctx)`)
      has()
      setter(`init${X}(): ${S}.Builder`, [`return new ${S}.Builder(this.s.initStruct(${c}, ${S}.DATA_WORDS, ${S}.POINTER_COUNT), this.ctx);`])
      return
    }
    if (k === 'list') {
      const L = this.listTypes(t.element)
      const dflt = this.defaultPointer(f.defaultValue)
      const target = dflt === null ? `this.s.list(${c})` : `this.s.hasPointer(${c}) ? this.s.list(${c}) : ${dflt}.list(0)`
      const empty = dflt === null ? `this.s.list(0xffff)` : `${dflt}.list(0)`
      if (L === null) {
        // List(AnyPointer): raw lists, as the SDK has no typed view of "any pointer".
        getter(`get${X}(): ListReader`, empty, target)
        has()
        setter(`init${X}(n: u32): ListBuilder`, [`return this.s.initList(${c}, ElementSize.Pointer, n);`])
        return
      }
      getter(`get${X}(): ${L.reader}`, `new ${L.reader}(${empty}, this.ctx)`, `new ${L.reader}(${target}, this.ctx)`)
      has()
      const list = L.struct === null
        ? `this.s.initList(${c}, ElementSize.${L.size}, n)`
        : `this.s.initStructList(${c}, n, ${L.struct}.DATA_WORDS, ${L.struct}.POINTER_COUNT)`
      setter(`init${X}(n: u32): ${L.builder}`, [`return new ${L.builder}(${list}, this.ctx, ${L.shape});`])
      return
    }
    if (k === 'interface') {
      const C = this.clientOf(t.id)
      getter(`get${X}(): ${C}`, `new ${C}(this.ctx.cap(-1))`, `new ${C}(this.ctx.capAt(this.s, ${c}))`)
      has()
      setter(`set${X}(v: ${C}): void`, [`this.ctx.setCap(this.s, ${c}, v.cap);`])
      setter(`set${X}Cap(v: Cap): void`, [`this.ctx.setCap(this.s, ${c}, v);`])
      return
    }
    // AnyPointer (and generic parameters): every way to read or write a pointer.
    r.push(
      `    get${X}Struct(): StructReader { return this.s.struct(${c}); }`,
      `    get${X}List(): ListReader { return this.s.list(${c}); }`,
      `    get${X}Text(): string { return this.s.text(${c}); }`,
      `    get${X}Data(): Uint8Array { return this.s.data(${c}); }`,
      `    get${X}Cap(): Cap { return this.ctx.capAt(this.s, ${c}); }`,
    )
    has()
    setter(`init${X}Struct(dataWords: u16, pointerCount: u16): StructBuilder`, [`return this.s.initStruct(${c}, dataWords, pointerCount);`])
    setter(`init${X}List(size: ElementSize, n: u32): ListBuilder`, [`return this.s.initList(${c}, size, n);`])
    setter(`set${X}Text(v: string): void`, [`this.s.setText(${c}, v);`])
    setter(`set${X}Data(v: Uint8Array): void`, [`this.s.setData(${c}, v);`])
    setter(`set${X}Cap(v: Cap): void`, [`this.ctx.setCap(this.s, ${c}, v);`])
  }

  /** Reader/builder class names of `List(element)`, its element size, and the shape of nested lists. */
  listTypes(e: TypeRef): { reader: string; builder: string; size: string; struct: string | null; shape: string } | null {
    const k = e.kind
    if (k === 'anyPointer') return null
    if (k === 'void') return { reader: 'VoidList', builder: 'VoidListBuilder', size: 'Void', struct: null, shape: 'null' }
    if (k === 'text') return { reader: 'TextList', builder: 'TextListBuilder', size: 'Pointer', struct: null, shape: 'null' }
    if (k === 'data') return { reader: 'DataList', builder: 'DataListBuilder', size: 'Pointer', struct: null, shape: 'null' }
    if (k === 'struct') {
      const S = this.ref(e.id)
      return { reader: `StructList<${S}.Reader>`, builder: `StructListBuilder<${S}.Builder>`, size: 'InlineComposite', struct: S, shape: 'null' }
    }
    if (k === 'interface') {
      const C = this.clientOf(e.id)
      return { reader: `CapList<${C}>`, builder: `CapListBuilder<${C}>`, size: 'Pointer', struct: null, shape: 'null' }
    }
    if (k === 'list') {
      const inner = this.listTypes(e.element)
      if (inner === null) throw new CapnpcError('ERR_UNSUPPORTED', 'a list of lists of AnyPointer has no AssemblyScript stub')
      const shape = inner.struct === null
        ? `new ListShape(ElementSize.${inner.size}, 0, 0, ${inner.shape})`
        : `new ListShape(ElementSize.InlineComposite, ${inner.struct}.DATA_WORDS, ${inner.struct}.POINTER_COUNT, null)`
      return { reader: `ListList<${inner.reader}>`, builder: `ListListBuilder<${inner.builder}>`, size: 'Pointer', struct: null, shape }
    }
    if (k === 'enum') {
      const E = this.ref(e.id)
      return { reader: `EnumList<${E}>`, builder: `EnumListBuilder<${E}>`, size: 'TwoBytes', struct: null, shape: 'null' }
    }
    const T = AS_TYPE[k] ?? ''
    return { reader: `PrimitiveList<${T}>`, builder: `PrimitiveListBuilder<${T}>`, size: ELEMENT_SIZE[k] ?? '', struct: null, shape: 'null' }
  }

  /**
   * A struct or list default, embedded as a framed message whose root struct holds the
   * value in pointer 0: an expression for that root (a StructReader), or null when the
   * default is null.
   */
  private defaultPointer(v: ValueModel): string | null {
    if (v.kind !== 'pointer' || v.packed === null) return null
    const framed = new Uint8Array(new Message(v.packed, true).toArrayBuffer())
    const head = new DataView(framed.buffer, framed.byteOffset)
    if (head.getUint32(0, true) !== 0) throw new CapnpcError('ERR_UNSUPPORTED', 'a default value spanning several segments')
    const words = framed.subarray(8, 8 + head.getUint32(4, true) * 8)
    // Header [0 = one segment][words], then a root struct pointer (offset 0, no data, one
    // pointer) to the next word, which is the value's own root pointer: every offset in
    // the value is relative, so moving it one word along keeps it valid.
    const frame = new Uint8Array(8 + 8 + words.length)
    const dv = new DataView(frame.buffer)
    dv.setUint32(0, 0, true)
    dv.setUint32(4, words.length / 8 + 1, true)
    dv.setUint32(8, 0, true)
    dv.setUint32(12, 1 << 16, true)
    frame.set(words, 16)
    const name = `$DEFAULT_${this.statics.length}`
    this.statics.push(`const ${name}: usize = memory.data<u8>([${Array.from(frame).map(hex2).join(', ')}], 8);`)
    return `defaultRoot(${name}, ${frame.length})`
  }

  // ---- interfaces ----

  /** Every interface whose methods `I`'s clients and servers have: I first, then its superclasses (each once). */
  private lineage(i: InterfaceNode): InterfaceNode[] {
    const out: InterfaceNode[] = []
    const visit = (n: InterfaceNode): void => {
      if (out.some((o) => o.id === n.id)) return
      out.push(n)
      for (const s of n.superclasses) {
        const p = this.ctx.node(s)
        if (p.kind !== 'interface') throw new CapnpcError('ERR_BAD_REQUEST', `superclass of ${n.displayName} is not an interface`)
        visit(p)
      }
    }
    visit(i)
    return out
  }

  /** Request and answer classes of the interface's own methods. */
  methodClasses(i: InterfaceNode): string[] {
    const I = tsName(i)
    const out: string[] = []
    for (const m of i.methods) {
      const P = this.ref(m.paramsId)
      const R = this.ref(m.resultsId)
      const base = `${I}_${m.name}`
      out.push(
        `/** A call of ${I}.${m.name} being built: fill \`params\`, then \`send()\`. */`,
        `export class ${base}$Request {`,
        '  call: CallBuilder;',
        `  params: ${P}.Builder;`,
        '  constructor(target: Cap) {',
        `    const call = startCall(target, ${I}.ID, ${I}.M_${m.name}, ${P}.DATA_WORDS, ${P}.POINTER_COUNT);`,
        '    this.call = call;',
        `    this.params = new ${P}.Builder(call.params, call);`,
        '  }',
        `  send(): ${base}$Answer { return new ${base}$Answer(this.call.send()); }`,
        '}',
        '',
        `/** The answer to ${I}.${m.name}: wait() for results(), or pipeline on its capabilities at once. */`,
        `export class ${base}$Answer extends TypedAnswer {`,
        `  results(): ${R}.Reader { return new ${R}.Reader(this.answer.results, this.answer.caps); }`,
      )
      const rs = this.ctx.node(m.resultsId)
      if (rs.kind !== 'struct') throw new CapnpcError('ERR_BAD_REQUEST', `results of ${I}.${m.name} are not a struct`)
      for (const p of this.capFields(rs, R, '')) {
        const name = escapeMember(p.name, ANSWER_MEMBERS)
        out.push(
          `  /** A pipelined ${p.client}: calls on it go out before this answer arrives. Release it when done. */`,
          `  ${name}(): ${p.client} { return new ${p.client}(this.answer.cap(${p.ptr})); }`,
        )
      }
      out.push('}', '')
    }
    return out
  }

  /** Interface-typed fields of a results struct (its groups included: they share its pointers). */
  private capFields(s: StructNode, root: string, prefix: string): { name: string; client: string; ptr: string }[] {
    const out: { name: string; client: string; ptr: string }[] = []
    for (const f of [...s.fields].sort((a, b) => a.codeOrder - b.codeOrder)) {
      if (f.kind === 'group') {
        const g = this.ctx.node(f.groupId)
        if (g.kind === 'struct') out.push(...this.capFields(g, root, `${prefix}${f.name}_`))
      } else if (f.type.kind === 'interface' && f.discriminant === null) {
        out.push({ name: prefix + f.name, client: this.clientOf(f.type.id), ptr: `${root}.P_${prefix}${f.name}` })
      }
    }
    return out
  }

  /** `IClient` and `IServer`. */
  clientAndServer(i: InterfaceNode): string[] {
    const I = tsName(i)
    const lineage = this.lineage(i)
    const client: string[] = [
      `/** Calls ${I}: one method per schema method${lineage.length > 1 ? ' (its superclasses\' included)' : ''}; \`<m>Request()\` for params given field by field. */`,
      `export class ${I}Client extends Client {`,
    ]
    const server: string[] = [
      `/** Serve ${I}: implement each method (read \`params\`, write \`results\`, or \`call.fail(reason)\`). */`,
      `export abstract class ${I}Server extends Server {`,
    ]
    const dispatch: string[] = ['  dispatch(interfaceId: u64, methodId: u16, call: IncomingCall): bool {']
    const seenClient = new Set<string>()
    const seenServer = new Set<string>()
    for (const n of lineage) {
      const N = this.ref(n.id)
      dispatch.push(`    if (interfaceId == ${N}.ID) {`)
      for (const m of n.methods) {
        const cname = escapeMember(m.name, CLIENT_MEMBERS)
        const sname = escapeMember(m.name, SERVER_MEMBERS)
        for (const [seen, nm] of [[seenClient, cname], [seenClient, `${m.name}Request`], [seenServer, sname]] as const) {
          if (seen.has(nm)) throw new CapnpcError('ERR_UNSUPPORTED', `${i.displayName}: two methods named ${nm} (inherited from different interfaces); AssemblyScript classes cannot overload`)
          seen.add(nm)
        }
        client.push(...this.clientMethod(n, m, N, cname))
        const P = this.ref(m.paramsId)
        const R = this.ref(m.resultsId)
        server.push(`  abstract ${sname}(params: ${P}.Reader, results: ${R}.Builder, call: IncomingCall): void;`)
        dispatch.push(
          `      if (methodId == ${N}.M_${m.name}) {`,
          `        const results = new ${R}.Builder(call.initResults(${R}.DATA_WORDS, ${R}.POINTER_COUNT), call);`,
          `        this.${sname}(new ${P}.Reader(call.params, call), results, call);`,
          '        return true;',
          '      }',
        )
      }
      dispatch.push('      return false;', '    }')
    }
    dispatch.push('    return false;', '  }')
    client.push('}')
    server.push(...dispatch, '}')
    return [...client, '', ...server]
  }

  private clientMethod(n: InterfaceNode, m: MethodModel, N: string, name: string): string[] {
    const base = `${N}_${m.name}`
    const out = [`  ${m.name}Request(): ${base}$Request { return new ${base}$Request(this.cap); }`]
    const ps = this.ctx.node(m.paramsId)
    if (ps.kind !== 'struct') throw new CapnpcError('ERR_BAD_REQUEST', `params of ${n.displayName}.${m.name} are not a struct`)
    const args = simpleArgs(this, ps)
    if (args === null) return out
    // Not through the Request: one object less per call, and less code in every guest.
    const P = this.ref(m.paramsId)
    const start = `startCall(this.cap, ${N}.ID, ${N}.M_${m.name}, ${P}.DATA_WORDS, ${P}.POINTER_COUNT)`
    if (args.length === 0) return [...out, `  ${name}(): ${base}$Answer { return new ${base}$Answer(${start}.send()); }`]
    out.push(
      `  ${name}(${args.map((a) => `${a.param}: ${a.type}`).join(', ')}): ${base}$Answer {`,
      `    const $c = ${start};`,
      `    const $p = new ${P}.Builder($c.params, $c);`,
      ...args.map((a) => `    $p.set${capitalize(a.field)}(${a.param});`),
      `    return new ${base}$Answer($c.send());`,
      '  }',
    )
    return out
  }

  /** Check that generated top-level names do not clash with the file's own declarations. */
  checkNames(declared: Set<string>, i: InterfaceNode): void {
    for (const suffix of ['Client', 'Server']) {
      const nm = tsName(i) + suffix
      if (declared.has(nm)) throw new CapnpcError('ERR_UNSUPPORTED', `${i.displayName}: the AssemblyScript stub ${nm} would clash with the declaration ${nm} in the same file`)
    }
  }

  /** The import lines (SDK, then other schema modules). */
  header(): string[] {
    return [
      `import { ${SDK_NAMES.join(', ')} } from ${JSON.stringify(this.opts.sdk)};`,
      ...[...this.imports].sort(([a], [b]) => a.localeCompare(b)).map(([alias, spec]) => `import * as ${alias} from ${JSON.stringify(spec)};`),
    ]
  }
}

const CLIENT_MEMBERS = new Set(['cap', 'release', 'ready', 'error'])
const SERVER_MEMBERS = new Set(['dispatch', 'released'])
const ANSWER_MEMBERS = new Set(['answer', 'wait', 'done', 'ok', 'error', 'dispose', 'results'])

function escapeMember(name: string, members: Set<string>): string {
  return members.has(name) || RESERVED_METHOD.has(name) ? name + '$' : name
}

/** Params as plain arguments, when every field can be one (no groups, unions, structs, lists). */
function simpleArgs(rpc: AsRpc, s: StructNode): { field: string; param: string; type: string }[] | null {
  if (s.discriminantCount > 0) return null
  const out: { field: string; param: string; type: string }[] = []
  for (const f of [...s.fields].sort((a, b) => a.codeOrder - b.codeOrder)) {
    if (f.kind === 'group') return null
    const k = f.type.kind
    let type: string
    if (k === 'void') continue
    if (k === 'text') type = 'string'
    else if (k === 'data') type = 'Uint8Array'
    else if (k === 'enum') type = rpc.ref(f.type.id)
    else if (k === 'interface') type = rpc.clientOf(f.type.id)
    else if (k in AS_TYPE) type = AS_TYPE[k] ?? ''
    else return null
    out.push({ field: f.name, param: RESERVED.has(f.name) ? f.name + '$' : f.name, type })
  }
  return out
}

function constPrefix(k: TypeRef['kind']): string {
  if (k === 'bool') return 'B_'
  if (k in BITS) return 'F_'
  return 'P_'
}

function hex2(b: number): string {
  return '0x' + b.toString(16).padStart(2, '0')
}

/** The bits of a default value in its storage width, as a hex literal (the XOR mask). */
function maskHex(kind: PrimKind | 'enum', v: ValueModel): string {
  const bits = BITS[kind] ?? 0
  const buf = new DataView(new ArrayBuffer(8))
  if (kind === 'float32' && v.kind === 'number') buf.setFloat32(0, v.value, true)
  else if (kind === 'float64' && v.kind === 'number') buf.setFloat64(0, v.value, true)
  else if (v.kind === 'bigint') buf.setBigUint64(0, BigInt.asUintN(64, v.value), true)
  else if (v.kind === 'number' || v.kind === 'enum') buf.setBigUint64(0, BigInt.asUintN(64, BigInt(v.value)), true)
  else throw new CapnpcError('ERR_BAD_REQUEST', `a ${kind} field with a ${v.kind} default`)
  const u = BigInt.asUintN(bits, buf.getBigUint64(0, true))
  return '0x' + u.toString(16)
}

/** The default value as an AssemblyScript expression of type `T`. */
function defaultLiteral(kind: PrimKind | 'enum', T: string, v: ValueModel): string {
  if (isZero(v)) return `<${T}>0`
  const bits = BITS[kind] ?? 0
  if (kind === 'float32' || kind === 'float64') return `reinterpret<${T}>(<u${bits}>${maskHex(kind, v)})`
  return `<${T}>(<u${bits}>${maskHex(kind, v)})`
}
