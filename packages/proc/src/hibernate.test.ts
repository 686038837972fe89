import { Scheduler } from './index.js'
import * as G from './bench/guests.js'
import { until } from '../test/until.js'

// Hibernation is asyncify's (a JSPI stack cannot be saved): pinned, so Node 24 tests it too.

test('a waiting process hibernates (instance dropped) and resumes with memory, globals and stack intact', async () => {
  await using s = new Scheduler({ suspension: 'asyncify' })
  const mod = await s.compile(await G.wat(G.STATEFUL))
  expect(mod.meter).toMatchObject({ hibernatable: true, start: true })
  const h = s.spawn(mod)
  for (let round = 0; round < 3; round++) {
    h.trySend(new Uint8Array([1]))
    await until(() => h.info().mailbox === 0 && h.state === 'waiting') // took it, waits again
    expect(s.hibernate(h)).toBe(true)
    expect(h.info()).toMatchObject({ memoryBytes: 0, state: 'waiting' })
    expect(h.info().hibernatedBytes).toBeLessThan(3 * 4096 + 100) // only non-zero chunks are kept
    expect(s.hibernate(h)).toBe(false) // already
  }
  h.trySend(new Uint8Array(0))
  expect(await h.wait()).toEqual({ kind: 'exited', code: 3 * 10000 + 3 * 100 + 3 })
})

test('hibernateAfterMs hibernates idle processes on its own; a message wakes them', async () => {
  await using s = new Scheduler({ suspension: 'asyncify', hibernateAfterMs: 5 })
  const mod = await s.compile(await G.wat(G.STATEFUL))
  const hs = Array.from({ length: 20 }, () => s.spawn(mod))
  // Every one hibernates on its own (no hibernate() call here); a broken timer hangs the test.
  await until(() => s.ps().every((r) => r.hibernatedBytes !== undefined))
  expect(s.ps()).toHaveLength(20)
  for (const h of hs) { h.trySend(new Uint8Array([1])); h.trySend(new Uint8Array(0)) }
  for (const h of hs) expect(await h.wait()).toEqual({ kind: 'exited', code: 10000 + 100 + 1 })
})

test('a hibernated process can be killed; processes that cannot hibernate say so', async () => {
  await using s = new Scheduler({ suspension: 'asyncify' })
  const h = s.spawn(await s.compile(await G.wat(G.STATEFUL)))
  const spin = s.spawn(await s.compile(await G.wat(G.SPIN)))
  await until(() => h.state === 'waiting' && spin.info().slices > 0)
  expect(s.hibernate(h)).toBe(true)
  expect(s.hibernate(spin)).toBe(false) // running, not waiting
  expect(await h.kill()).toEqual({ kind: 'killed', by: { kind: 'host' } })
})

test('more processes than V8 can give memories to at once, by hibernating them as they park', async () => {
  await using s = new Scheduler({ suspension: 'asyncify', maxProcesses: 16_000 })
  const mod = await s.compile(await G.wat(G.STATEFUL))
  const hs = []
  for (let batch = 0; batch < 8; batch++) {
    const b = Array.from({ length: 2000 }, () => s.spawn(mod))
    while (b.some((h) => h.state !== 'waiting')) await new Promise((r) => setImmediate(r))
    for (const h of b) expect(s.hibernate(h)).toBe(true)
    hs.push(...b)
  }
  expect(s.size).toBe(16_000) // ≈ 13,000 live wasm memories is this machine's ceiling
  const some = [hs[0]!, hs[7_777]!, hs[15_999]!]
  for (const h of some) { h.trySend(new Uint8Array([1])); h.trySend(new Uint8Array(0)) }
  for (const h of some) expect(await h.wait()).toEqual({ kind: 'exited', code: 10101 })
}, 300_000) // a hang bound: 16,000 spawns take ~10 s idle, 48 s at load 25, over a minute beside other suites
