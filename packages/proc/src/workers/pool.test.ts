// The worker pool with real guests on 2 workers: identity, placement, deadlines, messages
// between workers, monitors, extensions built in the worker. (The worker runs the built
// dist/workers/worker.js: build first.)
import { WorkerPool, type PoolModule } from './pool.js'
import { WorkerCrashedError } from './errors.js'
import * as G from '../bench/guests.js'

const SELF = `(module ${G.PRELUDE} (func (export "ww_main") (result i32) (call $self)))`
const ENV_VALUE = `(module
  (import "env" "value" (func $value (result i32)))
  (import "env" "pid" (func $pid (result i32)))
  ${G.PRELUDE}
  (func (export "ww_main") (result i32)
    (if (i32.ne (call $pid) (call $self)) (then unreachable))
    (call $value)))`
const TWO_ENTRIES = `(module ${G.PRELUDE}
  (func (export "ww_main") (result i32) (i32.const 1))
  (func (export "other") (result i32) (i32.const 2)))`
const CRASH_ON_MESSAGE = `(module ${G.PRELUDE}
  (func (export "ww_main") (drop (call $recv (i32.const 4096) (i32.const 16))) unreachable))`
/**
 * Sends "hey!" to the i32 in its first message taken as a handle, then to the mailbox
 * that message carries (-1 if none); exits with r1 * 100 + r2.
 */
const SEND_TWICE = `(module ${G.PRELUDE}
  (func (export "ww_main") (result i32) (local $r1 i32)
    (drop (call $recv (i32.const 4096) (i32.const 16)))
    (i32.store (i32.const 4200) (i32.const 0x21796568))
    (local.set $r1 (call $send (i32.load (i32.const 4096)) (i32.const 4200) (i32.const 4)))
    (i32.add (i32.mul (local.get $r1) (i32.const 100)) (call $send (call $cap) (i32.const 4200) (i32.const 4)))))`
const u32 = (...xs: number[]): Uint8Array => new Uint8Array(new Uint32Array(xs).buffer)
const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).href

let pool: WorkerPool
beforeAll(async () => { pool = await WorkerPool.start({ workers: 2 }) })
afterAll(async () => { await pool.close() })

test('processes spread over both workers; pids are unique across the pool and name their worker', async () => {
  const mod = await pool.compile(await G.wat(SELF))
  const hs = await Promise.all(Array.from({ length: 6 }, () => pool.spawn(mod)))
  expect(new Set(hs.map((h) => h.pid)).size).toBe(6)
  expect(hs.filter((h) => h.worker === 0)).toHaveLength(3) // least-loaded placement alternates
  for (const h of hs) expect((h.pid - 1) % 2).toBe(h.worker)
  // What a guest sees as its own pid is the pool's pid, whatever the worker.
  const statuses = await Promise.all(hs.map((h) => h.wait()))
  expect(statuses).toEqual(hs.map((h) => ({ kind: 'exited', code: h.pid })))
})

test('a runaway on one worker is killed at its deadline while the others finish; ps shows both workers', async () => {
  const spin = await pool.compile(await G.wat(G.SPIN))
  const count = await pool.compile(await G.wat(G.COUNT))
  const runaway = await pool.spawn(spin, { worker: 0, deadlineMs: 200 })
  const workers = await Promise.all([0, 1, 0, 1].map((w) => pool.spawn(count, { worker: w })))
  // The counters wait for their work: they are all in the table, with their worker.
  const rows = (await pool.ps()).filter((r) => workers.some((w) => w.pid === r.pid))
  expect(rows.map((r) => [r.pid, r.worker])).toEqual(workers.map((w) => [w.pid, w.worker]).sort((a, b) => a[0]! - b[0]!))
  for (const r of rows) expect(r.state).not.toBe('exited')
  for (const w of workers) await w.send(u32(2_000_000))
  expect(await Promise.all(workers.map((w) => w.wait()))).toEqual(workers.map(() => ({ kind: 'exited', code: 0 })))
  expect(await runaway.wait()).toEqual({ kind: 'limit', which: 'time', detail: 'deadline of 200 ms' })
})

