// The metering pass: fuel accounting injected with Binaryen, memory growth routed
// through a cap, and (optionally) asyncify so that running out of fuel can suspend.
//
// Fuel lives in a mutable global `ww_fuel` (exported, so the host reads what a slice
// used), and inside guest code in a register: every defined function `f` gets a twin
// that takes the fuel as an extra parameter and returns what is left as an extra result,
// so direct calls never touch memory; `f` becomes a wrapper (global in, twin, global out)
// for exports, tables and the host. The global is also written around imports and
// indirect calls. A check is
//     if ((fuel -= cost) < 0) fuel = ww_meter.out_of_fuel()
// at every function entry (twin) and on every branch back to a loop (br, br_if when taken,
// br_table): the only ways control can come back to code it has run, so every cycle pays
// and work between checks is bounded by the code's size. `cost` is the number of
// expressions in the region (the loop body or function body, nested loops counting as
// one): a static estimate of the work per iteration or call.
//
// memory.grow(d) becomes a call to an internal helper that fails over the cap:
//     size + d > ww_meter.mem_cap_pages ? ww_meter.grow_denied(d) : memory.grow(d)
// grow_denied returns -1 (the grow fails) or throws (the process ends), by policy.

import type binaryenNs from 'binaryen'
import { binaryenFeatures } from '@ww/interface'
import { BadModuleError, ModuleTooLargeError } from '../errors.js'
import { unrollSmallLoops } from './unroll.js'
import { kinds, rewrite, UnsupportedExpressionError } from './walk.js'

type Binaryen = typeof binaryenNs

export const METER_MODULE = 'ww_meter'
export const FUEL_EXPORT = 'ww_fuel'

export interface MeterOptions {
  /**
   * Asyncify, so that these imports ("module.name") may suspend. Which functions get
   * instrumented depends on the module (see asyncifyPlan): a module that imports none of
   * them and is not the ww ABI is left without asyncify.
   */
  asyncify?: {
    imports: readonly string[]
  }
  /** Unroll small innermost loops once, halving their back-edge checks (default true). */
  unroll?: boolean
  /** Binaryen optimize level used by asyncify (0-3). Default 2. */
  optimizeLevel?: number
  /** Pages the host reserves for a module without its own asyncify data area (default 1, 64 KiB). */
  asyncifyDataPages?: number
  /** Larger modules are refused before Binaryen reads them (default 32 MiB; asyncify's time and memory grow with size). */
  maxBytes?: number
}

export interface MeterInfo {
  /** Who metered it: Binaryen (this pass), or the quick tier a first start takes (meter/quick.ts, no Binaryen, slower code). */
  readonly tier: 'binaryen' | 'quick'
  readonly checks: number
  /** Small innermost loops unrolled once (a check every second iteration). */
  readonly unrolled: number
  readonly hasMemory: boolean
  /** The module can suspend through asyncify: instrumented here, or by its author (`preinstrumented`). */
  readonly asyncified: boolean
  /** It arrived asyncify-instrumented: run as it is, its own asyncify left alone. */
  readonly preinstrumented: boolean
  /**
   * out_of_fuel may suspend (the ww ABI guests, asyncified whole): a long computation
   * yields to other processes. Otherwise it yields where it waits (and always under JSPI).
   */
  readonly fuelYields: boolean
  /** Mutable globals exported as `ww_g<i>` (for hibernation), by export name. */
  readonly globals: readonly string[]
  /** The start function, exported as `ww_start` instead of run at instantiation. */
  readonly start: boolean
  /** A parked process can be saved and restored: asyncified, one memory, no table writes, globals all numbers. */
  readonly hibernatable: boolean
}

export const START_EXPORT = 'ww_start'
/** The ww ABI's asyncify data area export (the guest SDK defines it; the pass adds one to other modules). */
export const ASYNCIFY_DATA_EXPORT = 'ww_asyncify_data'
/**
 * Changes whenever the pass's output for the same input and options changes (this code,
 * or the pinned binaryen): a key part of the persistent cache of instrumented modules.
 */
export const PASS_VERSION = 'ww-meter-4+binaryen-132'

