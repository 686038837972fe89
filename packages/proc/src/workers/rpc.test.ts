// The Host-side capability of a process on a worker: its Cap'n Proto frames cross to the
// main thread, where a real RpcConnection serves them; replies are written into guest
// memory at ww.recv. A real AssemblyScript guest (@ww/guest's echo-client) on each
// worker. (Runs the built worker: build @ww/guest and this package first.)
import type { testing } from '@ww/schema'
import { newEcho } from '@ww/schema/testing'
import { guestBytes } from '@ww/guest'
import { WorkerPool, type PoolModule } from './pool.js'
import * as G from '../bench/guests.js'

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1))
const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).href
const AS_ENV = [{ module: fixture('as-env.mjs') }]

const echoServer = (calls: string[]): testing.Echo$Server => newEcho({ calls, later: true })

let pool: WorkerPool
let echoClient: PoolModule
beforeAll(async () => {
  pool = await WorkerPool.start({ workers: 2 })
  // Metered and asyncified once on the main thread (≈1 s for this guest); workers get the compiled code.
  echoClient = await pool.compile(await guestBytes('echo-client', { asyncify: false }), { suspendingImports: ['ww.recv'] })
})
afterAll(async () => { await pool.close() })

test('an SDK guest on each worker calls a capability served on the main thread, beside a runaway neighbour', async () => {
  const mod = echoClient
  const spin = await pool.spawn(await pool.compile(await G.wat(G.SPIN)), { worker: 0, deadlineMs: 5000 })
  const calls: string[][] = [[], []]
  const pids: number[] = []
  const guests = await Promise.all(calls.map((c, w) => pool.spawn(mod, {
    worker: w, extensions: AS_ENV, bootstrap: (pid) => { pids.push(pid); return echoServer(c) },
  })))
  expect(await Promise.all(guests.map((g) => g.wait()))).toEqual([{ kind: 'exited', code: 0 }, { kind: 'exited', code: 0 }])
  for (const c of calls) expect(c).toEqual(['ping', 'ping', 'ping', 'echo', 'counter', 'add', 'add', 'add', 'ping'])
  expect(pids.sort()).toEqual(guests.map((g) => g.pid).sort()) // the factory is given the pool pid
  for (const g of guests) expect(g.rpc!.stats.callsIn).toBeGreaterThanOrEqual(9) // served by the main thread's connection
  expect(spin.status).toBeUndefined()
  await spin.kill()
})

test('a malformed frame ends only its guest (ERR_BAD_FRAME, in the worker); the host connection never sees it', async () => {
  // Sends 16 bytes claiming a segment of 1000 words.
  const BAD_FRAME = `(module
    (import "ww" "send" (func $send (param i32 i32) (result i32)))
    (import "ww" "recv" (func $recv (param i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 16) "\\18\\00\\00\\00\\00\\10\\00\\00")
    (func (export "ww_asyncify_data") (result i32) (i32.const 16))
    (data (i32.const 8192) "\\00\\00\\00\\00\\e8\\03\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00")
    (func (export "ww_main") (drop (call $send (i32.const 8192) (i32.const 16)))))`
  const calls: string[] = []
  const g = await pool.spawn(await pool.compile(await G.wat(BAD_FRAME), { suspendingImports: ['ww.recv'] }), { bootstrap: echoServer(calls) })
  const status = await g.wait()
  expect(status).toMatchObject({ kind: 'trapped', code: 'ERR_BAD_FRAME' })
  expect(g.rpc!.stats.messagesIn).toBe(0)
  expect(calls).toEqual([])
})

test('out-of-memory pointers to ww.send / ww.recv end only that guest with ERR_GUEST_MEMORY', async () => {
  const guest = (body: string): string => `(module
    (import "ww" "send" (func $send (param i32 i32) (result i32)))
    (import "ww" "recv" (func $recv (param i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 16) "\\18\\00\\00\\00\\00\\10\\00\\00")
    (func (export "ww_asyncify_data") (result i32) (i32.const 16))
    (func (export "ww_main") ${body}))`
  const sendPast = await pool.compile(await G.wat(guest('(drop (call $send (i32.const 65530) (i32.const 64)))')), { suspendingImports: ['ww.recv'] })
  const recvPast = await pool.compile(await G.wat(guest('(drop (call $recv (i32.const -16) (i32.const 64)))')), { suspendingImports: ['ww.recv'] })
  const calls: string[] = []
  const hs = await Promise.all([sendPast, recvPast].map((m, w) => pool.spawn(m, { worker: w, bootstrap: echoServer(calls) })))
  for (const h of hs) expect(await h.wait()).toMatchObject({ kind: 'trapped', code: 'ERR_GUEST_MEMORY' })
  expect(calls).toEqual([])
})

test('a bootstrap factory that throws fails the spawn, and the process does not linger', async () => {
  const boom = new Error('no capability for you')
  const before = (await pool.ps()).length
  await expect(pool.spawn(echoClient, { extensions: AS_ENV, bootstrap: () => { throw boom } })).rejects.toBe(boom)
  for (;;) {
    if ((await pool.ps()).length === before) break
    await tick()
  }
})

test('a guest killed while it waits for an answer from the main thread ends as killed; its connection closes', async () => {
  const mod = echoClient
  const calls: string[] = []
  const g = await pool.spawn(mod, { extensions: AS_ENV, bootstrap: echoServer(calls) })
  while (calls.length === 0) await tick()
  expect(await g.kill()).toEqual({ kind: 'killed', by: { kind: 'host' } })
  while (!g.rpc!.closed) await tick()
  expect(calls.length).toBeLessThan(9)
})

test("a supervised child on a worker gets a fresh Host on this thread at every start: the first refused, the restart served", async () => {
  const calls: string[] = []
  const pids: number[] = []
  const sup = await pool.supervise({
    worker: 1, maxRestarts: 3, withinMs: 60_000,
    children: [{
      id: 'client', module: echoClient, restart: 'transient', options: { extensions: AS_ENV },
      bootstrap: (pid) => {
        pids.push(pid)
        if (pids.length === 1) throw new Error('not yet') // this start's guest ends: a crash, so it is restarted
        return echoServer(calls)
      },
    }],
  })
  const children = async (): Promise<number> => (await pool.ps()).filter((r) => r.parent === sup.pid).length
  while (calls.length < 9 || (await children()) > 0) await tick() // the second start ran its flow and exited normally
  expect(pids).toHaveLength(2)
  expect(pids[0]).not.toBe(pids[1])
  for (const pid of pids) expect((pid - 1) % 2).toBe(1) // started on the supervisor's worker
  expect(calls).toEqual(['ping', 'ping', 'ping', 'echo', 'counter', 'add', 'add', 'add', 'ping'])
  expect(sup.status).toBeUndefined() // transient: a normal exit is not restarted, and the supervisor goes on
  await sup.kill()
})
