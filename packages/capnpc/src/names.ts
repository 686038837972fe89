// Where each node lives and what it is called in generated code.
//
// A node's TypeScript name is its scope path joined with "_": `Outer.Inner` →
// `Outer_Inner`, a group `Shape.rect` → `Shape_rect`, an implicit parameter struct
// `Echo.ping$Params` → `Echo_ping$Params`. Names generated beside a node use "$",
// which no Cap'n Proto identifier contains, so they cannot collide: `Echo$Client`,
// `Echo$Server`, `Echo_ping$Promise`.

import { CapnpcError } from './errors.js'
import type { FileNode, NodeModel, RequestModel } from './model.js'

export function tsName(node: NodeModel): string {
  return node.localName.replace(/\./g, '_')
}

/** `sleepyHead` → `SLEEPY_HEAD`, as capnp-ts names enumerants and union tags. */
export function upperSnake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
}

export function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1)
}

/** `features.capnp` → `features.ts`; `sub/x.capnp` → `sub/x.ts`. */
export function outputPath(filename: string, ext = '.ts'): string {
  return filename.replace(/^\/+/, '').replace(/\.capnp$/, '') + ext
}

/** A module namespace alias for an imported schema file: `sub/imported.capnp` → `$imported`. */
export function importAlias(filename: string): string {
  const base = filename.replace(/^.*\//, '').replace(/\.capnp$/, '')
  return '$' + base.replace(/[^A-Za-z0-9_$]/g, '_')
}

export function hexId(id: bigint): string {
  return id.toString(16)
}

export function getNode(req: RequestModel, id: bigint): NodeModel {
  const n = req.nodes.get(id)
  if (n === undefined) throw new CapnpcError('ERR_UNKNOWN_NODE', `the request has no node @0x${hexId(id)}`)
  return n
}

/** The file a node is declared in, from its display name prefix ("file.capnp:"). */
export function fileOf(req: RequestModel, node: NodeModel): FileNode {
  if (node.kind === 'file') return node
  const prefix = node.displayName.slice(0, node.displayName.indexOf(':'))
  for (const n of req.nodes.values()) if (n.kind === 'file' && n.displayName === prefix) return n
  throw new CapnpcError('ERR_UNKNOWN_NODE', `no file node for ${node.displayName}`)
}

/**
 * Every node a file declares, parents first: nested declarations, the groups of each
 * struct, and the implicit parameter/result structs of each interface method.
 */
export function declaredNodes(req: RequestModel, file: FileNode): NodeModel[] {
  const out: NodeModel[] = []
  const seen = new Set<bigint>()
  const visit = (id: bigint): void => {
    if (seen.has(id)) return
    const n = getNode(req, id)
    if (fileOf(req, n) !== file) return
    seen.add(id)
    out.push(n)
    if (n.kind === 'struct') for (const f of n.fields) if (f.kind === 'group') visit(f.groupId)
    if (n.kind === 'interface') for (const m of n.methods) { visit(m.paramsId); visit(m.resultsId) }
    for (const nn of n.nested) visit(nn.id)
  }
  for (const nn of file.nested) visit(nn.id)
  return out
}