let loading: Promise<Binaryen> | undefined
/** Binaryen, loaded on first use (it is large). */
export function loadBinaryen(): Promise<Binaryen> {
  return (loading ??= import('binaryen').then((m) => m.default))
}


/**
 * Validates `m`, returning Binaryen's complaints ('' when valid). Binaryen prints them to
 * stderr, which would land on a `ww run` user's terminal as noise beside our typed error;
 * the write is taken for the duration of this synchronous call and put into the error.
 */
function validate(m: binaryenNs.Module): string | undefined {
  const said: string[] = []
  const write = process.stderr.write
  process.stderr.write = ((chunk: string | Uint8Array) => { said.push(String(chunk)); return true }) as typeof write
  try {
    if (m.validate()) return undefined
  } finally {
    process.stderr.write = write
  }
  return said.join('').split('\n').filter((l) => l.startsWith('[wasm-validator')).map((l) => l.replace(/^\[wasm-validator error in ([^\]]*)\] (unexpected false: )?/, '$1: ').replace(/, on\s*$/, '')).slice(0, 3).join('; ')
}

const FUEL = '__ww_fuel'
const CAP = '__ww_mem_cap'
const OOF = '__ww_out_of_fuel'
const DENIED = '__ww_grow_denied'
const GROW = '__ww_grow'
/** Pages at the top of memory the host took for the asyncify data area (0 until the first wait). */
const RESERVED = '__ww_reserved_pages'
const DATA_AREA = '__ww_asyncify_data'

const DEFAULT_MAX_BYTES = 32 * 1024 * 1024

/** What asyncify does to one module. */
interface AsyncifyPlan {
  /** Run Binaryen's asyncify with these imports (undefined: do not run it). */
  readonly imports?: readonly string[]
  readonly fuelYields: boolean
  /** Add the host-reserved data area (the module has none of its own). */
  readonly reserve: boolean
}

/**
 * Which asyncify a module gets. The ww ABI guests (they export ww_asyncify_data) are
 * instrumented whole, out_of_fuel included, so they also yield mid-computation. Any other
 * module is instrumented only if it imports a call that may wait, and only on the paths
 * that reach one (Binaryen follows the call graph from the listed imports), with a data
 * area the host reserves. A module that arrives instrumented keeps its own asyncify.
 */
function asyncifyPlan(b: Binaryen, m: binaryenNs.Module, hasMemory: boolean, waiting: readonly string[] | undefined): AsyncifyPlan {
  const none = { fuelYields: false, reserve: false }
  if (waiting === undefined || !hasMemory) return none
  const ownArea = Boolean(m.getExport(ASYNCIFY_DATA_EXPORT))
  if (m.getExport('asyncify_start_unwind')) return { fuelYields: false, reserve: !ownArea }
  if (ownArea) return { imports: [`${METER_MODULE}.out_of_fuel`, ...waiting], fuelYields: true, reserve: false }
  const wanted = new Set(waiting)
  const imported: string[] = []
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const fi = b.getFunctionInfo(m.getFunctionByIndex(i))
    const name = `${fi.module}.${fi.base}`
    if (fi.module && wanted.has(name)) imported.push(name)
  }
  return imported.length === 0 ? none : { imports: imported, fuelYields: false, reserve: true }
}