test('messages go between processes on different workers: a token around a ring, and ping-pong', async () => {
  const ring = await pool.compile(await G.wat(G.RING))
  const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.spawn(ring, { worker: i % 2 })))
  // Each member gets the next one's mailbox capability (the last gets none).
  for (let i = 0; i < rs.length; i++) await rs[i]!.send(u32(0), i + 1 < rs.length ? { cap: rs[i + 1]! } : {})
  await rs[0]!.send(u32(0))
  // Each member exits with the token's value as it reached it: it crossed workers 5 times.
  expect(await Promise.all(rs.map((r) => r.wait()))).toEqual(rs.map((_, i) => ({ kind: 'exited', code: i })))

  const echo = await pool.spawn(await pool.compile(await G.wat(G.ECHO)), { worker: 0 })
  const pinger = await pool.spawn(await pool.compile(await G.wat(G.PINGER)), { worker: 1 })
  await pinger.send(u32(500), { cap: echo })
  expect(await pinger.wait()).toEqual({ kind: 'exited', code: 0 })
  expect(await echo.wait()).toEqual({ kind: 'exited', code: 500 }) // 500 echoes back to the sender on the other worker
})

test('a guest passes a capability to a guest on another worker, which uses it to reach a third back on the first', async () => {
  const b = await pool.spawn(await pool.compile(await G.wat(G.EXIT_WITH_FIRST_BYTE)), { worker: 0 })
  const c = await pool.spawn(await pool.compile(await G.wat(G.RELAY)), { worker: 1 })
  const a = await pool.spawn(await pool.compile(await G.wat(G.INTRODUCER)), { worker: 0 })
  await a.send(u32(0), { cap: b })
  await a.send(u32(0), { cap: c })
  // a holds b as 0 and c as 1 and sends [42] to c carrying b; c (holding nothing before) writes it to b, its handle 0.
  expect(await a.wait()).toEqual({ kind: 'exited', code: 1 })
  expect(await c.wait()).toEqual({ kind: 'exited', code: 0 })
  expect(await b.wait()).toEqual({ kind: 'exited', code: 42 })
})

test('1,000 processes over both workers pass a token around a ring: every hop crosses workers through the shared rings', async () => {
  const n = 1000
  const ring = await pool.compile(await G.wat(G.RING))
  const before = await pool.stats()
  const rs = await Promise.all(Array.from({ length: n }, () => pool.spawn(ring)))
  expect(rs.filter((r) => r.worker === 1)).toHaveLength(n / 2)
  await Promise.all(rs.map((r, i) => r.send(u32(0), i + 1 < n ? { cap: rs[i + 1]! } : {})))
  await rs[0]!.send(u32(0))
  const statuses = await Promise.all(rs.map((r) => r.wait()))
  expect(statuses).toEqual(rs.map((_, i) => ({ kind: 'exited', code: i & 255 })))
  const after = await pool.stats()
  const out = (k: 'remoteOut' | 'ring' | 'moved' | 'copied'): number => after.reduce((a, w, i) => a + w[k] - before[i]![k], 0)
  expect(out('remoteOut')).toBe(n - 1)
  expect(out('ring')).toBe(n - 1)
  expect(out('moved') + out('copied')).toBe(0)
})

test('sends to a process on another worker that has exited end with -1 (no such process)', async () => {
  // Sends go out before the receiver's worker answers, so the first few succeed; once its
  // worker said "no such process" (or the window of messages in flight is full and the
  // sender parks until it does), the next send answers -1.
  const gone = await pool.spawn(await pool.compile(await G.wat(SELF)), { worker: 1 })
  await gone.wait()
  const s = await pool.spawn(await pool.compile(await G.wat(G.SEND_UNTIL_FAIL)), { worker: 0 })
  await s.send(u32(0), { cap: gone })
  expect(await s.wait()).toEqual({ kind: 'exited', code: -1 })
})

test('a monitor on another worker gets the down notice with the sender and the reason', async () => {
  const watcher = await pool.spawn(await pool.compile(await G.wat(G.WATCHER)), { worker: 0 })
  const target = await pool.spawn(await pool.compile(await G.wat(G.SPIN)), { worker: 1 })
  await watcher.send(u32(0), { cap: target }) // its handle 0: the target's mailbox, on the other worker
  watcher.monitor(target)
  expect(await target.kill()).toEqual({ kind: 'killed', by: { kind: 'host' } })
  // WATCHER exits with kind * 1000 + 1 + sender: a down notice (1) from the target, its handle 0.
  expect(await watcher.wait()).toEqual({ kind: 'exited', code: 1001 })
})

