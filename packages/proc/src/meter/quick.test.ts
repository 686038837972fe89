import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { asyncifyImports } from '@ww/guest'
import { BadModuleError } from '../errors.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compileInstrumented, fuelUsedBy, moduleStore } from '../compile/instrument.js'
import { until } from '../../test/until.js'
import { wat } from '../bench/guests.js'
import { PASS_VERSION } from './pass.js'
import { meterQuick } from './quick.js'
import { DecodeError } from './wasm-bytes.js'

const FEATURES = { simd: true, multi_value: true, reference_types: true, bulk_memory: true, sign_extension: true, sat_float_to_int: true }

interface Meter { out_of_fuel(): number; mem_cap_pages: WebAssembly.Global; grow_denied(d: number): number }

async function run(source: string, meter: Partial<Meter> = {}, env: WebAssembly.ModuleImports = {}): Promise<{ exports: WebAssembly.Exports; plain: WebAssembly.Exports; checks: number; start: boolean }> {
  const bytes = await wat(source, FEATURES)
  const { bytes: out, info } = meterQuick(bytes)
  expect(WebAssembly.validate(out as Uint8Array<ArrayBuffer>)).toBe(true)
  const full: Meter = {
    out_of_fuel: () => 1000,
    mem_cap_pages: new WebAssembly.Global({ value: 'i32', mutable: false }, 4),
    grow_denied: () => -1,
    ...meter,
  }
  const { instance } = await WebAssembly.instantiate(out as Uint8Array<ArrayBuffer>, { ww_meter: full as unknown as WebAssembly.ModuleImports, env })
  const plain = (await WebAssembly.instantiate(bytes as Uint8Array<ArrayBuffer>, { env })).instance.exports
  return { exports: instance.exports, plain, checks: info.checks, start: info.start }
}

const GUEST_BUILD = fileURLToPath(new URL('../../../guest/build/', import.meta.url))
const guestFiles = (dir: string): string[] => existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.wasm')).map((f) => dir + f) : []

