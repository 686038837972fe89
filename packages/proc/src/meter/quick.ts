// The quick metering tier: the same contract as Binaryen's pass (meter/pass.ts), written
// straight into the binary in one walk, in milliseconds where loading Binaryen alone takes
// seconds. A first start runs this; the Binaryen build (fuel in registers, about twice
// as fast on hot loops) replaces it in the background.
//
// Fuel lives in the exported global `ww_fuel`, and inside each function in a local (read
// at entry and after calls, written back before calls and on the way out; no twins with
// fuel in parameters as in Binaryen's pass). A check
//     fuel -= cost; if (fuel < 0) fuel = ww_meter.out_of_fuel()
// goes at every function entry and at the head of every loop: each call and each turn of
// each loop pays, so the work between checks is bounded by the code's size. `cost` counts
// the instructions of the region (the function body, or one turn of the loop, a nested
// loop counting as one), as the Binaryen pass counts expressions.
// memory.grow becomes a call to a helper that refuses growth over the cap:
//     size + d > ww_meter.mem_cap_pages ? ww_meter.grow_denied(d) : memory.grow(d)
// The start function moves to the export `ww_start`. Asyncify itself is not done here: a
// module that needs it (the ww ABI, a module importing a call that may wait) comes back
// with the imports for Binaryen's asyncify pass, which is all Binaryen then runs (its
// metering walk from JS took seconds). A module without an asyncify data area of its own
// gets the host-reserved one here, as from Binaryen's pass: memory.size minus the reserved
// pages, a grow helper that moves the area up, and `ww_asyncify_data`.

import { BadModuleError } from '../errors.js'
import { last, OP, readInstr, valtype } from './instructions.js'
import { ASYNCIFY_DATA_EXPORT, FUEL_EXPORT, METER_MODULE, START_EXPORT, type MeterInfo, type MeterOptions } from './pass.js'
import { DecodeError, Reader, u32Bytes, Writer } from './wasm-bytes.js'

/** Part of the module cache's key: changes whenever this tier's output for the same input changes. */
export const QUICK_VERSION = 'ww-quick-2'

const NUMBERS = new Set([0x7f, 0x7e, 0x7d, 0x7c])

const SECTION_RANK: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 }
const ID = { custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6, export: 7, start: 8, element: 9, code: 10, data: 11, dataCount: 12, tag: 13 } as const

interface Section { readonly id: number; readonly body: Reader }

/** What the first look at a module found. */
interface Shape {
  types: number
  /** Parameters of each type, and each defined function's type. */
  typeParams: number[]
  funcTypes: number[]
  funcImports: number
  globalImports: number
  definedFuncs: number
  definedGlobals: number
  hasMemory: boolean
  importNames: string[]
  exportNames: Set<string>
  /** Export names of globals, by global index. */
  globalExports: Map<number, string>
  /** Mutable globals the module defines, by global index: whether each holds a number (not a reference). */
  mutableGlobals: Map<number, boolean>
  start: number | undefined
}

/** The quick tier's output; `asyncify`: the imports Binaryen's asyncify pass must still take (undefined: none). */
export interface QuickMetered {
  readonly bytes: Uint8Array
  readonly info: MeterInfo
  readonly asyncify?: readonly string[]
}

/**
 * Meters `bytes` without Binaryen. Throws BadModuleError for what Binaryen's pass refuses
 * the same way (a clash with the names it adds), DecodeError for bytes it cannot read or
 * would leave to Binaryen (`unsupported`): the caller decides (see compileQuick).
 * `needsAsyncify` is called as soon as the module is known to need Binaryen's asyncify,
 * before the rewrite: the caller can start loading Binaryen meanwhile.
 */
