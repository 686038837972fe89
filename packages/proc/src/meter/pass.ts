// The metering pass: fuel accounting injected with Binaryen, memory growth routed
// through a cap, and (optionally) asyncify so that running out of fuel can suspend.
//
// Fuel lives in a mutable global `ww_fuel` (exported, so the host reads what a slice
// used). A check is injected at every function entry and every loop head:
//     fuel -= cost; if (fuel < 0) fuel = ww_meter.out_of_fuel()
// Those are the only places where control can come back without passing a check (a
// call or a backward branch), so unchecked work is bounded by one function body.
// `cost` is the number of expressions in the straight-line region the check guards
// (the loop body or function body, nested loops excluded): a static estimate of the
// work per iteration, one check per block rather than per instruction.
//
// memory.grow(d) becomes a call to an internal helper that fails over the cap:
//     size + d > ww_meter.mem_cap_pages ? ww_meter.grow_denied(d) : memory.grow(d)
// grow_denied returns -1 (the grow fails) or throws (the process ends), by policy.

import type binaryenNs from 'binaryen'
import { BadModuleError } from '../errors.js'
import { kinds, rewrite, UnsupportedExpressionError } from './walk.js'

type Binaryen = typeof binaryenNs

export const METER_MODULE = 'ww_meter'
export const FUEL_EXPORT = 'ww_fuel'

export interface MeterOptions {
  /** Also asyncify, so these imports ("module.name") may suspend; out_of_fuel is added. */
  asyncify?: {
    imports: readonly string[]
    /** Only when the module exports this name (e.g. the ABI's `ww_asyncify_data`). */
    ifExports?: string
  }
  /** Binaryen optimize level used by asyncify (0-3). Default 2. */
  optimizeLevel?: number
}

export interface MeterInfo {
  readonly checks: number
  readonly hasMemory: boolean
  readonly asyncified: boolean
  /** Mutable globals exported as `ww_g<i>` (for hibernation), by export name. */
  readonly globals: readonly string[]
  /** The start function, exported as `ww_start` instead of run at instantiation. */
  readonly start: boolean
  /** A parked process can be saved and restored: asyncified, one memory, no table writes, globals all numbers. */
  readonly hibernatable: boolean
}

export const START_EXPORT = 'ww_start'

let loading: Promise<Binaryen> | undefined
/** Binaryen, loaded on first use (it is large). */
export function loadBinaryen(): Promise<Binaryen> {
  return (loading ??= import('binaryen').then((m) => m.default))
}

/** What Node 20 runs without flags. Never Features.All: Node 20 rejects its output. */
export function nodeFeatures(b: Binaryen): number {
  const F = b.Features as unknown as Record<string, number>
  // BulkMemoryOpt and CallIndirectOverlong are Binaryen's names for parts of bulk memory
  // and reference types (newer Binaryen asserts on bulk memory without them).
  const names = ['MutableGlobals', 'NontrappingFPToInt', 'SIMD128', 'BulkMemory', 'BulkMemoryOpt', 'SignExt', 'Multivalue', 'ReferenceTypes', 'CallIndirectOverlong']
  return names.reduce((acc, n) => acc | (F[n] ?? 0), 0)
}

const FUEL = '__ww_fuel'
const CAP = '__ww_mem_cap'
const OOF = '__ww_out_of_fuel'
const DENIED = '__ww_grow_denied'
const GROW = '__ww_grow'

export async function meterModule(bytes: Uint8Array, opts: MeterOptions = {}): Promise<{ bytes: Uint8Array; info: MeterInfo }> {
  const b = await loadBinaryen()
  let m: binaryenNs.Module
  try {
    m = b.readBinary(bytes)
  } catch (e) {
    throw new BadModuleError('not a WebAssembly module Binaryen can read', { cause: e })
  }
  const level = b.getOptimizeLevel()
  try {
    m.setFeatures(nodeFeatures(b))
    // Exception handling is left out on purpose: a guest could catch the host's kill.
    if (!m.validate()) throw new BadModuleError('module is invalid or uses features beyond Node 20 defaults (exception handling is refused)')
    if (m.getExport(FUEL_EXPORT)) throw new BadModuleError(`module already exports ${FUEL_EXPORT}`)
    const i32 = b.i32
    m.addGlobal(FUEL, i32, true, m.i32.const(0))
    m.addGlobalExport(FUEL, FUEL_EXPORT)
    m.addFunctionImport(OOF, METER_MODULE, 'out_of_fuel', b.none, i32)
    const hasMemory = m.hasMemory()
    if (hasMemory) {
      m.addGlobalImport(CAP, METER_MODULE, 'mem_cap_pages', i32, false)
      m.addFunctionImport(DENIED, METER_MODULE, 'grow_denied', i32, i32)
    }
    const { checks, tableWrites } = instrument(b, m, hasMemory)
    if (hasMemory) addGrowHelper(b, m)
    const { globals, numeric } = exportGlobals(b, m)
    const start = moveStart(b, m)
    let asyncified = false
    const a = opts.asyncify
    if (a && (a.ifExports === undefined || m.getExport(a.ifExports))) {
      b.setOptimizeLevel(opts.optimizeLevel ?? 2)
      b.setPassArgument('asyncify-imports', [`${METER_MODULE}.out_of_fuel`, ...a.imports].join(','))
      m.runPasses(['asyncify'])
      asyncified = true
    }
    if (!m.validate()) throw new BadModuleError('metering produced an invalid module')
    const hibernatable = asyncified && hasMemory && numeric && !tableWrites
    return { bytes: m.emitBinary(), info: { checks, hasMemory, asyncified, globals, start, hibernatable } }
  } catch (e) {
    if (e instanceof UnsupportedExpressionError) throw new BadModuleError(e.message)
    throw e
  } finally {
    b.setPassArgument('asyncify-imports', null)
    b.setOptimizeLevel(level)
    m.dispose()
  }
}

