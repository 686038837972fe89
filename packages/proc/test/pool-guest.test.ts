// Composed guests on pool workers: the restricted WASI built in the worker, the Host
// capability served on the main thread, output to the spawner's sinks on the main
// thread — checked with WAT WASI guests and the SDK's wasi-hello-host. (Runs the built
// worker: build @ww/guest and this package first.)
import { embeddedCluster, hostCapability } from '@ww/host'
import { guestBytes } from '@ww/guest'
import { MemorySink, grant, DEFAULT_POLICY } from '@ww/wasi-restricted'
import { BadModuleError, WorkerPool, compileGuest, spawnPoolGuest } from '../src/index.js'
import * as G from '../src/bench/guests.js'
import * as W from './wasi-guests.js'

const text = (s: MemorySink): string => Buffer.concat(s.records.map((r) => r.bytes)).toString('utf8')

let pool: WorkerPool
beforeAll(async () => { pool = await WorkerPool.start({ workers: 2 }) })
afterAll(async () => { await pool.close() })

test('a WASI guest on each worker: output reaches sinks on this thread, proc_exit(3) is exited(3), denials are counted', async () => {
  const mod = await compileGuest(pool, await G.wat(W.WASI_EXIT3))
  const outs = [new MemorySink(), new MemorySink()]
  const gs = await Promise.all([0, 1].map((w) => spawnPoolGuest(pool, mod, { worker: w, stdout: outs[w]! })))
  expect(await Promise.all(gs.map((g) => g.wait()))).toEqual([{ kind: 'exited', code: 3 }, { kind: 'exited', code: 3 }])
  for (const [w, o] of outs.entries()) {
    expect(text(o)).toBe('hi\n')
    expect(o.records[0]!.processId).toBe(String(gs[w]!.pid)) // the pool pid, named by the worker's WASI
  }
  // The sleeper parks in poll_oneoff on its worker; its row shows the denials.
  const sleeper = await spawnPoolGuest(pool, await compileGuest(pool, await G.wat(W.WASI_SLEEPER)), { worker: 1 })
  let row = await sleeper.info()
  while (row?.state !== 'waiting') row = await sleeper.info()
  expect(row).toMatchObject({ worker: 1, denials: { path_open: 2 } })
  expect(await sleeper.kill()).toEqual({ kind: 'killed', by: { kind: 'host' } })
})

test('output past the cross-thread window arrives whole and in order (the guest waits for the main thread to take it)', async () => {
  const out = new MemorySink()
  const g = await spawnPoolGuest(pool, await compileGuest(pool, await G.wat(W.CHATTY(300))), { stdout: out })
  expect(await g.wait()).toEqual({ kind: 'exited', code: 0 })
  const all = text(out)
  expect(all.length).toBe(300 * 1001 + 4) // ≈ 300 KB through a 64 KiB window
  expect(all.endsWith('a\nend\n')).toBe(true)
  expect(out.records).toHaveLength(301)
})

test('an SDK guest on a worker talks to a real Host capability on this thread; the Host is closed at exit', async () => {
  await using cluster = embeddedCluster()
  const mod = await compileGuest(pool, await guestBytes('wasi-hello-host', { asyncify: false }))
  const stdout = new MemorySink()
  const closed: string[] = []
  const g = await spawnPoolGuest(pool, mod, {
    worker: 1,
    stdout,
    policy: grant(DEFAULT_POLICY, {}),
    host: ({ pid }) => {
      const h = hostCapability(cluster, { processId: pid, rights: { view: true, pubSub: true, root: true } })
      return { server: h.server, close: (why) => { closed.push(why ?? ''); h.close(why) } }
    },
  })
  expect(await g.wait()).toEqual({ kind: 'exited', code: 0 })
  expect(text(stdout)).toContain('read it back: "hello, anchors"\n')
  expect(g.process.rpc!.stats.callsIn).toBeGreaterThanOrEqual(8) // served by this thread's connection
  expect(closed).toEqual(['exited(0)'])
})

test('a module that imports ww needs a Host; one importing what no part provides is refused at compile', async () => {
  const mod = await compileGuest(pool, await G.wat(W.BAD_FRAME_POINTER))
  await expect(spawnPoolGuest(pool, mod)).rejects.toBeInstanceOf(BadModuleError)
  await expect(compileGuest(pool, await G.wat(W.ASKS_PLUGIN))).rejects.toBeInstanceOf(BadModuleError)
})

test("a guest whose worker crashes ends with ERR_WORKER_CRASHED: its wait does not hang on output that will never come", async () => {
  await using own = await WorkerPool.start({ workers: 1 })
  const g = await spawnPoolGuest(own, await compileGuest(own, await G.wat(W.WASI_SLEEPER)), { stdout: new MemorySink() })
  const crash = new URL('../src/workers/fixtures/crash-worker.mjs', import.meta.url).href
  await own.spawn(await own.compile(await G.wat(G.SPIN)), { extensions: [{ module: crash }] }).catch(() => undefined)
  expect(await g.wait()).toMatchObject({ kind: 'trapped', code: 'ERR_WORKER_CRASHED' })
})

test("a supervised WASI guest on a worker: every start's output reaches the sink on this thread, under its own pid", async () => {
  const out = new MemorySink()
  const mod = await compileGuest(pool, await G.wat(W.WASI_EXIT3))
  const sup = await pool.supervise({ worker: 0, maxRestarts: 2, withinMs: 60_000, children: [{ id: 'exit3', module: mod, stdout: out }] })
  // exited(3) is abnormal: restarted twice, then the third end is one too many.
  expect(await sup.wait()).toMatchObject({ kind: 'limit', which: 'restarts' })
  while (out.records.length < 3) await new Promise((r) => setTimeout(r, 1)) // the last start's output may still be on its way
  expect(text(out)).toBe('hi\nhi\nhi\n')
  const pids = out.records.map((r) => Number(r.processId))
  expect(new Set(pids).size).toBe(3)
  for (const pid of pids) expect((pid - 1) % 2).toBe(0) // on worker 0, with the supervisor
})