export function meterQuick(bytes: Uint8Array, opts: MeterOptions = {}, needsAsyncify?: () => void): QuickMetered {
  const sections = split(bytes)
  const shape = survey(sections)
  if (shape.exportNames.has(FUEL_EXPORT)) throw new BadModuleError(`module already exports ${FUEL_EXPORT}`)
  const preinstrumented = shape.exportNames.has('asyncify_start_unwind')
  const plan = asyncifyPlan(shape, preinstrumented, opts.asyncify?.imports)
  if (shape.start !== undefined && shape.exportNames.has(START_EXPORT)) throw new BadModuleError(`module already exports ${START_EXPORT}`)
  if (plan.imports !== undefined) needsAsyncify?.()
  const rewrite = new Plan(shape, plan.reserve ? opts.asyncifyDataPages ?? 1 : 0)
  const out = new Writer().bytes(bytes.subarray(0, 8))
  let rank = 0
  const emitMissing = (upTo: number): void => {
    for (const id of [ID.type, ID.import, ID.function, ID.global, ID.export, ID.code]) {
      if (SECTION_RANK[id]! > rank && SECTION_RANK[id]! < upTo && !sections.some((s) => s.id === id)) emit(id, undefined)
    }
  }
  const emit = (id: number, body: Reader | undefined): void => {
    const w = rewrite.section(id, body)
    if (w !== undefined) out.byte(id).sized(w)
  }
  for (const s of sections) {
    if (s.id !== ID.custom) {
      emitMissing(SECTION_RANK[s.id]!)
      rank = SECTION_RANK[s.id]!
    }
    emit(s.id, s.body)
  }
  emitMissing(Infinity)
  return {
    bytes: out.result().slice(),
    info: {
      tier: 'quick', checks: rewrite.checks, unrolled: 0, hasMemory: shape.hasMemory, asyncified: preinstrumented || plan.imports !== undefined, preinstrumented,
      fuelYields: plan.fuelYields, globals: rewrite.globals, start: shape.start !== undefined,
      // As from Binaryen's pass: a process parked in our asyncify can be saved and restored.
      hibernatable: plan.imports !== undefined && shape.hasMemory && rewrite.numeric && !rewrite.tableWrites,
    },
    ...(plan.imports !== undefined ? { asyncify: plan.imports } : {}),
  }
}

/**
 * The same decision as Binaryen's pass (meter/pass.ts, asyncifyPlan): the ww ABI guests
 * (their own data area) are asyncified whole, out_of_fuel included, so they also yield
 * mid-computation; another module only if it imports a call that may wait, with a data
 * area the host reserves; a module asyncified by its author keeps its own asyncify.
 */
function asyncifyPlan(shape: Shape, preinstrumented: boolean, waiting: readonly string[] | undefined): { imports?: readonly string[]; fuelYields: boolean; reserve: boolean } {
  const none = { fuelYields: false, reserve: false }
  if (waiting === undefined || !shape.hasMemory) return none
  const ownArea = shape.exportNames.has(ASYNCIFY_DATA_EXPORT)
  if (preinstrumented) return { fuelYields: false, reserve: !ownArea }
  if (ownArea) return { imports: [`${METER_MODULE}.out_of_fuel`, ...waiting], fuelYields: true, reserve: false }
  const wanted = new Set(waiting)
  const imported = shape.importNames.filter((n) => wanted.has(n))
  return imported.length === 0 ? none : { imports: [...new Set(imported)], fuelYields: false, reserve: true }
}

function split(bytes: Uint8Array): Section[] {
  const r = new Reader(bytes)
  const header = r.take(8)
  if (header[0] !== 0 || header[1] !== 0x61 || header[2] !== 0x73 || header[3] !== 0x6d) throw new DecodeError('not a WebAssembly module (bad magic)')
  if (header[4] !== 1 || header[5] !== 0 || header[6] !== 0 || header[7] !== 0) throw new DecodeError('unsupported WebAssembly version')
  const sections: Section[] = []
  let rank = 0
  while (!r.done) {
    const id = r.byte()
    const size = r.u32()
    const body = new Reader(bytes, r.pos, r.pos + size)
    r.skip(size)
    if (id === ID.tag) throw new DecodeError('exception handling (a tag section)', true)
    if (id !== ID.custom) {
      const next = SECTION_RANK[id]
      if (next === undefined) throw new DecodeError(`unknown section id ${id}`)
      if (next <= rank) throw new DecodeError(`section ${id} out of order`)
      rank = next
    }
    sections.push({ id, body })
  }
  return sections
}