export async function meterModule(bytes: Uint8Array, opts: MeterOptions = {}): Promise<{ bytes: Uint8Array; info: MeterInfo }> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES
  if (bytes.byteLength > maxBytes) throw new ModuleTooLargeError(bytes.byteLength, maxBytes)
  const { b, m } = await read(bytes)
  try {
    // Exception handling is left out on purpose (binaryenFeatures): a guest could catch the host's kill.
    const invalid = validate(m)
    if (invalid !== undefined) throw new BadModuleError(`module is invalid or uses features beyond Node 20 defaults (exception handling is refused)${invalid ? `: ${invalid}` : ''}`)
    if (m.getExport(FUEL_EXPORT)) throw new BadModuleError(`module already exports ${FUEL_EXPORT}`)
    const preinstrumented = Boolean(m.getExport('asyncify_start_unwind'))
    const i32 = b.i32
    const hasMemory = m.hasMemory()
    const plan = asyncifyPlan(b, m, hasMemory, opts.asyncify?.imports)
    m.addGlobal(FUEL, i32, true, m.i32.const(0))
    m.addGlobalExport(FUEL, FUEL_EXPORT)
    m.addFunctionImport(OOF, METER_MODULE, 'out_of_fuel', b.none, i32)
    if (hasMemory) {
      m.addGlobalImport(CAP, METER_MODULE, 'mem_cap_pages', i32, false)
      m.addFunctionImport(DENIED, METER_MODULE, 'grow_denied', i32, i32)
    }
    // Before exportGlobals: a hibernated process keeps its reservation.
    if (plan.reserve) m.addGlobal(RESERVED, i32, true, m.i32.const(0))
    // Metering sees the code before asyncify: the unwind/rewind paths are not guest work.
    const { checks, tableWrites, unrolled } = instrument(b, m, hasMemory, opts.unroll ?? true, plan.reserve)
    if (hasMemory) addGrowHelper(b, m, plan.reserve)
    if (plan.reserve) addDataArea(b, m, opts.asyncifyDataPages ?? 1)
    const { globals, numeric } = exportGlobals(b, m)
    const start = moveStart(b, m)
    if (plan.imports !== undefined) runAsyncify(b, m, plan.imports, opts.optimizeLevel ?? 2)
    const asyncified = plan.imports !== undefined || preinstrumented
    const broken = validate(m)
    if (broken !== undefined) throw new BadModuleError(`metering produced an invalid module: ${broken}`)
    // A module's own asyncify may not list ww_proc.recv: only ours is known to park there.
    const hibernatable = plan.imports !== undefined && hasMemory && numeric && !tableWrites
    return { bytes: m.emitBinary(), info: { tier: 'binaryen', checks, unrolled, hasMemory, asyncified, preinstrumented, fuelYields: plan.fuelYields, globals, start, hibernatable } }
  } catch (e) {
    if (e instanceof UnsupportedExpressionError) throw new BadModuleError(e.message)
    throw e
  } finally {
    m.dispose()
  }
}

/** Binaryen, with `bytes` read into it for the features ww runs. */
async function read(bytes: Uint8Array): Promise<{ b: Binaryen; m: binaryenNs.Module }> {
  const b = await loadBinaryen()
  let m: binaryenNs.Module
  try {
    m = b.readBinary(bytes)
  } catch (e) {
    throw new BadModuleError('not a WebAssembly module Binaryen can read', { cause: e })
  }
  m.setFeatures(binaryenFeatures(b.Features))
  return { b, m }
}

/** Asyncify so that `imports` may suspend, at `level`; Binaryen's global settings are put back. */
function runAsyncify(b: Binaryen, m: binaryenNs.Module, imports: readonly string[], level: number): void {
  const before = b.getOptimizeLevel()
  try {
    b.setOptimizeLevel(level)
    b.setPassArgument('asyncify-imports', imports.join(','))
    m.runPasses(['asyncify'])
  } finally {
    b.setPassArgument('asyncify-imports', null)
    b.setOptimizeLevel(before)
  }
}

/**
 * Binaryen's asyncify pass alone, for what the quick tier metered (meter/quick.ts): no
 * metering walk from JS (seconds on the demo guest) and no validation (the engine's
 * compile validates the output; the input passed WebAssembly.validate).
 */
export async function asyncifyOnly(bytes: Uint8Array, imports: readonly string[], optimizeLevel: number): Promise<Uint8Array> {
  const { b, m } = await read(bytes)
  try {
    runAsyncify(b, m, imports, optimizeLevel)
    return m.emitBinary()
  } finally {
    m.dispose()
  }
}

// binaryen.js has these expression wrappers; its typings omit them.
interface Wrappers {
  MemoryGrow: { getDelta(e: number): number }
  Loop: { getName(e: number): string | null; getBody(e: number): number }
  Break: { getName(e: number): string; getCondition(e: number): number; getValue(e: number): number }
  Switch: { getNumNames(e: number): number; getNameAt(e: number, i: number): string; getDefaultName(e: number): string }
  Return: { getValue(e: number): number; setValue(e: number, v: number): void }
  Call: { getTarget(e: number): string; getNumOperands(e: number): number; getOperandAt(e: number, i: number): number; setOperandAt(e: number, i: number, v: number): void }
  CallIndirect: { getTarget(e: number): number; setTarget(e: number, v: number): void }
  LocalGet: { getIndex(e: number): number; setIndex(e: number, i: number): void }
  LocalSet: { getIndex(e: number): number; setIndex(e: number, i: number): void }
  Function: { setBody(f: number, body: number): void }
}

