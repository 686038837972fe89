// A generic rewriting walk over Binaryen expressions: for each expression kind, the
// fields that hold child expressions. Kinds we do not know are refused rather than
// skipped: an unvisited subtree could hide a loop without a fuel check.

import type binaryenNs from 'binaryen'
type Binaryen = typeof binaryenNs
type Ref = number

// Expression kind → child fields ('name[]' for lists). Covers the MVP and what Node 20
// runs without flags (bulk memory, SIMD, reference types, multivalue, sign extension).
const CHILDREN: Record<string, readonly string[]> = {
  Block: ['children[]'], If: ['condition', 'ifTrue', 'ifFalse'], Loop: ['body'],
  Break: ['condition', 'value'], Switch: ['condition', 'value'],
  Call: ['operands[]'], CallIndirect: ['target', 'operands[]'],
  LocalGet: [], LocalSet: ['value'], GlobalGet: [], GlobalSet: ['value'],
  Load: ['ptr'], Store: ['ptr', 'value'], Const: [], Unary: ['value'], Binary: ['left', 'right'],
  Select: ['ifTrue', 'ifFalse', 'condition'], Drop: ['value'], Return: ['value'],
  MemorySize: [], MemoryGrow: ['delta'], Nop: [], Unreachable: [],
  AtomicRMW: ['ptr', 'value'], AtomicCmpxchg: ['ptr', 'expected', 'replacement'],
  AtomicWait: ['ptr', 'expected', 'timeout'], AtomicNotify: ['ptr', 'notifyCount'], AtomicFence: [],
  SIMDExtract: ['vec'], SIMDReplace: ['vec', 'value'], SIMDShuffle: ['left', 'right'],
  SIMDTernary: ['a', 'b', 'c'], SIMDShift: ['vec', 'shift'], SIMDLoad: ['ptr'],
  SIMDLoadStoreLane: ['ptr', 'vec'],
  MemoryInit: ['dest', 'offset', 'size'], DataDrop: [], MemoryCopy: ['dest', 'source', 'size'],
  MemoryFill: ['dest', 'value', 'size'],
  RefNull: [], RefIsNull: ['value'], RefFunc: [], RefEq: ['left', 'right'], RefAs: ['value'],
  TableGet: ['index'], TableSet: ['index', 'value'], TableSize: [], TableGrow: ['value', 'delta'],
  TupleMake: ['operands[]'], TupleExtract: ['tuple'], Pop: [],
}

export interface Kinds {
  /** Expression id → kind name, e.g. 3 → 'Loop'. */
  readonly names: Map<number, string>
}

export function kinds(b: Binaryen): Kinds {
  const names = new Map<number, string>()
  const B = b as unknown as Record<string, unknown>
  for (const name of Object.keys(CHILDREN)) {
    const id = B[`${name}Id`]
    if (typeof id === 'number') names.set(id, name)
  }
  return { names }
}

export class UnsupportedExpressionError extends Error {}

type Accessor = Record<string, (expr: Ref, ...rest: number[]) => unknown>

/**
 * Visits `expr` bottom-up: children first (each replaced by what `visit` returns for it),
 * then `visit(expr)` itself. `enter` runs before the children, `leave` after them.
 */
export function rewrite(b: Binaryen, k: Kinds, expr: Ref, hooks: {
  enter?: (expr: Ref, kind: string) => void
  visit: (expr: Ref, kind: string) => Ref
}): Ref {
  if (expr === 0) return 0
  const kind = k.names.get(b.getExpressionId(expr))
  if (kind === undefined) throw new UnsupportedExpressionError(`expression id ${b.getExpressionId(expr)} is not supported by the metering pass`)
  hooks.enter?.(expr, kind)
  const cls = (b as unknown as Record<string, Accessor>)[kind]!
  for (const field of CHILDREN[kind]!) {
    if (field.endsWith('[]')) {
      const base = field.slice(0, -2)
      const one = base === 'children' ? 'Child' : 'Operand'
      const n = cls[base === 'children' ? 'getNumChildren' : 'getNumOperands']!(expr) as number
      for (let i = 0; i < n; i++) {
        const c = cls[`get${one}At`]!(expr, i) as Ref
        const r = rewrite(b, k, c, hooks)
        if (r !== c) cls[`set${one}At`]!(expr, i, r)
      }
    } else {
      const cap = field[0]!.toUpperCase() + field.slice(1)
      const c = cls[`get${cap}`]!(expr) as Ref
      if (!c) continue
      const r = rewrite(b, k, c, hooks)
      if (r !== c) cls[`set${cap}`]!(expr, r)
    }
  }
  return hooks.visit(expr, kind)
}