// binaryen.js has these expression wrappers; its typings omit them.
interface Wrappers {
  MemoryGrow: { getDelta(e: number): number }
  Loop: { getBody(e: number): number; setBody(e: number, body: number): void }
  Return: { getValue(e: number): number; setValue(e: number, v: number): void }
  Call: { getNumOperands(e: number): number; getOperandAt(e: number, i: number): number; setOperandAt(e: number, i: number, v: number): void }
  CallIndirect: { getTarget(e: number): number; setTarget(e: number, v: number): void }
  Function: { setBody(f: number, body: number): void }
  _BinaryenFunctionAddVar(f: number, type: number): number
}

/**
 * Per function, fuel is kept in a local (a register) and written back to the global
 * only where someone else may look: before calls (the callee, or the host in an
 * import), after them (reload: the host may have changed it), and on the way out.
 * This keeps a loop-head check to a subtract and a branch.
 */
class FuelLocal {
  readonly #b: Binaryen
  readonly #m: binaryenNs.Module
  readonly #f: number
  readonly #w: Wrappers
  readonly #temps = new Map<number, number>()
  readonly fuel: number
  /** Cached in a local only where it pays: functions with loops. Others use the global. */
  readonly cached: boolean

  constructor(b: Binaryen, m: binaryenNs.Module, f: number, cached: boolean) {
    this.#b = b
    this.#m = m
    this.#f = f
    this.#w = b as unknown as Wrappers
    this.cached = cached
    this.fuel = this.#w._BinaryenFunctionAddVar(f, b.i32)
  }

