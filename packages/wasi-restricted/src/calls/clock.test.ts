// clock_*: real clocks by default, a virtual clock under a grant.
import { DEFAULT_POLICY, grant, ERRNO } from '../index.js'
import { setup } from '../../test/harness.js'

test('realtime is close to Date.now; monotonic does not go back', () => {
  // Read between two Date.now()s: no assumption on how long that takes. The 5 ms are for the
  // two clocks' own differences (ms truncation, hrtime against wall-clock slew), not for load.
  const before = Date.now()
  const h = setup()
  h.ok(h.call('clock_time_get', 0, 0n, 100))
  const after = Date.now()
  expect(Number(h.u64(100) / 1_000_000n)).toBeGreaterThanOrEqual(before - 5)
  expect(Number(h.u64(100) / 1_000_000n)).toBeLessThanOrEqual(after + 5)
  h.ok(h.call('clock_time_get', 1, 0n, 108))
  h.ok(h.call('clock_time_get', 1, 0n, 116))
  expect(h.u64(116)).toBeGreaterThanOrEqual(h.u64(108))
  h.ok(h.call('clock_res_get', 0, 124))
  expect(h.u64(124)).toBe(1000n)
  for (const id of [2, 3]) h.ok(h.call('clock_time_get', id, 0n, 132))
  h.fails(ERRNO.EINVAL, () => h.call('clock_time_get', 4, 0n, 100))
})

test('a virtual clock is deterministic: start, step per read', () => {
  const run = () => {
    const h = setup(grant(DEFAULT_POLICY, { clock: { startMs: 1_700_000_000_000, stepNs: 250 } }))
    const out: bigint[] = []
    for (const id of [0, 1, 0]) { h.ok(h.call('clock_time_get', id, 0n, 100)); out.push(h.u64(100)) }
    h.ok(h.call('clock_res_get', 1, 100)); out.push(h.u64(100))
    return out
  }
  const a = run()
  expect(a).toEqual([1_700_000_000_000_000_000n, 250n, 1_700_000_000_000_000_500n, 250n])
  expect(run()).toEqual(a)
})

test('a bad pointer does not advance the virtual clock', () => {
  const h = setup(grant(DEFAULT_POLICY, { clock: { startMs: 0, stepNs: 1 } }))
  h.fails(ERRNO.EFAULT, () => h.call('clock_time_get', 1, 0n, 65535))
  h.ok(h.call('clock_time_get', 1, 0n, 100))
  expect(h.u64(100)).toBe(0n)
})