describe('quick metering tier: valid output', () => {
  test('every AssemblyScript test guest, before and after asyncify, meters to a module the engine accepts', () => {
    const files = [...guestFiles(GUEST_BUILD + 'raw/'), ...guestFiles(GUEST_BUILD)]
    expect(files.length).toBeGreaterThan(10)
    for (const f of files) {
      const bytes = new Uint8Array(readFileSync(f))
      // As a host without JSPI asks: the asyncified builds arrive instrumented with their own data area.
      const asyncify = f.includes('/raw/') ? undefined : { imports: [...asyncifyImports.wasi] }
      const { bytes: out, info } = meterQuick(bytes, asyncify ? { asyncify } : {})
      expect([f, WebAssembly.validate(out as Uint8Array<ArrayBuffer>)]).toEqual([f, true])
      expect(info.checks).toBeGreaterThan(0)
      expect(info.preinstrumented).toBe(asyncify !== undefined)
      const exports = WebAssembly.Module.exports(new WebAssembly.Module(out as Uint8Array<ArrayBuffer>)).map((e) => e.name)
      const before = WebAssembly.Module.exports(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)).map((e) => e.name)
      // Mutable globals the module does not export get an export (hibernation saves them), as from Binaryen's pass.
      const added = info.globals.filter((g) => !before.includes(g))
      expect(added.every((g) => /^ww_g\d+$/.test(g))).toBe(true)
      expect(exports).toEqual([...before, 'ww_fuel', ...(info.start ? ['ww_start'] : []), ...added])
    }
  })

  test('loops, br_table, multi-value, SIMD, tables, element and data segments keep their results', async () => {
    const { exports: x, plain: p } = await run(`(module
      (import "env" "g" (global $g i32))
      (import "env" "f" (func $f (param i32) (result i32)))
      (memory (export "memory") 1)
      (global $count (mut i32) (global.get $g))
      (table 4 funcref)
      (elem (i32.const 0) $double $triple)
      (elem declare func $pair)
      (data (global.get $g) "\\05\\06")
      (type $un (func (param i32) (result i32)))
      (func $double (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
      (func $triple (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
      (func $pair (param i32) (result i32 i32) (local.get 0) (i32.add (local.get 0) (i32.const 1)))
      (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i32)
        (loop $l
          (global.set $count (i32.add (global.get $count) (i32.const 1)))
          (local.set $s (i32.add (local.get $s) (call_indirect (type $un) (local.get $i) (i32.and (local.get $i) (i32.const 1)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $s))
      (func (export "switch") (param $k i32) (result i32) (local $acc i32)
        (block $out
          (loop $top
            (block $c (block $b (block $a (br_table $a $b $c $out (local.get $k)))
                (local.set $acc (i32.add (local.get $acc) (i32.const 1))) (local.set $k (i32.const 1)) (br $top))
              (local.set $acc (i32.add (local.get $acc) (i32.const 10))) (local.set $k (i32.const 2)) (br $top))
            (local.set $acc (i32.add (local.get $acc) (i32.const 100))) (local.set $k (i32.const 3)) (br $top)))
        (local.get $acc))
      (func (export "multi") (param i32) (result i32)
        (i32.const 7) (loop (param i32) (result i32) (i32.const 1) (i32.add)) (drop)
        (call $pair (local.get 0)) (i32.mul))
      (func (export "simd") (result i32)
        (i32x4.extract_lane 2 (i32x4.add (v128.const i32x4 1 2 3 4) (i32x4.splat (call $f (i32.const 10))))))
      (func (export "data") (result i32) (i32.load8_u (i32.add (global.get $g) (i32.const 1))))
      (func (export "ref") (result i32) (ref.is_null (ref.func $pair)))
      (func (export "count") (result i32) (global.get $count)))`, {}, { g: new WebAssembly.Global({ value: 'i32', mutable: false }, 16), f: (v: number) => v + 1 })
    for (const [name, args] of [['sum', [100]], ['switch', [0]], ['multi', [5]], ['simd', []], ['data', []], ['ref', []], ['count', []]] as const) {
      expect([name, (x[name] as (...a: number[]) => number)(...args)]).toEqual([name, (p[name] as (...a: number[]) => number)(...args)])
    }
    expect((x.sum as (n: number) => number)(100)).toBe(12400) // doubles of the even, triples of the odd
    expect((x.switch as (k: number) => number)(0)).toBe(111)
  })

  test('the start function moves to ww_start: instantiating runs nothing, calling it runs it once', async () => {
    let calls = 0
    const { exports: x, start } = await run(`(module (import "env" "hello" (func $h)) (func $s (call $h)) (start $s))`, {}, { hello: () => { calls++ } })
    expect(start).toBe(true)
    expect(calls).toBe(1) // the unmetered copy's instantiation ran it; the metered one did not
    ;(x.ww_start as () => void)()
    expect(calls).toBe(2)
  })
})

