// The CodeGeneratorRequest as plain data. Emitters work on this model, never on
// capnp-ts readers: it is read once, checked once, and easy to walk in any order.

import { Message, Pointer } from 'capnp-ts'
import { setRoot } from 'capnp-ts/src/serialization/message.js'
import * as S from 'capnp-ts/src/std/schema.capnp.js'
import { CapnpcError } from './errors.js'
import { readDocs } from './source-info.js'

export type PrimKind =
  | 'void' | 'bool' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16'
  | 'uint32' | 'uint64' | 'float32' | 'float64'

export type TypeRef =
  | { kind: PrimKind }
  | { kind: 'text' } | { kind: 'data' } | { kind: 'anyPointer' }
  | { kind: 'list'; element: TypeRef }
  | { kind: 'enum'; id: bigint } | { kind: 'struct'; id: bigint } | { kind: 'interface'; id: bigint }

export type ValueModel =
  | { kind: 'void' }
  | { kind: 'bool'; value: boolean }
  | { kind: 'number'; value: number }
  | { kind: 'bigint'; value: bigint }
  | { kind: 'text'; value: string }
  | { kind: 'data'; value: Uint8Array; packed: Uint8Array | null }
  | { kind: 'enum'; value: number }
  /** A struct, list or AnyPointer value as a packed single-pointer message (capnp-ts's readRawPointer format); null for a null pointer. */
  | { kind: 'pointer'; packed: Uint8Array | null }

export interface SlotField {
  kind: 'slot'
  name: string
  codeOrder: number
  /** The union discriminant value, or null outside a union. */
  discriminant: number | null
  /** In units of the type's size (bits for Bool, bytes*N for others, pointer index for pointers). */
  offset: number
  type: TypeRef
  defaultValue: ValueModel
}
export interface GroupField {
  kind: 'group'
  name: string
  codeOrder: number
  discriminant: number | null
  groupId: bigint
}
export type FieldModel = SlotField | GroupField

interface NodeBase {
  id: bigint
  displayName: string
  /** displayName without the "file.capnp:" prefix, e.g. "Outer.Inner". */
  localName: string
  scopeId: bigint
  nested: { name: string; id: bigint }[]
  doc: string
  memberDocs: string[]
}
export interface FileNode extends NodeBase { kind: 'file' }
export interface StructNode extends NodeBase {
  kind: 'struct'
  dataWords: number
  pointerCount: number
  isGroup: boolean
  discriminantCount: number
  /** In 16-bit units, as in the schema. */
  discriminantOffset: number
  fields: FieldModel[]
}
export interface EnumNode extends NodeBase { kind: 'enum'; enumerants: { name: string; codeOrder: number }[] }
export interface MethodModel {
  name: string
  codeOrder: number
  /** Index in the interface's method list: the wire method id. */
  id: number
  paramsId: bigint
  resultsId: bigint
}
export interface InterfaceNode extends NodeBase { kind: 'interface'; methods: MethodModel[]; superclasses: bigint[] }
export interface ConstNode extends NodeBase { kind: 'const'; type: TypeRef; value: ValueModel }
export interface AnnotationNode extends NodeBase { kind: 'annotation' }
export type NodeModel = FileNode | StructNode | EnumNode | InterfaceNode | ConstNode | AnnotationNode

export interface RequestedFile { id: bigint; filename: string; imports: { id: bigint; name: string }[] }

export interface RequestModel {
  nodes: Map<bigint, NodeModel>
  files: RequestedFile[]
}

export function loadRequest(bytes: Uint8Array | ArrayBuffer): RequestModel {
  let req: S.CodeGeneratorRequest
  try {
    req = new Message(bytes, false).getRoot(S.CodeGeneratorRequest)
  } catch (err) {
    throw new CapnpcError('ERR_BAD_REQUEST', `cannot read CodeGeneratorRequest: ${(err as Error).message}`)
  }
  const docs = readDocs(req)
  const nodes = new Map<bigint, NodeModel>()
  for (const n of req.getNodes().toArray()) {
    const node = readNode(n, docs.get(n.getId()))
    nodes.set(node.id, node)
  }
  const files = req.getRequestedFiles().map((f) => ({
    id: f.getId(),
    filename: f.getFilename(),
    imports: f.getImports().map((i) => ({ id: i.getId(), name: i.getName() })),
  }))
  if (files.length === 0) throw new CapnpcError('ERR_BAD_REQUEST', 'the request names no files to generate')
  return { nodes, files }
}

function readNode(n: S.Node, docs: { doc: string; members: string[] } | undefined): NodeModel {
  const displayName = n.getDisplayName()
  const base: NodeBase = {
    id: n.getId(),
    displayName,
    // The scope path after "file.capnp:" (the prefix length of implicit method structs
    // covers their interface too, so it is not used here).
    localName: displayName.slice(displayName.indexOf(':') + 1),
    scopeId: n.getScopeId(),
    nested: n.getNestedNodes().map((nn) => ({ name: nn.getName(), id: nn.getId() })),
    doc: docs?.doc ?? '',
    memberDocs: docs?.members ?? [],
  }
  switch (n.which()) {
    case S.Node_Which.FILE:
      // A file's displayName is its path; its local name is empty.
      return { ...base, kind: 'file', localName: '' }
    case S.Node_Which.STRUCT: {
      const s = n.getStruct()
      return {
        ...base,
        kind: 'struct',
        dataWords: s.getDataWordCount(),
        pointerCount: s.getPointerCount(),
        isGroup: s.getIsGroup(),
        discriminantCount: s.getDiscriminantCount(),
        discriminantOffset: s.getDiscriminantOffset(),
        fields: s.getFields().map(readField),
      }
    }
    case S.Node_Which.ENUM:
      return { ...base, kind: 'enum', enumerants: n.getEnum().getEnumerants().map((e) => ({ name: e.getName(), codeOrder: e.getCodeOrder() })) }
    case S.Node_Which.INTERFACE: {
      const i = n.getInterface()
      return {
        ...base,
        kind: 'interface',
        methods: i.getMethods().map((m, id) => ({
          name: m.getName(),
          codeOrder: m.getCodeOrder(),
          id,
          paramsId: m.getParamStructType(),
          resultsId: m.getResultStructType(),
        })),
        superclasses: i.getSuperclasses().map((sc) => sc.getId()),
      }
    }
    case S.Node_Which.CONST: {
      const c = n.getConst()
      return { ...base, kind: 'const', type: readType(c.getType()), value: readValue(c.getValue()) }
    }
    case S.Node_Which.ANNOTATION:
      return { ...base, kind: 'annotation' }
    default:
      throw new CapnpcError('ERR_BAD_REQUEST', `node ${displayName} has an unknown kind ${n.which()}`)
  }
}