function limits(r: Reader): void {
  const flags = r.byte()
  if (flags > 1) throw new DecodeError(flags <= 3 ? 'shared memory (threads)' : 'memory64', true)
  r.u32()
  if (flags === 1) r.u32()
}

function survey(sections: readonly Section[]): Shape {
  const shape: Shape = { types: 0, typeParams: [], funcTypes: [], funcImports: 0, globalImports: 0, definedFuncs: 0, definedGlobals: 0, hasMemory: false, importNames: [], exportNames: new Set(), globalExports: new Map(), mutableGlobals: new Map(), start: undefined }
  for (const s of sections) {
    const r = new Reader(s.body.bytes, s.body.pos, s.body.end)
    switch (s.id) {
      case ID.type: {
        shape.types = r.u32()
        for (let i = 0; i < shape.types; i++) {
          const form = r.byte()
          if (form !== 0x60) throw new DecodeError(form === 0x4e || form === 0x50 || form === 0x4f ? 'GC types' : 'bad type form', form !== 0x60 && form >= 0x4e)
          const params = r.u32()
          for (let n = params; n > 0; n--) valtype(r)
          for (let n = r.u32(); n > 0; n--) valtype(r)
          shape.typeParams.push(params)
        }
        break
      }
      case ID.import:
        for (let n = r.u32(); n > 0; n--) {
          const name = `${r.name()}.${r.name()}`
          const kind = r.byte()
          if (kind === 0) { r.u32(); shape.funcImports++; shape.importNames.push(name) }
          else if (kind === 1) { r.byte(); limits(r) }
          else if (kind === 2) { limits(r); shape.hasMemory = true }
          else if (kind === 3) { valtype(r); r.byte(); shape.globalImports++ }
          else throw new DecodeError(kind === 4 ? 'exception handling (a tag import)' : `bad import kind ${kind}`, kind === 4)
        }
        break
      case ID.function:
        shape.definedFuncs = r.u32()
        for (let i = 0; i < shape.definedFuncs; i++) {
          const t = r.u32()
          if (t >= shape.types) throw new DecodeError(`type index ${t} out of range`)
          shape.funcTypes.push(t)
        }
        break
      case ID.memory: {
        const n = r.u32()
        if (n > 1) throw new DecodeError('multi-memory', true)
        for (let i = 0; i < n; i++) limits(r)
        if (n > 0) shape.hasMemory = true
        break
      }
      case ID.global:
        shape.definedGlobals = r.u32()
        for (let i = 0; i < shape.definedGlobals; i++) {
          const type = valtype(r)
          if (r.byte() === 1) shape.mutableGlobals.set(shape.globalImports + i, NUMBERS.has(type))
          const at = { indexAt: 0 }
          while (readInstr(r, at) !== OP.end) { /* the initializer */ }
        }
        break
      case ID.export:
        for (let n = r.u32(); n > 0; n--) {
          const name = r.name()
          shape.exportNames.add(name)
          const kind = r.byte()
          const index = r.u32()
          if (kind === 3) shape.globalExports.set(index, name)
        }
        break
      case ID.start: shape.start = r.u32(); break
    }
  }
  return shape
}

/** Fuel check of `cost`: its bytes, with the cost filled in when its region ends. */
interface Check { cost: number }

/** How the rewrite renumbers and what it adds, and the section rewriters. */
class Plan {
  checks = 0
  readonly #s: Shape
  /** Functions imported before ours (ours follow them, so defined functions shift). */
  readonly #added: number
  readonly #oof: number
  readonly #denied: number
  readonly #grow: number
  readonly #fuel: number
  readonly #globalShift: number
  readonly #typeNoneToI32: number
  readonly #typeI32ToI32: number
  /** Pages of the host-reserved asyncify data area (0: none), its global and its function. */
  readonly #reservePages: number
  readonly #reserved: number
  readonly #dataArea: number

