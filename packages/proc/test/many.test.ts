import { Scheduler } from '../src/index.js'
import * as G from '../src/bench/guests.js'

const SLICE = 100_000 // the default fuel per slice
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
}, 180_000) // a hang bound, not a speed one: 10,000 instances on a loaded machine take a while

test('a runaway loop and a memory bomb are killed while 100 neighbours finish their work', async () => {
  await using s = new Scheduler()
  const spin = await s.compile(await G.wat(G.SPIN))
  const bomb = await s.compile(await G.wat(G.MEMBOMB))
  const count = await s.compile(await G.wat(G.COUNT))
  // The runaway's budget is in fuel, not in ms: far more than it gets while the neighbours
  // run (one slice per round, ~20 rounds, plus whole quanta while it is alone: ~400 slices'
  // worth in all), so it can only have ended first by holding the thread. A wall-clock
  // deadline made this a race with the machine's load.
  const runaway = s.spawn(spin, { fuel: 50_000 * SLICE })
  const bomber = s.spawn(bomb, { memoryPages: 64, onMemoryLimit: 'kill' })
  const neighbours = Array.from({ length: 100 }, () => s.spawn(count))
  for (const n of neighbours) n.trySend(u32(200_000))
  const done = await Promise.all(neighbours.map((n) => n.wait()))
  for (const st of done) expect(st).toEqual({ kind: 'exited', code: 0 })
  // The neighbours finished while the runaway was still spinning: it never held the thread.
  expect(runaway.info().state).not.toBe('exited')
  // It was preempted: it shared the CPU in many slices (fuel-counted) instead of holding it.
  expect(runaway.info().slices).toBeGreaterThan(10)
  expect(await bomber.wait()).toMatchObject({ kind: 'limit', which: 'memory' })
  expect(await runaway.kill()).toMatchObject({ kind: 'killed' })
  // A runaway with a deadline is ended by it (it never ends by itself).
  const late = s.spawn(spin, { deadlineMs: 20 })
  expect(await late.wait()).toMatchObject({ kind: 'limit', which: 'time' })
}, 30_000)
