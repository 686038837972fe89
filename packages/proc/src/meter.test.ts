import { meterModule } from './meter/pass.js'
import { wat } from './bench/guests.js'

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

async function instantiate(source: string, meter: Partial<Meter>): Promise<WebAssembly.Exports> {
  const { bytes } = await meterModule(await wat(source))
  const full: Meter = {
    out_of_fuel: () => 1000,
    mem_cap_pages: new WebAssembly.Global({ value: 'i32', mutable: false }, 4),
    grow_denied: () => -1,
    ...meter,
  }
  const { instance } = await WebAssembly.instantiate(bytes as Uint8Array<ArrayBuffer>, { ww_meter: full as unknown as WebAssembly.ModuleImports })
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

  test('garbage is a typed error', async () => {
    await expect(meterModule(new Uint8Array([0, 97, 115, 109, 9, 9]))).rejects.toMatchObject({ code: 'ERR_BAD_MODULE' })
  })
})
