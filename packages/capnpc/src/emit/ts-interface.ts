// Per interface: a Method descriptor per method, a RemotePromise subclass per method
// (pipelined accessors for capability fields of the results), a typed Client wrapper,
// an Impl interface and a Server built from it, and a class `X` tying them together
// (`X.Client`, `X.Server`, `X._capnp` — what capnp-ts's Conn.bootstrap expects).
// Superclass methods are part of the client and the server, under their own ids.

import { CapnpcError } from '../errors.js'
import type { InterfaceNode, MethodModel } from '../model.js'
import { capitalize, hexId, tsName } from '../names.js'
import type { FileContext } from './context.js'
import { doc } from './ts-struct.js'

interface MethodRef {
  owner: InterfaceNode
  method: MethodModel
}

/** Own methods first, then each superclass's (depth first), each interface once. */
export function allMethods(ctx: FileContext, node: InterfaceNode): MethodRef[] {
  const out: MethodRef[] = []
  const seen = new Set<bigint>()
  const names = new Map<string, InterfaceNode>()
  const visit = (n: InterfaceNode): void => {
    if (seen.has(n.id)) return
    seen.add(n.id)
    for (const m of n.methods) {
      const clash = names.get(m.name)
      if (clash !== undefined) {
        throw new CapnpcError('ERR_UNSUPPORTED', `${node.displayName}: method ${m.name} is declared by both ${clash.displayName} and ${n.displayName}`)
      }
      names.set(m.name, n)
      out.push({ owner: n, method: m })
    }
    for (const id of n.superclasses) {
      const s = ctx.node(id)
      if (s.kind !== 'interface') throw new CapnpcError('ERR_BAD_REQUEST', `${n.displayName} extends a non-interface`)
      visit(s)
    }
  }
  visit(node)
  return out
}

/** Method descriptors and promise classes: emitted before clients and servers use them. */
export function emitMethods(ctx: FileContext, node: InterfaceNode): string {
  const I = tsName(node)
  const out: string[] = []
  for (const m of node.methods) {
    const P = ctx.ref(m.paramsId)
    const R = ctx.ref(m.resultsId)
    const base = `${I}_${m.name}`
    out.push(`export const ${base}$Method: $.Method<${P}, ${R}> = {`)
    out.push(`  interfaceId: 0x${hexId(node.id)}n, interfaceName: ${JSON.stringify(node.localName)},`)
    out.push(`  methodId: ${m.id}, methodName: ${JSON.stringify(m.name)}, ParamsClass: ${P}, ResultsClass: ${R},`)
    out.push('}', '')
    out.push(`export class ${base}$Promise extends $.RemotePromise<${R}> {`)
    out.push(...pipelined(ctx, m))
    out.push('}', '')
  }
  const table = node.methods.map((m) => `  ${m.name}: ${I}_${m.name}$Method,`)
  out.push(`export const ${I}$Methods = {`, ...table, '} as const', '')
  return out.join('\n')
}

function pipelined(ctx: FileContext, m: MethodModel): string[] {
  const results = ctx.node(m.resultsId)
  if (results.kind !== 'struct') throw new CapnpcError('ERR_BAD_REQUEST', `method ${m.name} results are not a struct`)
  const out: string[] = []
  for (const f of results.fields) {
    if (f.kind !== 'slot' || f.type.kind !== 'interface') continue
    const C = ctx.ref(f.type.id, '$Client')
    out.push(`  get${capitalize(f.name)}(): ${C} { return new ${C}(this.pipelineClient(${f.offset})) }`)
  }
  return out
}

export function emitInterface(ctx: FileContext, node: InterfaceNode): string {
  const I = tsName(node)
  const methods = allMethods(ctx, node)
  const out: string[] = []
  const mref = (r: MethodRef, suffix: string): string => ctx.ref(r.owner.id, `_${r.method.name}${suffix}`)

  out.push(doc(`A typed client for ${node.localName}: one method per RPC method, each returning a pipelinable promise.`, ''))
  out.push(`export class ${I}$Client {`)
  out.push(`  static readonly interfaceId = 0x${hexId(node.id)}n`)
  out.push('  readonly client: $.Client')
  out.push('  constructor(client: $.Client) { this.client = client }')
  for (const r of methods) {
    const P = ctx.ref(r.method.paramsId)
    const d = methodDoc(r)
    if (d !== '') out.push(doc(d, '  '))
    out.push(`  ${r.method.name}(params?: (params: ${P}) => void): ${mref(r, '$Promise')} {`)
    out.push(`    return this.client.call(${mref(r, '$Method')}, params, ${mref(r, '$Promise')})`)
    out.push('  }')
  }
  out.push('  dispose(): void { this.client.dispose() }')
  out.push('}', '')

  out.push(`export interface ${I}$Impl {`)
  for (const r of methods) {
    out.push(`  ${r.method.name}(params: ${ctx.ref(r.method.paramsId)}, results: ${ctx.ref(r.method.resultsId)}): void | Promise<void>`)
  }
  out.push('}', '')

  out.push(doc(`A capnp-ts Server for ${node.localName} whose methods call \`impl\`.`, ''))
  out.push(`export class ${I}$Server extends $.Server {`)
  out.push(`  constructor(impl: ${I}$Impl) {`)
  out.push('    super([')
  for (const r of methods) {
    const P = ctx.ref(r.method.paramsId)
    const R = ctx.ref(r.method.resultsId)
    out.push(`      { ...${mref(r, '$Method')}, impl: (p: ${P}, r: ${R}) => impl.${r.method.name}(p, r) },`)
  }
  out.push('    ])')
  out.push('  }')
  out.push('}', '')

  out.push(doc(node.doc, ''))
  out.push(`export class ${I} {`)
  out.push(`  static readonly _capnp = { displayName: ${JSON.stringify(node.localName)}, id: '${hexId(node.id)}' }`)
  out.push(`  static readonly interfaceId = 0x${hexId(node.id)}n`)
  out.push(`  static readonly methods = ${I}$Methods`)
  out.push(`  static readonly Client = ${I}$Client`)
  out.push(`  static readonly Server = ${I}$Server`)
  out.push('}')
  // Lets `Echo.Client` / `Echo.Server` / `Echo.Impl` name the types, not only the classes.
  out.push(`export namespace ${I} {`)
  out.push(`  export type Client = ${I}$Client`, `  export type Server = ${I}$Server`, `  export type Impl = ${I}$Impl`)
  out.push('}', '')
  return out.filter((l) => l !== '').join('\n') + '\n'
}

function methodDoc(r: MethodRef): string {
  return r.owner.memberDocs[r.owner.methods.indexOf(r.method)] ?? ''
}