  /**
   * Every mutable global the module defines, by the name the host finds it under (its
   * export, or `ww_g<index>` added), so a process's whole state can be saved (hibernation).
   */
  readonly globals: string[] = []
  readonly #globalExports: Array<[name: string, index: number]> = []
  /** Mutable globals are all numbers (a reference cannot be saved). */
  readonly numeric: boolean
  /** The code writes a table (table.set, table.grow): a saved process could not be restored. */
  tableWrites = false

  constructor(s: Shape, reservePages: number) {
    this.#s = s
    this.#reservePages = reservePages
    let numeric = true
    for (const [index, isNumber] of s.mutableGlobals) {
      if (!isNumber) { numeric = false; continue }
      const already = s.globalExports.get(index)
      if (already !== undefined) { this.globals.push(already); continue }
      const name = `ww_g${index}`
      if (s.exportNames.has(name)) throw new BadModuleError(`module already exports ${name}`)
      this.#globalExports.push([name, index])
      this.globals.push(name)
    }
    this.numeric = numeric
    // The reserved pages too: a hibernated process keeps its reservation (named as Binaryen's
    // pass names it: its index after the module's globals, ww_fuel and the cap).
    if (reservePages > 0) {
      const name = `ww_g${s.globalImports + s.definedGlobals + 2}`
      if (s.exportNames.has(name)) throw new BadModuleError(`module already exports ${name}`)
      this.#globalExports.push([name, -1])
      this.globals.push(name)
    }
    this.#added = s.hasMemory ? 2 : 1
    this.#oof = s.funcImports
    this.#denied = s.funcImports + 1
    this.#grow = s.funcImports + this.#added + s.definedFuncs
    this.#globalShift = s.hasMemory ? 1 : 0
    this.#fuel = s.globalImports + this.#globalShift + s.definedGlobals
    this.#typeNoneToI32 = s.types
    this.#typeI32ToI32 = s.types + 1
    this.#reserved = this.#fuel + 1
    this.#dataArea = this.#grow + 1
  }

  readonly #calls = new Map<number, Uint8Array>()
  readonly #indices = new Map<number, Uint8Array>()

