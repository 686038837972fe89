import { spawnSync } from 'node:child_process'
import { meterModule } from './meter/pass.js'
import { wat } from './bench/guests.js'
import { asyncifyModule } from '@ww/transport'

const FIB = `(module
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1))) (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s)))`

interface Meter { out_of_fuel(): number; mem_cap_pages: WebAssembly.Global; grow_denied(d: number): number }

async function instantiate(source: string, meter: Partial<Meter>, env: WebAssembly.ModuleImports = {}): Promise<WebAssembly.Exports> {
  const { bytes } = await meterModule(await wat(source))
  const full: Meter = {
    out_of_fuel: () => 1000,
    mem_cap_pages: new WebAssembly.Global({ value: 'i32', mutable: false }, 4),
    grow_denied: () => -1,
    ...meter,
  }
  const { instance } = await WebAssembly.instantiate(bytes as Uint8Array<ArrayBuffer>, { ww_meter: full as unknown as WebAssembly.ModuleImports, env })
  return instance.exports
}

describe('metering pass', () => {
  test('a metered module computes the same results and consumes fuel as it runs', async () => {
    let calls = 0
    const x = await instantiate(FIB, { out_of_fuel: () => { calls++; return 1000 } })
    expect((x.fib as (n: number) => number)(20)).toBe(6765)
    const afterFib = calls
    expect(afterFib).toBeGreaterThan(10) // ~22k calls, several expressions each, 1000 per refill
    expect((x.sum as (n: number) => number)(100_000)).toBe(4_999_950_000 | 0)
    expect(calls).toBeGreaterThan(afterFib + 100) // 100k iterations of a ~10-expression body
    expect(typeof (x.ww_fuel as WebAssembly.Global).value).toBe('number')
  })

  test('out_of_fuel can stop a runaway loop by throwing', async () => {
    let n = 0
    const x = await instantiate(`(module (func (export "spin") (loop $l (br $l))))`, {
      out_of_fuel: () => { if (++n === 50) throw new Error('budget'); return 1000 },
    })
    expect(() => (x.spin as () => void)()).toThrow('budget')
    expect(n).toBe(50)
  })

  test('memory.grow past the cap goes to grow_denied; below it grows', async () => {
    const denied: number[] = []
    const x = await instantiate(`(module (memory (export "memory") 1)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`, {
      grow_denied: (d) => { denied.push(d); return -1 },
    })
    const grow = x.grow as (d: number) => number
    expect(grow(2)).toBe(1) // 1 → 3 pages, cap 4
    expect(grow(2)).toBe(-1) // 3 + 2 > 4
    expect(grow(-1)).toBe(-1) // 0xffffffff pages: no 32-bit wrap lets it through
    expect(grow(1)).toBe(3)
    expect(denied).toEqual([2, -1])
    expect((x.memory as WebAssembly.Memory).buffer.byteLength).toBe(4 * 65536)
  })

  test('modules with exception handling are refused (a guest could swallow a kill)', async () => {
    const bytes = await wat(`(module (tag $t) (func (export "f") (try (do (throw $t)) (catch_all))))`, { exceptions: true })
    await expect(meterModule(bytes)).rejects.toMatchObject({ code: 'ERR_BAD_MODULE' })
  })

  test("Binaryen's complaint goes into the error, not onto the user's stderr (a real node process: under Jest Binaryen prints to Jest's console)", async () => {
    const bytes = await wat(`(module (tag $t) (func (export "f") (try (do (throw $t)) (catch_all))))`, { exceptions: true })
    const script = `import { meterModule } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)}
      const bytes = Buffer.from(${JSON.stringify(Buffer.from(bytes).toString('base64'))}, 'base64')
      meterModule(bytes).then(() => console.log('metered?'), (e) => console.log(e.code + ' ' + e.message))`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^ERR_BAD_MODULE .*: function 0: throw requires exception-handling/)
  })

  test('an already asyncify-instrumented module is metered as it is: no second asyncify, its own kept', async () => {
    const plain = await wat(`(module (memory (export "memory") 1) (func (export "ww_main") (result i32) (i32.const 0)))`)
    const instrumented = await asyncifyModule(plain, { imports: [] })
    const { bytes, info } = await meterModule(instrumented, { asyncify: { imports: ['ww_proc.recv'] } })
    expect(info).toMatchObject({ asyncified: true, preinstrumented: true, fuelYields: false })
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)).map((e) => e.name)
    expect(exports.filter((n) => n === 'asyncify_start_unwind')).toHaveLength(1)
    expect(exports).toContain('ww_asyncify_data') // the data area the host reserves
    expect((await meterModule(plain)).info).toMatchObject({ asyncified: false, preinstrumented: false })
  })

  test('garbage is a typed error', async () => {
    await expect(meterModule(new Uint8Array([0, 97, 115, 109, 9, 9]))).rejects.toMatchObject({ code: 'ERR_BAD_MODULE' })
  })

  test('direct calls pass fuel in registers, yet the global holds what is left on return', async () => {
    let calls = 0
    const x = await instantiate(FIB, { out_of_fuel: () => { calls++; return 1000 } })
    const fuel = x.ww_fuel as WebAssembly.Global
    fuel.value = 100_000_000
    expect((x.fib as (n: number) => number)(20)).toBe(6765)
    expect(calls).toBe(0)
    // fib(20) makes 21,891 calls, each paying its body (more than one expression).
    expect(100_000_000 - (fuel.value as number)).toBeGreaterThan(2 * 21_891)
    expect(100_000_000 - (fuel.value as number)).toBeLessThan(100 * 21_891)
  })

  test('an import called from a loop sees the fuel spent so far, and a refill it makes is kept', async () => {
    const seen: number[] = []
    let x: WebAssembly.Exports | undefined
    x = await instantiate(`(module (import "env" "probe" (func $probe))
      (func $step (call $probe))
      (func (export "run") (param $n i32) (loop $l
        (call $step)
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))`, {}, {
      probe: () => {
        const g = x!.ww_fuel as WebAssembly.Global
        seen.push(g.value as number)
        if (seen.length === 3) g.value = 5_000_000 // the host refills while the guest runs
      },
    })
    ;(x.ww_fuel as WebAssembly.Global).value = 1_000_000
    ;(x.run as (n: number) => void)(6)
    expect(seen).toHaveLength(6)
    for (let i = 1; i < seen.length; i++) if (i !== 3) expect(seen[i]).toBeLessThan(seen[i - 1]!)
    expect(seen[3]).toBeGreaterThan(4_000_000) // the refill was read back, not overwritten
    expect(seen[0]).toBeLessThan(1_000_000)
  })

  test('every back edge pays: br_if, br_table and a loop reached through call_indirect', async () => {
    const stop = (): Partial<Meter> => {
      let n = 0
      return { out_of_fuel: () => { if (++n === 20) throw new Error('budget'); return 100 } }
    }
    const brTable = await instantiate(`(module (func (export "spin") (param $i i32)
      (block $out (loop $l (br_table $l $out (local.get $i))))))`, stop())
    expect(() => (brTable.spin as (i: number) => void)(0)).toThrow('budget')
    expect(() => (brTable.spin as (i: number) => void)(1)).not.toThrow()
    const brIf = await instantiate(`(module (func (export "spin") (param $i i32)
      (loop $l (br_if $l (i32.eqz (local.get $i))))))`, stop())
    expect(() => (brIf.spin as (i: number) => void)(0)).toThrow('budget')
    const indirect = await instantiate(`(module (type $v (func)) (table 1 funcref) (elem (i32.const 0) $spin)
      (func $spin (loop $l (br $l)))
      (func (export "go") (call_indirect (type $v) (i32.const 0))))`, stop())
    expect(() => (indirect.go as () => void)()).toThrow('budget')
  })

  test('unbounded recursion through direct calls pays at every call', async () => {
    // Mutual recursion that never loops: only the calls can bound it.
    const x = await instantiate(`(module
      (func $a (export "a") (param $n i32) (result i32) (if (result i32) (local.get $n) (then (call $b (i32.sub (local.get $n) (i32.const 1)))) (else (i32.const 7))))
      (func $b (param $n i32) (result i32) (i32.add (call $a (local.get $n)) (call $a (i32.const 0)))))`,
    { out_of_fuel: () => { throw new Error('budget') } })
    ;(x.ww_fuel as WebAssembly.Global).value = 10 * 1000
    expect(() => (x.a as (n: number) => number)(5000)).toThrow('budget')
    ;(x.ww_fuel as WebAssembly.Global).value = 1_000_000
    expect((x.a as (n: number) => number)(3)).toBe(28)
  })

  test('functions with several results are metered and keep their values', async () => {
    const x = await instantiate(`(module
      (func $two (param $n i32) (result i32 i64) (local.get $n) (i64.extend_i32_u (i32.mul (local.get $n) (i32.const 3))))
      (func (export "f") (param $n i32) (result i64) (local $a i32) (local $b i64)
        (call $two (local.get $n)) (local.set $b) (local.set $a)
        (i64.add (i64.extend_i32_u (local.get $a)) (local.get $b))))`, {})
    const fuel = x.ww_fuel as WebAssembly.Global
    fuel.value = 1000
    expect((x.f as (n: number) => bigint)(5)).toBe(20n)
    expect(fuel.value as number).toBeLessThan(1000)
  })
})