describe('quick metering tier: fuel and memory', () => {
  test('fuel runs down as code runs and out_of_fuel refills it', async () => {
    let refills = 0
    const { exports: x } = await run(`(module
      (func $fib (export "fib") (param $n i32) (result i32)
        (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
          (then (local.get $n))
          (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1))) (call $fib (i32.sub (local.get $n) (i32.const 2))))))))`,
    { out_of_fuel: () => { refills++; return 1000 } })
    const fuel = x.ww_fuel as WebAssembly.Global
    fuel.value = 1000
    expect((x.fib as (n: number) => number)(20)).toBe(6765)
    expect(refills).toBeGreaterThan(100) // ~22k calls, a dozen instructions each: recursion without loops pays at entry
  })

  test('the host sees the fuel in ww_fuel: what a call used when it returns, what is left when out_of_fuel runs', async () => {
    const seen: number[] = []
    let fuel: WebAssembly.Global | undefined
    const { exports: x } = await run(`(module (func (export "count") (param $n i32)
      (loop $l (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))`,
    { out_of_fuel: () => { seen.push(fuel!.value as number); return 1_000_000 } })
    fuel = x.ww_fuel as WebAssembly.Global
    fuel.value = 1_000_000
    ;(x.count as (n: number) => void)(1000)
    const used = 1_000_000 - (fuel.value as number)
    expect(used).toBeGreaterThanOrEqual(6 * 1000) // six instructions a turn
    expect(used).toBeLessThan(20 * 1000)
    expect(seen).toEqual([])
    fuel.value = 100
    ;(x.count as (n: number) => void)(1000)
    expect(seen).toHaveLength(1)
    expect(seen[0]).toBeLessThan(0) // the overdraft, as the scheduler counts it
  })

  test('an endless loop reaches out_of_fuel again and again, until it throws', async () => {
    let n = 0
    const { exports: x } = await run(`(module (func (export "spin") (loop $l (br $l))))`, {
      out_of_fuel: () => { if (++n === 50) throw new Error('budget'); return 1000 },
    })
    expect(() => (x.spin as () => void)()).toThrow('budget')
    expect(n).toBe(50)
  })

  test('memory.grow past the cap goes to grow_denied; below it grows', async () => {
    const denied: number[] = []
    const { exports: x } = await run(`(module (memory (export "memory") 1)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`, {
      grow_denied: (d) => { denied.push(d); return -1 },
    })
    const grow = x.grow as (d: number) => number
    expect(grow(2)).toBe(1)
    expect(grow(2)).toBe(-1)
    expect(denied).toEqual([2])
    expect(grow(1)).toBe(3)
    expect(grow(-1)).toBe(-1) // 4 Gi pages: over the cap, not a wrap-around
    expect(denied).toEqual([2, -1])
  })

  test('a module that needs asyncify comes back with the imports for Binaryen\'s asyncify; one that never waits does not', async () => {
    const waits = await wat(`(module (import "env" "other" (func)) (import "wasi_snapshot_preview1" "sched_yield" (func (result i32))) (memory 1) (func (export "_start") (drop (call 1))))`)
    const asyncify = { imports: ['wasi_snapshot_preview1.sched_yield', 'wasi_snapshot_preview1.poll_oneoff'] }
    const foreign = meterQuick(waits, { asyncify })
    expect(foreign.asyncify).toEqual(['wasi_snapshot_preview1.sched_yield']) // only what it imports
    expect(foreign.info).toMatchObject({ asyncified: true, fuelYields: false, preinstrumented: false })
    expect(meterQuick(waits, {}).asyncify).toBeUndefined() // JSPI: nothing to instrument
    expect(meterQuick(waits, {}).info.asyncified).toBe(false)
    const abi = await wat(`(module (memory 1) (func (export "ww_asyncify_data") (result i32) (i32.const 0)))`)
    const whole = meterQuick(abi, { asyncify })
    expect(whole.asyncify).toEqual(['ww_meter.out_of_fuel', ...asyncify.imports]) // the ww ABI: out_of_fuel may suspend too
    expect(whole.info.fuelYields).toBe(true)
  })

  test('a module that waits without a data area of its own gets the host-reserved one: memory.size and memory.grow see around it', async () => {
    const bytes = await wat(`(module (import "wasi_snapshot_preview1" "sched_yield" (func (result i32))) (memory (export "memory") 1)
      (func (export "size") (result i32) (memory.size))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`)
    const { bytes: out, asyncify } = meterQuick(bytes, { asyncify: { imports: ['wasi_snapshot_preview1.sched_yield'] }, asyncifyDataPages: 2 })
    expect(asyncify).toEqual(['wasi_snapshot_preview1.sched_yield'])
    const denied: number[] = []
    const { instance } = await WebAssembly.instantiate(out as Uint8Array<ArrayBuffer>, {
      wasi_snapshot_preview1: { sched_yield: () => 0 },
      ww_meter: { out_of_fuel: () => 1000, mem_cap_pages: new WebAssembly.Global({ value: 'i32', mutable: false }, 2), grow_denied: (d: number) => { denied.push(d); return -1 } },
    })
    const x = instance.exports as { memory: WebAssembly.Memory; size(): number; grow(d: number): number; ww_asyncify_data(): number }
    const area = x.ww_asyncify_data() // the first wait takes 2 pages at the top
    expect(area).toBe(65536)
    expect(x.memory.buffer.byteLength).toBe(3 * 65536)
    expect(new Uint32Array(x.memory.buffer, area + 4, 1)[0]).toBe(3 * 65536) // the header's end
    expect(x.ww_asyncify_data()).toBe(area) // taken once
    expect(x.size()).toBe(1) // the guest's view ends below the area
    new Uint8Array(x.memory.buffer).fill(7, area, area + 2 * 65536)
    expect(x.grow(1)).toBe(1) // its new page is where the area was: zeroed
    expect(new Uint8Array(x.memory.buffer, 65536, 65536).every((b) => b === 0)).toBe(true)
    expect(x.size()).toBe(2)
    expect(x.grow(1)).toBe(-1) // over the cap of 2 (its view), not counting the area
    expect(denied).toEqual([1])
  })
})

