// Per-file emission state: which other generated modules the file imports, the list
// constructors it needs (created once at the end of the module, after every class
// exists), and how a type or node is spelled from inside this file.

import { posix } from 'node:path'
import { CapnpcError } from '../errors.js'
import type { FileNode, NodeModel, RequestModel, TypeRef } from '../model.js'
import { fileOf, getNode, importAlias, outputPath, tsName } from '../names.js'

export interface EmitOptions {
  /** Schema files not generated in this run, mapped to the module specifier to import them from. */
  importMap?: Record<string, string>
}

export class FileContext {
  readonly imports = new Map<string, string>() // alias → module specifier
  readonly listCtors = new Map<string, { name: string; expr: string }>() // type key → ctor
  usesRaw = false

  constructor(
    readonly req: RequestModel,
    readonly file: FileNode,
    readonly generated: Set<bigint>,
    readonly opts: EmitOptions,
  ) {}

  node(id: bigint): NodeModel {
    return getNode(this.req, id)
  }

  /** The name of node `id` as written in this file, importing its module if needed. */
  ref(id: bigint, suffix = ''): string {
    const n = this.node(id)
    const f = fileOf(this.req, n)
    if (f === this.file) return tsName(n) + suffix
    return `${this.importFile(f)}.${tsName(n)}${suffix}`
  }

  private importFile(f: FileNode): string {
    const alias = importAlias(f.displayName)
    let spec: string
    if (this.generated.has(f.id)) {
      const from = posix.dirname(outputPath(this.file.displayName))
      spec = posix.relative(from, outputPath(f.displayName, '.js'))
      if (!spec.startsWith('.')) spec = './' + spec
    } else {
      const mapped = this.opts.importMap?.[f.displayName]
      if (mapped === undefined) {
        throw new CapnpcError('ERR_UNRESOLVED_IMPORT', `${this.file.displayName} uses a type of ${f.displayName}, which is neither generated nor in importMap`)
      }
      spec = mapped
    }
    const prev = this.imports.get(alias)
    if (prev !== undefined && prev !== spec) throw new CapnpcError('ERR_UNSUPPORTED', `two imported files share the alias ${alias}`)
    this.imports.set(alias, spec)
    return alias
  }

  /** The TypeScript type of a list element of type `t`. */
  elementType(t: TypeRef): string {
    switch (t.kind) {
      case 'void': return '$.Void'
      case 'bool': return 'boolean'
      case 'int64': case 'uint64': return 'bigint'
      case 'int8': case 'int16': case 'int32': case 'uint8': case 'uint16': case 'uint32':
      case 'float32': case 'float64': case 'enum': return 'number'
      case 'text': return 'string'
      case 'data': return '$.Data'
      case 'anyPointer': return '$.Pointer'
      case 'interface': return '$.Interface'
      case 'struct': return this.ref(t.id)
      case 'list': return `$.List<${this.elementType(t.element)}>`
    }
  }

  /** An expression for the ListCtor of `List(t)`. */
  listCtor(t: TypeRef): string {
    switch (t.kind) {
      case 'void': return '$.VoidList'
      case 'bool': return '$.BoolList'
      case 'int8': return '$.Int8List'
      case 'int16': return '$.Int16List'
      case 'int32': return '$.Int32List'
      case 'int64': return '$.Int64List'
      case 'uint8': return '$.Uint8List'
      case 'uint16': case 'enum': return '$.Uint16List'
      case 'uint32': return '$.Uint32List'
      case 'uint64': return '$.Uint64List'
      case 'float32': return '$.Float32List'
      case 'float64': return '$.Float64List'
      case 'text': return '$.TextList'
      case 'data': return '$.DataList'
      case 'anyPointer': return '$.AnyPointerList'
      case 'interface': return '$.InterfaceList'
      case 'struct': return this.deferredList(`s:${t.id}`, `$.CompositeList(${this.ref(t.id)})`)
      case 'list': {
        const inner = this.listCtor(t.element)
        return this.deferredList(`l:${inner}`, `$.PointerList(${inner})`)
      }
    }
  }

  // Composite and nested list constructors close over classes, so they are built once
  // at the end of the module; methods only read them at call time.
  private deferredList(key: string, expr: string): string {
    let e = this.listCtors.get(key)
    if (e === undefined) {
      e = { name: `$L${this.listCtors.size}`, expr }
      this.listCtors.set(key, e)
    }
    return e.name
  }

  /** An expression reading a packed default pointer (see ValueModel). */
  raw(packed: Uint8Array): string {
    this.usesRaw = true
    return `$raw([${Array.from(packed).join(', ')}])`
  }
}
