// A first-tier module run on pool workers gets Binaryen's build by the same fuel rule as one
// run on the compiling thread: the workers report the fuel their processes used. (The
// worker runs the built dist/workers/worker.js: build first.)
import { upgradeRule, upgradeStarted } from '../compile/instrument.js'
import { WorkerPool } from './pool.js'
import * as G from '../bench/guests.js'

const rule = { ...upgradeRule }
afterEach(() => { Object.assign(upgradeRule, rule) })

test('a quick-tier module whose processes on a worker used the fuel rule\'s amount starts its upgrade for fuel, not for time', async () => {
  // Far beyond the test's length: only the workers' reports can start it.
  Object.assign(upgradeRule, { fuel: 20_000_000, ms: 3_600_000 })
  await using pool = await WorkerPool.start({ workers: 1, scheduler: { moduleCache: false } })
  const bytes = await G.wat(`(module (memory (export "memory") 1)
    (func (export "ww_main") (result i32) (local $i i32)
      (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 20000000))))
      (i32.const 0)))`)
  const mod = await pool.compile(bytes)
  expect(mod.meter.tier).toBe('quick')
  const why = upgradeStarted(mod.module)
  const p = await pool.spawn(mod)
  expect(await p.wait()).toEqual({ kind: 'exited', code: 0 })
  expect(await why).toBe('fuel')
  // Later compiles of the same bytes get Binaryen's build once it is in.
  let later = mod.meter.tier
  while (later === 'quick') {
    await new Promise((r) => setTimeout(r, 20))
    later = (await pool.compile(bytes)).meter.tier
  }
  expect(later).toBe('binaryen')
})