describe('quick metering tier: bad input', () => {
  test('clashing exports are a BadModuleError, as from the Binaryen pass', async () => {
    expect(() => meterQuick(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 6, 6, 1, 0x7f, 1, 0x41, 0, 0x0b, 7, 11, 1, 7, ...Buffer.from('ww_fuel'), 3, 0]))).toThrow(BadModuleError)
  })

  test('what it does not rewrite (exception handling, atomics, tail calls) is unsupported, not malformed', async () => {
    const tail = await wat(`(module (func $f (return_call $f)))`, { tail_call: true })
    const eh = await wat(`(module (tag $t) (func (throw $t)))`, { exceptions: true })
    for (const m of [tail, eh]) expect(() => meterQuick(m)).toThrow(expect.objectContaining({ unsupported: true }))
  })

  test('truncated and garbled modules throw DecodeError or BadModuleError, never anything else', () => {
    const bytes = new Uint8Array(readFileSync(GUEST_BUILD + 'raw/wasi-abort.wasm'))
    let seed = 7
    const random = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
    const cases: Uint8Array[] = []
    for (let i = 0; i < 100; i++) cases.push(bytes.subarray(0, random(bytes.byteLength)))
    for (let i = 0; i < 400; i++) {
      const b = bytes.slice()
      for (let k = 0; k <= random(4); k++) b[8 + random(b.byteLength - 8)] = random(256)
      cases.push(b)
    }
    let produced = 0
    for (const c of cases) {
      try {
        meterQuick(c)
        produced++
      } catch (e) {
        if (!(e instanceof DecodeError || e instanceof BadModuleError)) throw e
      }
    }
    expect(produced).toBeGreaterThan(0) // some garbling lands in data or constants
  })

  test('compileInstrumented turns bytes that are no module into a BadModuleError', async () => {
    for (const b of [new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 9]), new Uint8Array([1, 2, 3]), new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 3, 2, 1, 0])]) {
      await expect(compileInstrumented(b, {}, { offThread: false })).rejects.toThrow(BadModuleError)
    }
  })
})

describe('tiers', () => {
  test('a first start of a module that waits gets the quick build with Binaryen\'s asyncify alone, on this thread when told', async () => {
    const bytes = await wat(`(module (import "wasi_snapshot_preview1" "sched_yield" (func (result i32))) (memory (export "memory") 1)
      (func (export "_start") (drop (call 0))))`)
    const mod = await compileInstrumented(bytes, { asyncify: { imports: ['wasi_snapshot_preview1.sched_yield'] } }, { offThread: false })
    expect(mod.meter).toMatchObject({ tier: 'quick', asyncified: true, preinstrumented: false, fuelYields: false, hibernatable: true })
    const exports = WebAssembly.Module.exports(mod.module).map((e) => e.name)
    expect(exports).toEqual(expect.arrayContaining(['asyncify_start_unwind', 'ww_asyncify_data', 'ww_fuel', ...mod.meter.globals]))
  })

  test('a first start gets the quick build; once its processes have run enough, Binaryen\'s replaces it here and on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ww-quick-'))
    try {
      const bytes = await wat(`(module (memory 1) (func (export "_start") (loop $l (br_if $l (i32.const 0)))) (func (export "pad") (nop)))`)
      const store = moduleStore(dir)
      const first = await compileInstrumented(bytes, {}, { store, offThread: false })
      expect(first.meter).toMatchObject({ tier: 'quick', hasMemory: true })
      fuelUsedBy(first.module, 1e9) // as the scheduler reports a hot process's slices
      let later = first
      await until(() => {
        void compileInstrumented(bytes, {}, { store, offThread: false }).then((m) => { later = m })
        return later.meter.tier === 'binaryen'
      })
      expect(later.module).not.toBe(first.module)
      expect(store.stats().writeErrors).toBe(0)
      // The quick build (written at the first start) and Binaryen's (written before it replaced it here).
      expect(readdirSync(join(dir, PASS_VERSION)).filter((f) => f.endsWith('.wwm'))).toHaveLength(2)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