/** Suffix of the metered twin of each defined function (fuel in a parameter and a result). */
const TWIN = '$ww_fueled'

/**
 * Fuel inside a metered function body. Every defined function `f` gets a twin `f$ww_fueled`
 * that takes the fuel as an extra last parameter and returns what is left as an extra last
 * result, so direct calls pass it in registers: no store/load of the global per call (a
 * store-to-load chain through memory on every call made recursive code 1.7× slower).
 * `f` itself becomes a wrapper (global → twin → global) for exports, tables and the host.
 * The global is written only where someone else may look: around imports and indirect
 * calls (the callee, or the host, reads or refills it) and in the wrappers.
 */
class FuelLocal {
  readonly #b: Binaryen
  readonly #m: binaryenNs.Module
  readonly #w: Wrappers
  readonly #temps = new Map<number, number>()
  readonly #addVar: (type: number) => number
  readonly fuel: number

  constructor(b: Binaryen, m: binaryenNs.Module, fuel: number, addVar: (type: number) => number) {
    this.#b = b
    this.#m = m
    this.#w = b as unknown as Wrappers
    this.fuel = fuel
    this.#addVar = addVar
  }

  get(): number { return this.#m.local.get(this.fuel, this.#b.i32) }
  load(): number { return this.#m.local.set(this.fuel, this.#m.global.get(FUEL, this.#b.i32)) }
  store(): number { return this.#m.global.set(FUEL, this.get()) }

  /** if ((fuel -= cost) < 0) { store; fuel = out_of_fuel(); store } — a subtract and a branch. */
  check(cost: number): number {
    const m = this.#m
    const i32 = this.#b.i32
    return m.if(
      m.i32.lt_s(m.local.tee(this.fuel, m.i32.sub(this.get(), m.i32.const(cost)), i32), m.i32.const(0)),
      m.block(null, [this.store(), m.local.set(this.fuel, m.call(OOF, [], i32)), this.store()]),
    )
  }

  /**
   * The check on a loop's back edge, with its slow path out of the loop:
   * `br_if $oof ((fuel -= cost) < 0)`. `$oof` is the loop's out-of-fuel exit, where
   * `outOfLine` refills and re-enters the loop at its top (where the back edge went).
   * A call inside a loop keeps V8's optimizing tier from unrolling it; this keeps the
   * loop call-free.
   */
  checkOrLeave(cost: number, oof: string): number {
    const m = this.#m
    const i32 = this.#b.i32
    return m.br(oof, m.i32.lt_s(m.local.tee(this.fuel, m.i32.sub(this.get(), m.i32.const(cost)), i32), m.i32.const(0)))
  }

  /**
   * Wraps `loop` (whose back edges use checkOrLeave(…, oof)) so that leaving by `$oof`
   * refills the fuel and runs the loop again from its top:
   *   block $done (loop $retry (block $oof (br $done (loop …))) refill (br $retry))
   */
  outOfLine(loop: number, label: string, oof: string): number {
    const b = this.#b
    const m = this.#m
    const t = b.getExpressionType(loop)
    const done = `${label}$ww_done`
    const retry = `${label}$ww_retry`
    const type = t === b.unreachable ? b.none : t
    const exit = t === b.none ? m.block(null, [loop, m.br(done)], b.unreachable) : m.br(done, 0, loop)
    const refill = m.block(null, [this.store(), m.local.set(this.fuel, m.call(OOF, [], b.i32)), this.store()])
    const wrapped = m.block(done, [m.loop(retry, m.block(null, [m.block(oof, [exit]), refill, m.br(retry)], b.unreachable))], type)
    return t === b.unreachable ? m.block(null, [wrapped, m.unreachable()], b.unreachable) : wrapped
  }

  /** `expr` then a store, keeping expr's value (evaluated before the store). */
  thenStore(expr: number): number {
    const m = this.#m
    const t = this.#b.getExpressionType(expr)
    if (t === this.#b.none) return m.block(null, [expr, this.store()])
    if (t === this.#b.unreachable) return expr
    const tmp = this.temp(t)
    return m.block(null, [m.local.set(tmp, expr), this.store(), m.local.get(tmp, t)], t)
  }

  /** `expr`'s values followed by the fuel: what a twin returns. */
  withFuel(expr: number): number {
    const b = this.#b
    const m = this.#m
    if (expr === 0) return this.get()
    const t = b.getExpressionType(expr)
    if (t === b.unreachable) return expr
    if (t === b.none) return m.block(null, [expr, this.get()], b.i32)
    const ts = b.expandType(t)
    if (ts.length === 1) return m.tuple.make([expr, this.get()])
    const tmp = this.temp(t)
    return m.block(null, [m.local.set(tmp, expr), m.tuple.make([...ts.map((_, i) => m.tuple.extract(m.local.get(tmp, t), i)), this.get()])], b.createType([...ts, b.i32]))
  }

  /** A call to a twin: fuel passed last (after the other operands), the rest taken back. */
  callTwin(target: string, operands: number[], results: number): number {
    const b = this.#b
    const m = this.#m
    const ts = results === b.none ? [] : b.expandType(results)
    if (ts.length === 0) return m.local.set(this.fuel, m.call(target, [...operands, this.get()], b.i32))
    const tt = b.createType([...ts, b.i32])
    const tmp = this.temp(tt)
    const value = ts.length === 1
      ? m.tuple.extract(m.local.get(tmp, tt), 0)
      : m.tuple.make(ts.map((_, i) => m.tuple.extract(m.local.get(tmp, tt), i)))
    return m.block(null, [
      m.local.set(tmp, m.call(target, [...operands, this.get()], tt)),
      m.local.set(this.fuel, m.tuple.extract(m.local.get(tmp, tt), ts.length)),
      value,
    ], results)
  }

  /** A call the host or an unknown callee sees: store after its operands, reload after it. */
  aroundCall(call: number, kind: 'Call' | 'CallIndirect'): number {
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
    const tmp = this.temp(t)
    return m.block(null, [m.local.set(tmp, expr), this.load(), m.local.get(tmp, t)], t)
  }

  temp(t: number): number {
    let i = this.#temps.get(t)
    if (i === undefined) this.#temps.set(t, (i = this.#addVar(t)))
    return i
  }
}

function instrument(b: Binaryen, m: binaryenNs.Module, hasMemory: boolean, unroll: boolean, reserved: boolean): { checks: number; tableWrites: boolean; unrolled: number } {
  const k = kinds(b)
  const w = b as unknown as Wrappers
  let checks = 0
  let tableWrites = false
  const counts = { unrolled: 0 }
  // Defined functions (name → results), taken before any twin is added.
  const defined = new Map<string, number>()
  const fns: binaryenNs.FunctionRef[] = []
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const f = m.getFunctionByIndex(i)
    const fi = b.getFunctionInfo(f)
    if (fi.module !== '' || !fi.body) continue // an import: nothing to meter
    if (m.getFunction(fi.name + TWIN)) throw new BadModuleError(`module already has a function named ${fi.name}${TWIN}`)
    defined.set(fi.name, fi.results)
    fns.push(f)
  }
  for (const f of fns) {
    const fi = b.getFunctionInfo(f)
    const params = fi.params === b.none ? [] : b.expandType(fi.params)
    const np = params.length
    const vars = [...(fi.vars ?? [])]
    // Twin locals: params, fuel (index np), the original vars shifted by one, temps.
    const fuel = new FuelLocal(b, m, np, (t) => { vars.push(t); return np + vars.length })
    // Cost of one iteration of each loop (by label) and of the function body: expressions
    // in the region, a nested loop counting as one.
    const source = unroll ? unrollSmallLoops(b, m, k, fi.body, counts) : fi.body
    const { body: bodyCost, loops } = regionCosts(b, k, source)
    // Loops with a back edge that leaves for the out-of-fuel exit.
    const leaving = new Set<string>()
    const body = rewrite(b, k, source, {
      visit: (e, kind) => {
        if (kind === 'LocalGet' || kind === 'LocalSet') {
          const x = w[kind].getIndex(e)
          if (x >= np) w[kind].setIndex(e, x + 1)
          return e
        }
        // With a host-reserved data area at the top of memory the guest sees memory without it.
        if (kind === 'MemorySize' && reserved) return m.i32.sub(e, m.global.get(RESERVED, b.i32))
        if (kind === 'MemoryGrow' && hasMemory) {
          return fuel.aroundCall(m.call(GROW, [w.MemoryGrow.getDelta(e)], b.i32), 'Call')
        }
        if (kind === 'Call') {
          const target = w.Call.getTarget(e)
          const results = defined.get(target)
          if (results === undefined) return fuel.aroundCall(e, kind) // an import
          const ops: number[] = []
          for (let j = 0; j < w.Call.getNumOperands(e); j++) ops.push(w.Call.getOperandAt(e, j))
          return fuel.callTwin(target + TWIN, ops, results)
        }
        if (kind === 'CallIndirect') return fuel.aroundCall(e, kind)
        if (kind === 'TableSet' || kind === 'TableGrow') tableWrites = true
        if (kind === 'Return') {
          const v = w.Return.getValue(e)
          return m.return(fuel.withFuel(v))
        }
        // Back edges: every branch to a loop pays one iteration, so each turn of every
        // loop passes a check; falling into a loop (or out of it) does not. Running out
        // leaves the loop to its out-of-fuel exit (added when the loop itself is visited).
        if (kind === 'Break') {
          const cost = loops.get(w.Break.getName(e))
          if (cost === undefined) return e
          checks++
          const name = w.Break.getName(e)
          const cond = w.Break.getCondition(e)
          const oof = `${name}$ww_oof`
          leaving.add(name)
          // A branch to a loop carries no value (Binaryen loops take no parameters).
          if (!cond) return m.block(null, [fuel.checkOrLeave(cost, oof), m.br(name)], b.unreachable)
          return m.if(cond, m.block(null, [fuel.checkOrLeave(cost, oof), m.br(name)], b.unreachable))
        }
        if (kind === 'Loop') {
          const name = w.Loop.getName(e)
          if (name && leaving.has(name)) return fuel.outOfLine(e, name, `${name}$ww_oof`)
          return e
        }
        if (kind === 'Switch') {
          let cost = 0
          const n = w.Switch.getNumNames(e)
          for (let j = 0; j <= n; j++) cost = Math.max(cost, loops.get(j < n ? w.Switch.getNameAt(e, j) : w.Switch.getDefaultName(e)) ?? 0)
          if (cost === 0) return e
          checks++
          return m.block(null, [fuel.check(cost), e], b.unreachable) // charged whichever target is taken
        }
        return e
      },
    })
    const cost = bodyCost
    const results = fi.results === b.none ? [] : b.expandType(fi.results)
    const twinBody = m.block(null, [fuel.check(cost), fuel.withFuel(body)], b.createType([...results, b.i32]))
    checks++
    m.addFunction(fi.name + TWIN, b.createType([...params, b.i32]), b.createType([...results, b.i32]), vars, twinBody)
    // The original becomes the wrapper (exports, tables, the host): global in, twin, global out.
    w.Function.setBody(f as unknown as number, wrapperBody(b, m, f as unknown as number, fi.name + TWIN, params, results))
  }
  return { checks, tableWrites, unrolled: counts.unrolled }
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

/** Expressions per region: the function body, and one iteration of each named loop. */
function regionCosts(b: Binaryen, k: ReturnType<typeof kinds>, body: number): { body: number; loops: Map<string, number> } {
  const w = b as unknown as Wrappers
  const costs: number[] = [0]
  const loops = new Map<string, number>()
  rewrite(b, k, body, {
    enter: (_e, kind) => {
      costs[costs.length - 1]!++
      if (kind === 'Loop') costs.push(0)
    },
    visit: (e, kind) => {
      if (kind === 'Loop') {
        const cost = Math.max(1, costs.pop()!)
        const name = w.Loop.getName(e)
        if (name) loops.set(name, Math.max(cost, loops.get(name) ?? 0))
      }
      return e
    },
  })
  return { body: Math.max(1, costs[0]!), loops }
}

function wrapperBody(b: Binaryen, m: binaryenNs.Module, f: number, twin: string, params: number[], results: number[]): number {
  const args = [...params.map((t, j) => m.local.get(j, t)), m.global.get(FUEL, b.i32)]
  if (results.length === 0) return m.global.set(FUEL, m.call(twin, args, b.i32))
  const tt = b.createType([...results, b.i32])
  const tmp = (b as unknown as { _BinaryenFunctionAddVar(f: number, t: number): number })._BinaryenFunctionAddVar(f, tt)
  const get = (): number => m.local.get(tmp, tt)
  const value = results.length === 1 ? m.tuple.extract(get(), 0) : m.tuple.make(results.map((_, i) => m.tuple.extract(get(), i)))
  return m.block(null, [
    m.local.set(tmp, m.call(twin, args, tt)),
    m.global.set(FUEL, m.tuple.extract(get(), results.length)),
    value,
  ], b.createType(results))
}

function addGrowHelper(b: Binaryen, m: binaryenNs.Module, reserved: boolean): void {
  const d = (): number => m.local.get(0, b.i32)
  const u64 = (x: number): number => m.i64.extend_u(x)
  if (!reserved) {
    m.addFunction(GROW, b.i32, b.i32, [], m.if(
      m.i64.gt_u(m.i64.add(u64(m.memory.size()), u64(d())), u64(m.global.get(CAP, b.i32))),
      m.call(DENIED, [d()], b.i32),
      m.memory.grow(d()),
    ))
    return
  }
  // The guest's view ends below the reserved pages. Its new pages begin where its view
  // ended, over the data area of past waits: zeroed first (fresh pages read as zero), and
  // the area moves up to the new top (it is used only while the guest is suspended).
  const r = (): number => m.global.get(RESERVED, b.i32)
  const old = (): number => m.local.get(1, b.i32)
  m.addFunction(GROW, b.i32, b.i32, [b.i32], m.block(null, [
    m.if(
      m.i64.gt_u(m.i64.add(u64(m.i32.sub(m.memory.size(), r())), u64(d())), u64(m.global.get(CAP, b.i32))),
      m.return(m.call(DENIED, [d()], b.i32)),
    ),
    m.local.set(1, m.memory.grow(d())),
    m.if(m.i32.eq(old(), m.i32.const(-1)), m.return(m.i32.const(-1))),
    m.memory.fill(
      m.i32.shl(m.i32.sub(old(), r()), m.i32.const(16)),
      m.i32.const(0),
      m.i32.shl(m.select(m.i32.lt_u(d(), r()), d(), r()), m.i32.const(16)),
    ),
    m.i32.sub(old(), r()),
  ], b.i32))
}

/**
 * `ww_asyncify_data` for a module without one: `pages` taken at the top of memory on the
 * first wait (the guest's memory.size no longer counts them), header { current, end } at
 * their start. -1 when memory cannot grow (the suspender says so).
 */
function addDataArea(b: Binaryen, m: binaryenNs.Module, pages: number): void {
  const i32 = b.i32
  const r = (): number => m.global.get(RESERVED, i32)
  const addr = (): number => m.local.get(0, i32)
  m.addFunction(DATA_AREA, b.none, i32, [i32], m.block(null, [
    m.if(m.i32.eqz(r()), m.block(null, [
      m.if(m.i32.eq(m.memory.grow(m.i32.const(pages)), m.i32.const(-1)), m.return(m.i32.const(-1))),
      m.global.set(RESERVED, m.i32.const(pages)),
    ])),
    m.local.set(0, m.i32.shl(m.i32.sub(m.memory.size(), r()), m.i32.const(16))),
    m.i32.store(4, 4, addr(), m.i32.add(addr(), m.i32.shl(r(), m.i32.const(16)))),
    addr(),
  ], i32))
  m.addFunctionExport(DATA_AREA, ASYNCIFY_DATA_EXPORT)
}
