// random_get: crypto by default, seeded (deterministic) under a grant.
import { DEFAULT_POLICY, grant, ERRNO } from '../index.js'
import { setup } from '../../test/harness.js'

const bytes = (policy = DEFAULT_POLICY, n = 32): string => {
  const h = setup(policy)
  h.ok(h.call('random_get', 100, n))
  expect(h.u8()[100 + n]).toBe(0) // not one byte past the range
  return Buffer.from(h.u8().subarray(100, 100 + n)).toString('hex')
}

test('crypto bytes differ between calls and fill the range', () => {
  expect(bytes()).not.toBe(bytes())
  expect(bytes()).not.toMatch(/^(00)+$/)
})

test('a seeded RNG repeats per seed and differs across seeds; odd lengths are filled', () => {
  const s1 = grant(DEFAULT_POLICY, { random: { seed: 1 } })
  expect(bytes(s1, 13)).toBe(bytes(s1, 13))
  expect(bytes(s1)).not.toBe(bytes(grant(DEFAULT_POLICY, { random: { seed: 2 } })))
})

test('zero bytes is fine anywhere in memory; over 1 MiB is EINVAL', () => {
  const h = setup()
  h.ok(h.call('random_get', 65536, 0))
  h.fails(ERRNO.EINVAL, () => h.call('random_get', 0, (1 << 20) + 1))
})