function readField(f: S.Field): FieldModel {
  const d = f.getDiscriminantValue()
  const common = { name: f.getName(), codeOrder: f.getCodeOrder(), discriminant: d === S.Field.NO_DISCRIMINANT ? null : d }
  if (f.isGroup()) return { ...common, kind: 'group', groupId: f.getGroup().getTypeId() }
  const slot = f.getSlot()
  return { ...common, kind: 'slot', offset: slot.getOffset(), type: readType(slot.getType()), defaultValue: readValue(slot.getDefaultValue()) }
}

const PRIMS: Partial<Record<S.Type_Which, PrimKind | 'text' | 'data'>> = {
  [S.Type_Which.VOID]: 'void', [S.Type_Which.BOOL]: 'bool',
  [S.Type_Which.INT8]: 'int8', [S.Type_Which.INT16]: 'int16', [S.Type_Which.INT32]: 'int32', [S.Type_Which.INT64]: 'int64',
  [S.Type_Which.UINT8]: 'uint8', [S.Type_Which.UINT16]: 'uint16', [S.Type_Which.UINT32]: 'uint32', [S.Type_Which.UINT64]: 'uint64',
  [S.Type_Which.FLOAT32]: 'float32', [S.Type_Which.FLOAT64]: 'float64',
  [S.Type_Which.TEXT]: 'text', [S.Type_Which.DATA]: 'data',
}

export function readType(t: S.Type): TypeRef {
  const w = t.which()
  const prim = PRIMS[w]
  if (prim !== undefined) return { kind: prim }
  switch (w) {
    case S.Type_Which.LIST: return { kind: 'list', element: readType(t.getList().getElementType()) }
    case S.Type_Which.ENUM: return { kind: 'enum', id: t.getEnum().getTypeId() }
    case S.Type_Which.STRUCT: return { kind: 'struct', id: t.getStruct().getTypeId() }
    case S.Type_Which.INTERFACE: return { kind: 'interface', id: t.getInterface().getTypeId() }
    // Generic parameters are AnyPointer: capnp-ts has no branded types to bind them to.
    case S.Type_Which.ANY_POINTER: return { kind: 'anyPointer' }
    default: throw new CapnpcError('ERR_BAD_REQUEST', `unknown type kind ${w}`)
  }
}

function readValue(v: S.Value): ValueModel {
  switch (v.which()) {
    case S.Value_Which.VOID: return { kind: 'void' }
    case S.Value_Which.BOOL: return { kind: 'bool', value: v.getBool() }
    case S.Value_Which.INT8: return { kind: 'number', value: v.getInt8() }
    case S.Value_Which.INT16: return { kind: 'number', value: v.getInt16() }
    case S.Value_Which.INT32: return { kind: 'number', value: v.getInt32() }
    case S.Value_Which.INT64: return { kind: 'bigint', value: v.getInt64() }
    case S.Value_Which.UINT8: return { kind: 'number', value: v.getUint8() }
    case S.Value_Which.UINT16: return { kind: 'number', value: v.getUint16() }
    case S.Value_Which.UINT32: return { kind: 'number', value: v.getUint32() }
    case S.Value_Which.UINT64: return { kind: 'bigint', value: v.getUint64() }
    case S.Value_Which.FLOAT32: return { kind: 'number', value: v.getFloat32() }
    case S.Value_Which.FLOAT64: return { kind: 'number', value: v.getFloat64() }
    case S.Value_Which.TEXT: return { kind: 'text', value: v.getText() }
    case S.Value_Which.DATA: {
      if (!v.hasData()) return { kind: 'data', value: new Uint8Array(0), packed: null }
      const d = v.getData()
      const p = pointerValue(d)
      return { kind: 'data', value: d.toUint8Array().slice(), packed: p.kind === 'pointer' ? p.packed : null }
    }
    case S.Value_Which.ENUM: return { kind: 'enum', value: v.getEnum() }
    case S.Value_Which.LIST: return pointerValue(v.getList())
    case S.Value_Which.STRUCT: return pointerValue(v.getStruct())
    case S.Value_Which.ANY_POINTER: return pointerValue(v.getAnyPointer())
    case S.Value_Which.INTERFACE: return { kind: 'pointer', packed: null }
    default: throw new CapnpcError('ERR_BAD_REQUEST', `unknown value kind ${v.which()}`)
  }
}

function pointerValue(p: Pointer): ValueModel {
  if (Pointer.isNull(p)) return { kind: 'pointer', packed: null }
  const m = new Message()
  setRoot(p, m)
  return { kind: 'pointer', packed: new Uint8Array(m.toPackedArrayBuffer()) }
}
