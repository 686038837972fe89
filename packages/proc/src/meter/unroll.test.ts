// Unrolling small loops before metering: same results for every loop shape, fuel charged
// as before (within the rounding of a doubled body), and runaway loops still stopped.
import { meterModule } from './pass.js'
import { wat } from '../bench/guests.js'

/** Loops of several shapes; each export computes something from n. */
const SHAPES = `(module
  ;; falls through when done (a conditional back edge at the end)
  (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
  ;; never falls through (ends in br), left by a branch out; a labelled block inside
  (func (export "odds") (param $n i32) (result i32) (local $i i32) (local $c i32)
    (block $out (loop $l
      (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
      (block $even
        (br_if $even (i32.eqz (i32.and (local.get $i) (i32.const 1))))
        (local.set $c (i32.add (local.get $c) (i32.const 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $c))
  ;; nested loops, the inner one a br_table back edge
  (func (export "tri") (param $n i32) (result i32) (local $i i32) (local $j i32) (local $s i32)
    (block $out (loop $outer
      (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $j (i32.const 0))
      (block $done (loop $inner
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_table $inner $done (i32.gt_u (local.get $j) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $outer)))
    (local.get $s))
  ;; a loop with a value: left alone
  (func (export "value") (param $n i32) (result i32)
    (loop $l (result i32)
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 5)))
      (local.get $n))))`

type Fns = Record<'sum' | 'odds' | 'tri' | 'value', (n: number) => number> & { ww_fuel: WebAssembly.Global }

async function build(unroll: boolean, refill = 1_000_000): Promise<{ x: Fns; unrolled: number }> {
  const { bytes, info } = await meterModule(await wat(SHAPES), { unroll })
  const meter = { out_of_fuel: () => refill, mem_cap_pages: new WebAssembly.Global({ value: 'i32', mutable: false }, 4), grow_denied: () => -1 }
  const { instance } = await WebAssembly.instantiate(bytes as Uint8Array<ArrayBuffer>, { ww_meter: meter })
  return { x: instance.exports as unknown as Fns, unrolled: info.unrolled }
}

test('unrolled loops compute what the originals do, for every shape and trip count', async () => {
  const { instance } = await WebAssembly.instantiate(await wat(SHAPES) as Uint8Array<ArrayBuffer>)
  const bare = instance.exports as unknown as Fns
  const { x, unrolled } = await build(true, 50) // small refills: out-of-fuel exits taken often
  expect(unrolled).toBe(4) // sum, odds, tri's inner and outer; not the loop with a value
  for (const n of [0, 1, 2, 3, 7, 100, 1001]) {
    for (const f of ['sum', 'odds', 'tri', 'value'] as const) expect([f, n, x[f](n)]).toEqual([f, n, bare[f](n)])
  }
})

test('fuel per iteration is about what it was without unrolling (one check of a doubled body every second turn)', async () => {
  const used = async (unroll: boolean, f: 'sum' | 'tri', n: number): Promise<number> => {
    const { x } = await build(unroll)
    x.ww_fuel.value = 1_000_000_000
    x[f](n)
    return 1_000_000_000 - (x.ww_fuel.value as number)
  }
  for (const f of ['sum', 'tri'] as const) {
    const plain = await used(false, f, 1000)
    const unrolled = await used(true, f, 1000)
    expect(plain).toBeGreaterThan(1000)
    // Never cheaper (no escaping a budget by unrolling); a little dearer for the copy's own block and exit.
    expect(unrolled / plain).toBeGreaterThanOrEqual(0.95)
    expect(unrolled / plain).toBeLessThan(1.25)
  }
})

test('a runaway unrolled loop still runs out of fuel', async () => {
  const { bytes, info } = await meterModule(await wat(`(module (func (export "spin") (loop $l (br $l))))`))
  expect(info.unrolled).toBe(1)
  let n = 0
  const meter = { out_of_fuel: () => { if (++n === 50) throw new Error('budget'); return 1000 } }
  const { instance } = await WebAssembly.instantiate(bytes as Uint8Array<ArrayBuffer>, { ww_meter: meter })
  expect(() => (instance.exports.spin as () => void)()).toThrow('budget')
})
