import { Scheduler } from '../src/index.js'
import * as G from '../src/bench/guests.js'

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer)

test('10,000 processes spawn, pass a token around a ring and exit with the right statuses', async () => {
  await using s = new Scheduler({ maxProcesses: 10_000 })
  const ring = await s.compile(await G.wat(G.RING))
  const N = 10_000
  const hs = Array.from({ length: N }, () => s.spawn(ring, { mailbox: 2 }))
  expect(s.size).toBe(N)
  // Each member gets the next one's mailbox capability (the last gets none).
  for (let i = 0; i < N; i++) hs[i]!.trySend(u32(0), i + 1 < N ? { cap: hs[i + 1]! } : {})
  hs[0]!.trySend(new Uint8Array([0, 0, 0, 0]))
  const statuses = await Promise.all(hs.map((h) => h.wait()))
  statuses.forEach((st, i) => expect(st).toEqual({ kind: 'exited', code: i & 255 }))
  expect(s.size).toBe(0)
}, 60_000)

test('a runaway loop and a memory bomb are killed while 100 neighbours finish their work', async () => {
  await using s = new Scheduler()
  const spin = await s.compile(await G.wat(G.SPIN))
  const bomb = await s.compile(await G.wat(G.MEMBOMB))
  const count = await s.compile(await G.wat(G.COUNT))
  // A deadline long enough that a loaded CI machine still preempts it many times.
  const runaway = s.spawn(spin, { deadlineMs: 1_000 })
  const bomber = s.spawn(bomb, { memoryPages: 64, onMemoryLimit: 'kill' })
  const neighbours = Array.from({ length: 100 }, () => s.spawn(count))
  for (const n of neighbours) n.trySend(u32(200_000))
  const done = await Promise.all(neighbours.map((n) => n.wait()))
  for (const st of done) expect(st).toEqual({ kind: 'exited', code: 0 })
  // The neighbours finished while the runaway was still spinning: it never held the thread.
  expect(runaway.info().state).not.toBe('exited')
  expect(await bomber.wait()).toMatchObject({ kind: 'limit', which: 'memory' })
  expect(await runaway.wait()).toMatchObject({ kind: 'limit', which: 'time' })
  // The runaway was preempted: it shared the CPU in many slices instead of holding it.
  expect(runaway.info().slices).toBeGreaterThan(10)
}, 30_000)