  get(): number { return this.#m.local.get(this.fuel, this.#b.i32) }
  load(): number { return this.cached ? this.#m.local.set(this.fuel, this.#m.global.get(FUEL, this.#b.i32)) : this.#m.nop() }
  store(): number { return this.#m.global.set(FUEL, this.get()) }

  /** fuel -= cost; if (fuel < 0) { store; fuel = out_of_fuel(); store } */
  check(cost: number): number {
    const m = this.#m
    const i32 = this.#b.i32
    if (!this.cached) {
      // global = tee(local, global - cost); if (local < 0) global = out_of_fuel()
      return m.block(null, [
        m.global.set(FUEL, m.local.tee(this.fuel, m.i32.sub(m.global.get(FUEL, i32), m.i32.const(cost)), i32)),
        m.if(m.i32.lt_s(this.get(), m.i32.const(0)), m.global.set(FUEL, m.call(OOF, [], i32))),
      ])
    }
    return m.block(null, [
      m.local.set(this.fuel, m.i32.sub(this.get(), m.i32.const(cost))),
      m.if(m.i32.lt_s(this.get(), m.i32.const(0)), m.block(null, [
        this.store(), m.local.set(this.fuel, m.call(OOF, [], i32)), this.store(),
      ])),
    ])
  }

  /** `expr` then a store, keeping expr's value (evaluated before the store). */
  thenStore(expr: number): number {
    if (!this.cached) return expr
    const m = this.#m
    const t = this.#b.getExpressionType(expr)
    if (t === this.#b.none) return m.block(null, [expr, this.store()])
    if (t === this.#b.unreachable) return expr
    const tmp = this.#temp(t)
    return m.block(null, [m.local.set(tmp, expr), this.store(), m.local.get(tmp, t)], t)
  }

  /** A call with the store placed after its operands are evaluated and a reload after it. */
  aroundCall(call: number, kind: 'Call' | 'CallIndirect'): number {
    if (!this.cached) return call
    const w = this.#w
    if (kind === 'CallIndirect') w.CallIndirect.setTarget(call, this.thenStore(w.CallIndirect.getTarget(call)))
    else {
      const n = w.Call.getNumOperands(call)
      if (n > 0) w.Call.setOperandAt(call, n - 1, this.thenStore(w.Call.getOperandAt(call, n - 1)))
      else call = this.#m.block(null, [this.store(), call], this.#b.getExpressionType(call))
    }
    return this.#thenLoad(call)
  }

  #thenLoad(expr: number): number {
    const m = this.#m
    const t = this.#b.getExpressionType(expr)
    if (t === this.#b.none) return m.block(null, [expr, this.load()])
    if (t === this.#b.unreachable) return expr
    const tmp = this.#temp(t)
    return m.block(null, [m.local.set(tmp, expr), this.load(), m.local.get(tmp, t)], t)
  }

  #temp(t: number): number {
    let i = this.#temps.get(t)
    if (i === undefined) this.#temps.set(t, (i = this.#w._BinaryenFunctionAddVar(this.#f, t)))
    return i
  }
}

function instrument(b: Binaryen, m: binaryenNs.Module, hasMemory: boolean): { checks: number; tableWrites: boolean } {
  const k = kinds(b)
  const w = b as unknown as Wrappers
  let checks = 0
  let tableWrites = false
  const n = m.getNumFunctions()
  for (let i = 0; i < n; i++) {
    const f = m.getFunctionByIndex(i)
    const fi = b.getFunctionInfo(f)
    if (fi.module !== '' || !fi.body) continue // an import: nothing to meter
    const fuel = new FuelLocal(b, m, f as unknown as number, hasLoop(b, k, fi.body))
    // costs[top] counts expressions of the innermost loop (or of the function body).
    const costs: number[] = [0]
    const body = rewrite(b, k, fi.body, {
      enter: (_e, kind) => {
        costs[costs.length - 1]!++
        if (kind === 'Loop') costs.push(0)
      },
      visit: (e, kind) => {
        if (kind === 'MemoryGrow' && hasMemory) {
          return fuel.aroundCall(m.call(GROW, [w.MemoryGrow.getDelta(e)], b.i32), 'Call')
        }
        if (kind === 'Call' || kind === 'CallIndirect') return fuel.aroundCall(e, kind)
        if (kind === 'TableSet' || kind === 'TableGrow') tableWrites = true
        if (kind === 'Return' && fuel.cached) {
          const v = w.Return.getValue(e)
          if (v) w.Return.setValue(e, fuel.thenStore(v))
          else return m.block(null, [fuel.store(), e], b.unreachable)
        }
        if (kind === 'Loop') {
          const cost = Math.max(1, costs.pop()!)
          const inner = w.Loop.getBody(e)
          w.Loop.setBody(e, m.block(null, [fuel.check(cost), inner], b.getExpressionType(inner)))
          checks++
        }
        return e
      },
    })
    const cost = Math.max(1, costs[0]!)
    const type = b.getExpressionType(body)
    w.Function.setBody(f as unknown as number, m.block(null, [fuel.load(), fuel.check(cost), fuel.thenStore(body)], type))
    checks++
  }
  return { checks, tableWrites }
}

/**
 * Exports every mutable global the module defines and does not export, so that the host
 * can save and restore a process's whole state (memory + globals).
 */
function exportGlobals(b: Binaryen, m: binaryenNs.Module): { globals: string[]; numeric: boolean } {
  const exported = new Map<string, string>() // internal name → export name
  for (let i = 0; i < m.getNumExports(); i++) {
    const e = b.getExportInfo(m.getExportByIndex(i))
    if (e.kind === b.ExternalGlobal) exported.set(e.value, e.name)
  }
  const globals: string[] = []
  let numeric = true
  const numbers = new Set([b.i32, b.i64, b.f32, b.f64])
  for (let i = 0; i < m.getNumGlobals(); i++) {
    const g = b.getGlobalInfo(m.getGlobalByIndex(i))
    if (!g.mutable || g.module || g.name === FUEL) continue
    if (!numbers.has(g.type)) { numeric = false; continue }
    const already = exported.get(g.name)
    if (already !== undefined) { globals.push(already); continue }
    const name = `ww_g${i}`
    if (m.getExport(name)) throw new BadModuleError(`module already exports ${name}`)
    m.addGlobalExport(g.name, name)
    globals.push(name)
  }
  return { globals, numeric }
}

/** Moves the start function to an export: the host runs it once, not at every instantiation. */
function moveStart(b: Binaryen, m: binaryenNs.Module): boolean {
  const start = m.getStart()
  if (!start) return false
  if (m.getExport(START_EXPORT)) throw new BadModuleError(`module already exports ${START_EXPORT}`)
  m.addFunctionExport(b.getFunctionInfo(start).name, START_EXPORT)
  m.setStart(0 as unknown as binaryenNs.FunctionRef)
  return true
}

function hasLoop(b: Binaryen, k: ReturnType<typeof kinds>, body: number): boolean {
  let found = false
  rewrite(b, k, body, { visit: (e, kind) => { if (kind === 'Loop') found = true; return e } })
  return found
}

function addGrowHelper(b: Binaryen, m: binaryenNs.Module): void {
  const d = (): number => m.local.get(0, b.i32)
  const u64 = (x: number): number => m.i64.extend_u(x)
  m.addFunction(GROW, b.i32, b.i32, [], m.if(
    m.i64.gt_u(m.i64.add(u64(m.memory.size()), u64(d())), u64(m.global.get(CAP, b.i32))),
    m.call(DENIED, [d()], b.i32),
    m.memory.grow(d()),
  ))
}