test("a child runs on its parent's worker and dies with it (killed by parent)", async () => {
  const spin = await pool.compile(await G.wat(G.SPIN))
  const parent = await pool.spawn(spin, { worker: 1 })
  const child = await pool.spawn(spin, { parent })
  expect([child.worker, child.parent]).toEqual([1, parent.pid])
  expect((await child.info())!.parent).toBe(parent.pid)
  await expect(pool.spawn(spin, { parent, worker: 0 })).rejects.toBeInstanceOf(RangeError)
  await parent.kill()
  expect(await child.wait()).toEqual({ kind: 'killed', by: { kind: 'parent', pid: parent.pid } })
  await expect(pool.spawn(spin, { parent })).rejects.toMatchObject({ code: 'ERR_PROC_EXITED' })
})

test('a plugin is loaded and built inside the worker from its module specifier and cloneable options', async () => {
  const mod = await pool.compile(await G.wat(ENV_VALUE))
  const hs = await Promise.all([0, 1].map((w) => pool.spawn(mod, { worker: w, extensions: [{ module: fixture('env-value.mjs'), options: { value: 42 + w } }] })))
  expect(await Promise.all(hs.map((h) => h.wait()))).toEqual([{ kind: 'exited', code: 42 }, { kind: 'exited', code: 43 }])
  // What a worker cannot load comes back typed, as the spawner's own loadPlugin would throw it.
  await expect(pool.spawn(mod, { extensions: [{ module: fixture('env-value.mjs'), export: 'missing' }] })).rejects.toMatchObject({ name: 'PluginError', code: 'ERR_PLUGIN_SHAPE' })
  await expect(pool.spawn(mod, { extensions: [{ module: fixture('no-such-plugin.mjs') }] })).rejects.toMatchObject({ name: 'PluginError', code: 'ERR_PLUGIN_LOAD' })
})

test('two plugins may share an import module but not fill the same import (the process ends, ERR_BAD_MODULE)', async () => {
  const mod = await pool.compile(await G.wat(ENV_VALUE))
  const twice = [{ module: fixture('env-value.mjs'), options: { value: 1 } }, { module: fixture('env-value.mjs'), options: { value: 2 } }]
  expect(await (await pool.spawn(mod, { extensions: twice })).wait()).toMatchObject({ kind: 'trapped', code: 'ERR_BAD_MODULE' })
})

test('`entry` picks the export a process starts at, on any worker', async () => {
  const mod = await pool.compile(await G.wat(TWO_ENTRIES))
  const hs = await Promise.all([0, 1].flatMap((w) => [pool.spawn(mod, { worker: w }), pool.spawn(mod, { worker: w, entry: 'other' }), pool.spawn(mod, { worker: w, entry: 'missing' })]))
  const statuses = await Promise.all(hs.map((h) => h.wait()))
  for (const w of [0, 1]) {
    expect(statuses.slice(3 * w, 3 * w + 2)).toEqual([{ kind: 'exited', code: 1 }, { kind: 'exited', code: 2 }])
    expect(statuses[3 * w + 2]).toMatchObject({ kind: 'trapped', code: 'ERR_GUEST_ABI' })
  }
})