  /** `call i`'s bytes (made once per callee: a module calls the same few functions often). */
  #call(i: number): Uint8Array {
    let b = this.#calls.get(i)
    if (b === undefined) this.#calls.set(i, (b = new Uint8Array([OP.call, ...u32Bytes(i)])))
    return b
  }

  #index(i: number): Uint8Array {
    let b = this.#indices.get(i)
    if (b === undefined) this.#indices.set(i, (b = u32Bytes(i)))
    return b
  }

  /** Renumbered, and range-checked: an index past the end must not come to name what we add. */
  func(i: number): number {
    if (i >= this.#s.funcImports + this.#s.definedFuncs) throw new DecodeError(`function index ${i} out of range`)
    return i < this.#s.funcImports ? i : i + this.#added
  }

  global(i: number): number {
    if (i >= this.#s.globalImports + this.#s.definedGlobals) throw new DecodeError(`global index ${i} out of range`)
    return i < this.#s.globalImports ? i : i + this.#globalShift
  }

  /** The rewritten body of section `id` (`body` undefined: the module had none), or undefined to drop it. */
  section(id: number, body: Reader | undefined): Writer | undefined {
    const r = body ?? new Reader(new Uint8Array([0]))
    const w = new Writer()
    const n = id === ID.start || id === ID.custom ? 0 : r.u32()
    const rest = (): Uint8Array => r.take(r.end - r.pos)
    switch (id) {
      case ID.custom: return this.#custom(r)
      case ID.type:
        return w.u32(n + 2).bytes(rest()).bytes([0x60, 0, 1, 0x7f]).bytes([0x60, 1, 0x7f, 1, 0x7f])
      case ID.import: {
        w.u32(n + this.#added + this.#globalShift).bytes(rest())
        w.name(METER_MODULE).name('out_of_fuel').byte(0).u32(this.#typeNoneToI32)
        if (this.#s.hasMemory) {
          w.name(METER_MODULE).name('grow_denied').byte(0).u32(this.#typeI32ToI32)
          w.name(METER_MODULE).name('mem_cap_pages').byte(3).byte(0x7f).byte(0)
        }
        return w
      }
      case ID.function:
        if (!this.#s.hasMemory) return body === undefined ? undefined : w.u32(n).bytes(rest())
        if (this.#reservePages > 0) return w.u32(n + 2).bytes(rest()).u32(this.#typeI32ToI32).u32(this.#typeNoneToI32)
        return w.u32(n + 1).bytes(rest()).u32(this.#typeI32ToI32)
      case ID.table:
        w.u32(n)
        for (let i = 0; i < n; i++) {
          if (r.bytes[r.pos] === 0x40) { // a table with an initializer
            w.bytes(r.take(2))
            const at = r.pos
            r.byte()
            limits(r)
            w.bytes(r.bytes.subarray(at, r.pos))
            this.#constExpr(r, w)
          } else {
            const at = r.pos
            r.byte()
            limits(r)
            w.bytes(r.bytes.subarray(at, r.pos))
          }
        }
        return this.#whole(r, w)
      case ID.global:
        w.u32(n + 1 + (this.#reservePages > 0 ? 1 : 0))
        for (let i = 0; i < n; i++) {
          const at = r.pos
          valtype(r)
          r.byte()
          w.bytes(r.bytes.subarray(at, r.pos))
          this.#constExpr(r, w)
        }
        this.#whole(r, w)
        w.byte(0x7f).byte(1).byte(OP.i32Const).byte(0).byte(OP.end) // ww_fuel
        // The reserved pages (0 until the first wait), after ww_fuel: a hibernated process keeps them.
        if (this.#reservePages > 0) w.byte(0x7f).byte(1).byte(OP.i32Const).byte(0).byte(OP.end)
        return w
      case ID.export: {
        const start = this.#s.start
        w.u32(n + 1 + (start === undefined ? 0 : 1) + (this.#reservePages > 0 ? 1 : 0) + this.#globalExports.length)
        for (let i = 0; i < n; i++) {
          w.name(r.name())
          const kind = r.byte()
          const index = r.u32()
          w.byte(kind).u32(kind === 0 ? this.func(index) : kind === 3 ? this.global(index) : index)
        }
        this.#whole(r, w)
        w.name(FUEL_EXPORT).byte(3).u32(this.#fuel)
        if (start !== undefined) w.name(START_EXPORT).byte(0).u32(this.func(start))
        if (this.#reservePages > 0) w.name(ASYNCIFY_DATA_EXPORT).byte(0).u32(this.#dataArea)
        for (const [name, index] of this.#globalExports) w.name(name).byte(3).u32(index === -1 ? this.#reserved : this.global(index))
        return w
      }
      case ID.start: return undefined // exported as ww_start instead
      case ID.element:
        w.u32(n)
        for (let i = 0; i < n; i++) this.#element(r, w)
        return this.#whole(r, w)
      case ID.code:
        if (n !== this.#s.definedFuncs) throw new DecodeError('function and code section counts differ')
        w.u32(n + (this.#s.hasMemory ? 1 : 0) + (this.#reservePages > 0 ? 1 : 0))
        for (let i = 0; i < n; i++) {
          const size = r.u32()
          const end = r.pos + size
          if (end > r.end) throw new DecodeError('function body past the end of its section')
          this.#body(i, new Reader(r.bytes, r.pos, end), w)
          r.pos = end
        }
        this.#whole(r, w)
        if (this.#reservePages > 0) return w.sized(this.#growReserved()).sized(this.#dataAreaBody())
        return this.#s.hasMemory ? w.sized(this.#growHelper()) : w
      case ID.data:
        w.u32(n)
        for (let i = 0; i < n; i++) {
          const flags = r.u32()
          w.u32(flags)
          if (flags === 2) w.u32(r.u32())
          else if (flags !== 0 && flags !== 1) throw new DecodeError(`bad data segment flags ${flags}`)
          if (flags !== 1) this.#constExpr(r, w)
          const len = r.u32()
          w.u32(len).bytes(r.take(len))
        }
        return this.#whole(r, w)
      default: // memory, data count: nothing renumbered
        return w.u32(n).bytes(rest())
    }
  }

  /** The section was read to its end (a count that lies is a malformed module). */
  #whole(r: Reader, w: Writer): Writer {
    if (!r.done) throw new DecodeError('section longer than its contents')
    return w
  }

  /** Copies a constant expression, renumbering global.get and ref.func. */
  #constExpr(r: Reader, w: Writer): void {
    const at = { indexAt: 0 }
    let from = r.pos
    for (;;) {
      const op = readInstr(r, at)
      if (op === OP.globalGet || op === OP.refFunc) {
        w.bytes(r.bytes.subarray(from, at.indexAt)).u32(op === OP.globalGet ? this.global(last.index) : this.func(last.index))
        from = r.pos
      } else if (op === OP.end) break
    }
    w.bytes(r.bytes.subarray(from, r.pos))
  }

  #element(r: Reader, w: Writer): void {
    const flags = r.u32()
    if (flags > 7) throw new DecodeError(`bad element segment flags ${flags}`)
    w.u32(flags)
    if (flags === 2 || flags === 6) w.u32(r.u32()) // table index
    if ((flags & 1) === 0) this.#constExpr(r, w) // active: offset
    if ((flags & 3) !== 0) w.byte(r.byte()) // elemkind or reftype
    const n = r.u32()
    w.u32(n)
    for (let i = 0; i < n; i++) {
      if (flags & 4) this.#constExpr(r, w)
      else w.u32(this.func(r.u32()))
    }
  }

  /**
   * A function body, metered: a check at entry and at each loop head; calls renumbered;
   * memory.grow capped. Inside the body the fuel lives in a local of its own (a register
   * in hot loops), written to the global wherever someone else may look (before calls,
   * out_of_fuel included, and on the way out) and read back after calls.
   */
  #body(index: number, r: Reader, out: Writer): void {
    const start = r.pos
    let locals = this.#s.typeParams[this.#s.funcTypes[index]!]!
    const groups = r.u32()
    for (let n = groups; n > 0; n--) {
      locals += r.u32()
      valtype(r)
    }
    const fuel = new Writer().u32(locals).result() // the fuel local's index, as bytes
    const g = new Writer().u32(this.#fuel).result()
    const store = new Writer().byte(OP.localGet).bytes(fuel).byte(OP.globalSet).bytes(g).result()
    const load = new Writer().byte(OP.globalGet).bytes(g).byte(OP.localSet).bytes(fuel).result()
    // What the body becomes: spliced bytes, checks, and ranges of the original (two numbers,
    // from and to: no view object per range, which a cold walk paid for dearly).
    const pieces: (Uint8Array | Check | number)[] = [new Writer().u32(groups + 1).bytes(r.bytes.subarray(lebEnd(r.bytes, start), r.pos)).byte(1).byte(0x7f).result(), load]
    const entry: Check = { cost: 0 }
    pieces.push(entry)
    this.checks++
    let from = r.pos
    const cut = (upTo: number): void => {
      if (upTo > from) pieces.push(from, upTo)
      from = upTo
    }
    const regions = [0]
    const open: (Check | undefined)[] = []
    const at = { indexAt: 0 }
    for (;;) {
      const begin = r.pos
      const op = readInstr(r, at)
      regions[regions.length - 1]!++
      if (op === OP.block || op === OP.if) open.push(undefined)
      else if (op === OP.loop) {
        cut(r.pos)
        const c: Check = { cost: 0 }
        pieces.push(c)
        this.checks++
        open.push(c)
        regions.push(0)
      } else if (op === OP.end) {
        if (open.length === 0) {
          cut(begin)
          pieces.push(store)
          break
        }
        const c = open.pop()
        if (c !== undefined) c.cost = Math.max(1, regions.pop()!)
      } else if (op === OP.call || op === OP.callIndirect) {
        cut(begin)
        pieces.push(store)
        if (op === OP.call) {
          pieces.push(this.#call(this.func(last.index)))
          from = r.pos
        } else cut(r.pos)
        pieces.push(load)
      } else if (op === OP.refFunc || op === OP.globalGet || op === OP.globalSet) {
        const to = op === OP.refFunc ? this.func(last.index) : this.global(last.index)
        if (to !== last.index) {
          cut(at.indexAt)
          pieces.push(this.#index(to))
          from = r.pos
        }
      } else if (op === OP.tableSet || op === OP.tableGrow) {
        this.tableWrites = true
      } else if (op === OP.memorySize && this.#reservePages > 0) {
        // The guest's view of memory ends below the reserved pages.
        cut(r.pos)
        pieces.push(this.#minusReserved)
      } else if (op === OP.memoryGrow) {
        cut(begin)
        pieces.push(this.#call(this.#grow))
        from = r.pos
      } else if (op === OP.return || ((op === OP.br || op === OP.brIf || op === OP.brTable) && last.index >= open.length)) {
        cut(begin) // leaving the function: the global gets what is left
        pieces.push(store)
      }
    }
    if (!r.done) throw new DecodeError('code after the end of a function body')
    entry.cost = Math.max(1, regions[0]!)
    cut(r.pos)
    const head = new Writer().byte(OP.localGet).bytes(fuel).byte(OP.i32Const).result()
    const tail = new Writer().byte(OP.i32Sub).byte(OP.localTee).bytes(fuel).byte(OP.i32Const).byte(0).byte(OP.i32LtS)
      .byte(OP.if).byte(0x40).bytes(store).byte(OP.call).u32(this.#oof).byte(OP.localTee).bytes(fuel).byte(OP.globalSet).bytes(g).byte(OP.end).result()
    const body = new Writer(r.end - start + 64)
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!
      if (typeof p === 'number') body.copy(r.bytes, p, pieces[++i] as number)
      else if (p instanceof Uint8Array) body.bytes(p)
      else body.bytes(head).s32(p.cost).bytes(tail)
    }
    out.sized(body)
  }

  /** (func (param $d i32) (result i32)) growing by $d pages, or grow_denied($d) over the cap. */
  #growHelper(): Writer {
    const d = [OP.localGet, 0]
    return new Writer().byte(0) // no locals
      .byte(OP.memorySize).byte(0).byte(OP.i64ExtendI32U).bytes(d).byte(OP.i64ExtendI32U).byte(OP.i64Add)
      .byte(OP.globalGet).u32(this.#s.globalImports).byte(OP.i64ExtendI32U).byte(OP.i64GtU)
      .byte(OP.if).byte(0x7f).bytes(d).byte(OP.call).u32(this.#denied)
      .byte(OP.else).bytes(d).byte(OP.memoryGrow).byte(0).byte(OP.end)
      .byte(OP.end)
  }

  get #minusReserved(): Uint8Array {
    return (this.#minusReservedBytes ??= new Writer().byte(OP.globalGet).u32(this.#reserved).byte(OP.i32Sub).result())
  }

  #minusReservedBytes: Uint8Array | undefined

  /**
   * The grow helper under a host-reserved data area (as meter/pass.ts's addGrowHelper):
   * capped on the guest's view of memory; the guest's new pages begin where its view
   * ended, over the area of past waits, so they are zeroed, and the area moves to the top.
   */
  #growReserved(): Writer {
    const d = [OP.localGet, 0]
    const old = [OP.localGet, 1]
    const r = new Writer().byte(OP.globalGet).u32(this.#reserved).result()
    return new Writer().byte(1).byte(1).byte(0x7f) // one i32 local: the old size
      .byte(OP.memorySize).byte(0).bytes(r).byte(OP.i32Sub).byte(OP.i64ExtendI32U).bytes(d).byte(OP.i64ExtendI32U).byte(OP.i64Add)
      .byte(OP.globalGet).u32(this.#s.globalImports).byte(OP.i64ExtendI32U).byte(OP.i64GtU)
      .byte(OP.if).byte(0x40).bytes(d).byte(OP.call).u32(this.#denied).byte(OP.return).byte(OP.end)
      .bytes(d).byte(OP.memoryGrow).byte(0).byte(OP.localTee).byte(1).byte(OP.i32Const).byte(0x7f).byte(OP.i32Eq)
      .byte(OP.if).byte(0x40).byte(OP.i32Const).byte(0x7f).byte(OP.return).byte(OP.end)
      .bytes(old).bytes(r).byte(OP.i32Sub).byte(OP.i32Const).byte(16).byte(OP.i32Shl) // dest
      .byte(OP.i32Const).byte(0) // value
      .bytes(d).bytes(r).bytes(d).bytes(r).byte(OP.i32LtU).byte(OP.select).byte(OP.i32Const).byte(16).byte(OP.i32Shl) // min(d, reserved) pages
      .byte(0xfc).u32(11).byte(0) // memory.fill
      .bytes(old).bytes(r).byte(OP.i32Sub)
      .byte(OP.end)
  }

  /**
   * `ww_asyncify_data` (as meter/pass.ts's addDataArea): takes the reserved pages at the
   * top of memory on the first wait, writes the header's end, returns the area's address;
   * -1 when memory cannot grow.
   */
  #dataAreaBody(): Writer {
    const r = new Writer().byte(OP.globalGet).u32(this.#reserved).result()
    const addr = [OP.localGet, 0]
    return new Writer().byte(1).byte(1).byte(0x7f)
      .bytes(r).byte(OP.i32Eqz).byte(OP.if).byte(0x40)
      .byte(OP.i32Const).s32(this.#reservePages).byte(OP.memoryGrow).byte(0).byte(OP.i32Const).byte(0x7f).byte(OP.i32Eq)
      .byte(OP.if).byte(0x40).byte(OP.i32Const).byte(0x7f).byte(OP.return).byte(OP.end)
      .byte(OP.i32Const).s32(this.#reservePages).byte(OP.globalSet).u32(this.#reserved)
      .byte(OP.end)
      .byte(OP.memorySize).byte(0).bytes(r).byte(OP.i32Sub).byte(OP.i32Const).byte(16).byte(OP.i32Shl).byte(OP.localSet).byte(0)
      .bytes(addr).bytes(addr).bytes(r).byte(OP.i32Const).byte(16).byte(OP.i32Shl).byte(OP.i32Add).byte(OP.i32Store).byte(2).byte(4)
      .bytes(addr)
      .byte(OP.end)
  }

  /**
   * The name section, its function indices renumbered (a trap's stack still names the
   * guest's functions); the subsections that name other things are dropped. Other custom
   * sections are kept as they are. A name section that does not parse is dropped.
   */
  #custom(r: Reader): Writer | undefined {
    const start = r.pos
    const name = r.name()
    const w = new Writer()
    if (name !== 'name') return w.bytes(r.bytes.subarray(start, r.end))
    try {
      w.name(name)
      while (!r.done) {
        const sub = r.byte()
        const size = r.u32()
        const s = new Reader(r.bytes, r.pos, r.pos + size)
        r.skip(size)
        if (sub === 0) { w.byte(0).u32(size).bytes(s.take(size)); continue }
        if (sub !== 1 && sub !== 2) continue
        const body = new Writer()
        const n = s.u32()
        body.u32(n)
        for (let i = 0; i < n; i++) {
          body.u32(this.func(s.u32()))
          if (sub === 1) body.name(s.name())
          else {
            const locals = s.u32()
            body.u32(locals)
            for (let j = 0; j < locals; j++) body.u32(s.u32()).name(s.name())
          }
        }
        w.byte(sub).sized(body)
      }
      return w
    } catch {
      return undefined
    }
  }
}

/** Where the LEB128 at `at` ends. */
function lebEnd(b: Uint8Array, at: number): number {
  while (b[at]! & 0x80) at++
  return at + 1
}