test('links work across workers: a crash kills the other side or, with trapExits, tells it; a normal exit does neither', async () => {
  const compile = async (src: string): Promise<PoolModule> => pool.compile(await G.wat(src))
  const [spin, watcher, exitFirst, crashOnMessage] = [await compile(G.SPIN), await compile(G.WATCHER), await compile(G.EXIT_WITH_FIRST_BYTE), await compile(CRASH_ON_MESSAGE)]
  const killed = await pool.spawn(spin, { worker: 0 })
  const trapper = await pool.spawn(watcher, { worker: 0, trapExits: true })
  const survivor = await pool.spawn(spin, { worker: 0 })
  const crasher = await pool.spawn(crashOnMessage, { worker: 1 })
  const normal = await pool.spawn(exitFirst, { worker: 1 })
  killed.link(crasher)
  pool.link(trapper, crasher)
  survivor.link(normal)
  await normal.send(new Uint8Array([0]))
  await crasher.send(new Uint8Array([1]))
  expect(await crasher.wait()).toMatchObject({ kind: 'trapped', code: 'ERR_GUEST_TRAP' })
  expect(await killed.wait()).toEqual({ kind: 'killed', by: { kind: 'link', pid: crasher.pid } })
  expect(await trapper.wait()).toEqual({ kind: 'exited', code: 2 * 1000 }) // an `exit` message from the crasher (no handle to it: sender -1)
  expect(await normal.wait()).toEqual({ kind: 'exited', code: 0 })
  // Any signal would have reached survivor's worker before this request does.
  expect(await survivor.info()).toMatchObject({ pid: survivor.pid, status: undefined })
  // Linking to a process that already crashed signals at once.
  const late = await pool.spawn(spin, { worker: 0 })
  late.link(crasher)
  expect(await late.wait()).toEqual({ kind: 'killed', by: { kind: 'link', pid: crasher.pid } })
  await survivor.kill()
})

test('a guest cannot reach a process on another worker by its pid: only a handle it holds is a capability', async () => {
  // SEND_TWICE sends "hey!" to the i32 in its first message, taken as a handle, then to
  // the mailbox that message carries (if any); exits with both results as r1 * 100 + r2.
  const receiver = await pool.spawn(await pool.compile(await G.wat(G.EXIT_WITH_FIRST_BYTE)), { worker: 1 })
  const mod = await pool.compile(await G.wat(SEND_TWICE))
  const forger = await pool.spawn(mod, { worker: 0 })
  await forger.send(u32(receiver.pid)) // a pid, no capability
  expect(await forger.wait()).toEqual({ kind: 'exited', code: -3 * 100 - 3 }) // NOT_CAPABLE twice
  expect((await receiver.info())!.received).toBe(0)
  const holder = await pool.spawn(mod, { worker: 0 })
  await holder.send(u32(receiver.pid), { cap: receiver }) // its handle 0 now names the receiver
  expect(await holder.wait()).toEqual({ kind: 'exited', code: -3 * 100 + 0 })
  expect(await receiver.wait()).toEqual({ kind: 'exited', code: 'h'.charCodeAt(0) })
})

test('a supervisor on a worker restarts a crashed child there, one-for-one; too many restarts end it with limit(restarts)', async () => {
  const compile = async (src: string): Promise<PoolModule> => pool.compile(await G.wat(src))
  const [spin, trap] = [await compile(G.SPIN), await compile(G.TRAP)]
  // The flaky child ends abnormally at its deadline (limit(time)), every start. (Nothing
  // outside the supervisor holds its mailbox: no guest can be made to crash it by pid.)
  const sup = await pool.supervise({ worker: 1, maxRestarts: 1000, withinMs: 60_000, children: [{ id: 'flaky', module: spin, options: { deadlineMs: 100 } }, { id: 'steady', module: spin }] })
  expect(sup.worker).toBe(1)
  const children = async (): Promise<Map<string, number>> => new Map((await pool.ps()).filter((r) => r.parent === sup.pid).map((r) => [r.name, r.pid]))
  const before = await children()
  expect([...before.keys()].sort()).toEqual(['flaky', 'steady'])
  let after = await children()
  while (after.get('flaky') === before.get('flaky') || after.size < 2) after = await children()
  expect(after.get('steady')).toBe(before.get('steady')) // its sibling kept running
  expect((after.get('flaky')! - 1) % 2).toBe(1) // restarted on the supervisor's worker
  await sup.kill()
  expect(await children()).toEqual(new Map()) // its children die with it
  const doomed = await pool.supervise({ maxRestarts: 2, withinMs: 60_000, children: [{ id: 'crasher', module: trap }] })
  expect(await doomed.wait()).toMatchObject({ kind: 'limit', which: 'restarts' })
})

test('spawn errors of a worker come back typed; an unknown worker is refused', async () => {
  const mod = await pool.compile(await G.wat(SELF))
  await expect(pool.spawn(mod, { worker: 7 })).rejects.toBeInstanceOf(RangeError)
  const small = await WorkerPool.start({ workers: 1, scheduler: { maxProcesses: 1 } })
  try {
    const spin = await small.spawn(await small.compile(await G.wat(G.SPIN)))
    await expect(small.spawn(await small.compile(await G.wat(SELF)))).rejects.toMatchObject({ code: 'ERR_PROC_LIMIT' })
    await spin.kill()
  } finally {
    await small.close()
  }
  await expect(small.compile(await G.wat(SELF))).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' })
})

test('a crashed worker ends its processes with ERR_WORKER_CRASHED; the pool goes on with the other', async () => {
  const own = await WorkerPool.start({ workers: 2 })
  try {
    const spin = await own.compile(await G.wat(G.SPIN))
    const echo = await own.compile(await G.wat(G.ECHO))
    const victims = await Promise.all([own.spawn(spin, { worker: 1 }), own.spawn(echo, { worker: 1 })])
    const survivor = await own.spawn(echo, { worker: 0 })
    await own.spawn(await own.compile(await G.wat(SELF)), { worker: 1, extensions: [{ module: fixture('crash-worker.mjs') }] }).catch(() => undefined)
    for (const v of victims) {
      expect(await v.wait()).toEqual({ kind: 'trapped', code: 'ERR_WORKER_CRASHED', reason: 'worker 1 crashed: boom from an extension' })
    }
    expect(own.workers).toBe(1)
    await expect(own.spawn(spin, { worker: 1 })).rejects.toBeInstanceOf(WorkerCrashedError)
    const next = await own.spawn(echo) // placed on the worker that is left
    expect(next.worker).toBe(0)
    await survivor.send(new Uint8Array(0)) // an empty message stops ECHO
    expect(await survivor.wait()).toEqual({ kind: 'exited', code: 0 })
    await next.kill()
  } finally {
    await own.close()
  }
})

test("with replaceCrashed a new worker takes a crashed one's place: pids above any it used, the modules, the ports to the others", async () => {
  await using own = await WorkerPool.start({ workers: 2, replaceCrashed: true })
  const self = await own.compile(await G.wat(SELF))
  const echo = await own.compile(await G.wat(G.ECHO))
  const pinger = await own.compile(await G.wat(G.PINGER))
  const victim = await own.spawn(echo, { worker: 1 })
  const survivor = await own.spawn(echo, { worker: 0 })
  await own.spawn(self, { worker: 1, extensions: [{ module: fixture('crash-worker.mjs') }] }).catch(() => undefined)
  expect(await victim.wait()).toMatchObject({ kind: 'trapped', code: 'ERR_WORKER_CRASHED' })
  while (own.workers < 2) await new Promise((r) => setTimeout(r, 5))
  // A module compiled before the crash runs on the new worker, under a pid never used before.
  const after = await own.spawn(self, { worker: 1 })
  expect(after.pid).toBeGreaterThan(victim.pid + 2) // past the crashing spawn's pid too
  expect((after.pid - 1) % 2).toBe(1)
  expect(await after.wait()).toEqual({ kind: 'exited', code: after.pid })
  // The worker that stayed talks to the new one again, both ways.
  const p = await own.spawn(pinger, { worker: 1 })
  await p.send(u32(20), { cap: survivor })
  expect(await p.wait()).toEqual({ kind: 'exited', code: 0 })
  expect(await survivor.wait()).toEqual({ kind: 'exited', code: 20 })
})

test('close() kills every process on every worker, then refuses work', async () => {
  const own = await WorkerPool.start({ workers: 2 })
  const spin = await own.compile(await G.wat(G.SPIN))
  const hs = await Promise.all([0, 1].map((w) => own.spawn(spin, { worker: w })))
  expect(own.process(hs[1]!.pid)).toBe(hs[1])
  const racing = own.spawn(spin) // in flight while the pool closes: it settles either way
  await own.close()
  const [raced] = await Promise.allSettled([racing])
  if (raced.status === 'fulfilled') expect(await raced.value.wait()).toEqual({ kind: 'killed', by: { kind: 'host' } })
  expect(await Promise.all(hs.map((h) => h.wait()))).toEqual([{ kind: 'killed', by: { kind: 'host' } }, { kind: 'killed', by: { kind: 'host' } }])
  await expect(own.spawn(spin)).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' })
  expect(await hs[0]!.info()).toBeUndefined()
})
