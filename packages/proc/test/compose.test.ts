// Composition: a guest process gets its restricted WASI, its transport to the capability
// its spawner chose, and any plugin — checked with real guests (WAT WASI guests and the
// SDK's wasi-hello-host speaking Cap'n Proto RPC to a real Host capability).
import { embeddedCluster, hostCapability } from '@ww/host'
import { guestBytes } from '@ww/guest'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { DEFAULT_POLICY, dialerFor, grant, MemorySink } from '@ww/wasi-restricted'
import { testing } from '@ww/schema'
import { echoPayload, newCounter } from '@ww/schema/testing'
import {
  BadModuleError, compileGuest, describeStatus, Scheduler, spawnGuest, type ProcessPlugin,
} from '../src/index.js'
import * as G from '../src/bench/guests.js'
import * as W from './wasi-guests.js'

const text = (s: MemorySink): string => Buffer.concat(s.records.map((r) => r.bytes)).toString('utf8')

test('a WASI guest: its output goes to its own sinks, denials are counted, proc_exit(3) is exited(3)', async () => {
  await using s = new Scheduler()
  const mod = await compileGuest(s, await G.wat(W.WASI_EXIT3))
  const stdout = new MemorySink()
  const g = spawnGuest(s, mod, { stdout })
  expect(await g.wait()).toEqual({ kind: 'exited', code: 3 })
  expect(text(stdout)).toBe('hi\n')
  expect(g.stats().denied).toMatchObject({ denials: 1, byFunction: { path_open: 1 }, byErrno: { ENOTCAPABLE: 1 } })
  expect(g.info()).toMatchObject({ state: 'exited', denials: { path_open: 1 }, status: { kind: 'exited', code: 3 } })
  expect(g.info().extension).toEqual({ 'denied path_open ENOTCAPABLE': 1 })
})

test('a sink that says writable but still refuses the record does not freeze the host: the guest waits, its deadline ends it', async () => {
  await using s = new Scheduler()
  // Room for 1500 bytes: the first 1001-byte line fits; the second never does, yet writable() resolves (1001 < 1500).
  const stdout = new MemorySink(1500)
  const g = spawnGuest(s, await compileGuest(s, await G.wat(W.CHATTY(3))), { stdout, deadlineMs: 50 })
  expect(await g.wait()).toMatchObject({ kind: 'limit', which: 'time' }) // reached only if the event loop turns
  expect(stdout.records).toHaveLength(1)
})

test('ps shows a waiting WASI guest with its state, memory, CPU time, denials, name, parent and start time', async () => {
  await using s = new Scheduler()
  const before = Date.now()
  const owner = s.spawnNative({ name: 'owner' })
  const g = spawnGuest(s, await compileGuest(s, await G.wat(W.WASI_SLEEPER)), { name: 'sleeper', parent: owner })
  while (g.handle.state !== 'waiting') await new Promise((r) => setTimeout(r, 1))
  const row = s.ps().find((r) => r.pid === g.pid)!
  expect(row).toMatchObject({
    name: 'sleeper', parent: owner.pid, kind: 'wasm', state: 'waiting', memoryBytes: 65536,
    denials: { path_open: 2 }, framesIn: 0, framesOut: 0, status: undefined,
  })
  expect(row.cpuMs).toBeGreaterThan(0)
  expect(row.startedAtMs).toBeGreaterThanOrEqual(before)
  expect(row.startedAtMs).toBeLessThanOrEqual(Date.now())
  owner.exit()
  expect(await g.wait()).toEqual({ kind: 'killed', by: { kind: 'parent', pid: owner.pid } })
  expect(s.ps()).toEqual([])
})

test('an SDK guest talks to a real Host capability; its RPC frames show in ps and its stats', async () => {
  await using s = new Scheduler()
  await using cluster = embeddedCluster()
  const mod = await compileGuest(s, await guestBytes('wasi-hello-host', { asyncify: false }))
  const stdout = new MemorySink()
  const closed: string[] = []
  const g = spawnGuest(s, mod, {
    stdout,
    host: ({ pid }) => {
      const h = hostCapability(cluster, { processId: pid, rights: { view: true, pubSub: true, root: true } })
      return { server: h.server, close: (why) => { closed.push(why ?? ''); h.close(why) } }
    },
  })
  expect(await g.wait()).toEqual({ kind: 'exited', code: 0 })
  expect(text(stdout)).toContain('read it back: "hello, anchors"\n')
  const { rpc, transport, denied } = g.stats()
  expect(rpc!.callsIn).toBeGreaterThanOrEqual(8)
  expect(transport!.framesIn).toBeGreaterThan(rpc!.callsIn)
  expect(denied!.denials).toBe(0)
  const info = g.info()
  expect(info.framesIn).toBe(transport!.framesIn)
  expect(info.framesOut).toBe(transport!.framesOut)
  expect(closed).toEqual(['exited(0)']) // the Host was closed (everything it handed out revoked) at exit
})

test('entry: the export to start at is the spawner\'s choice; a missing one is refused or ends the process', async () => {
  await using s = new Scheduler()
  const bytes = await G.wat(W.TWO_ENTRIES)
  const mod = await compileGuest(s, bytes)
  expect(await spawnGuest(s, mod).wait()).toEqual({ kind: 'exited', code: 1 }) // ww_main by default
  expect(await spawnGuest(s, mod, { entry: 'other' }).wait()).toEqual({ kind: 'exited', code: 2 })
  expect(await spawnGuest(s, mod, { entry: 'nope' }).wait()).toMatchObject({ kind: 'trapped', code: 'ERR_GUEST_ABI' })
  await expect(compileGuest(s, bytes, { entry: 'nope' })).rejects.toThrow(/exports no nope/)
})

test('a plugin adds imports and counters; modules asking for what no part provides are refused', async () => {
  await using s = new Scheduler()
  let made = 0
  const answers: ProcessPlugin = {
    name: 'answers',
    provides: ['answers'],
    create: (ctx) => {
      made++
      let asked = 0
      return {
        imports: { answers: { get: () => { asked++; return 40 + (ctx.pid % 2) } } },
        stats: () => ({ counters: { asked } }),
      }
    },
  }
  const bytes = await G.wat(W.ASKS_PLUGIN)
  await expect(compileGuest(s, bytes)).rejects.toThrow(BadModuleError)
  await expect(compileGuest(s, bytes)).rejects.toThrow(/imports answers\.get; a guest gets only/)
  const mod = await compileGuest(s, bytes, { plugins: [answers] })
  const g = spawnGuest(s, mod, { plugins: [answers] })
  expect(await g.wait()).toEqual({ kind: 'exited', code: 40 + (g.pid % 2) })
  expect(g.info().extension).toEqual({ asked: 1 })
  expect(made).toBe(1)

  const clash: ProcessPlugin = { name: 'fake-wasi', provides: ['wasi_snapshot_preview1'], create: () => ({}) }
  await expect(compileGuest(s, bytes, { plugins: [answers, clash] })).rejects.toThrow(/both provide the import module wasi_snapshot_preview1/)
  // A module importing `ww` needs a capability to bootstrap.
  const sdk = await compileGuest(s, await guestBytes('wasi-hello-host', { asyncify: false }))
  expect(() => spawnGuest(s, sdk)).toThrow(/no capability was given/)
})

test('a plugin that fails to start ends only its process, after the parts built before it are cleaned up', async () => {
  await using s = new Scheduler()
  const events: string[] = []
  const ok: ProcessPlugin = { name: 'ok', provides: [], create: () => ({ onExit: (st) => { events.push(`ok closed: ${describeStatus(st)}`) } }) }
  const broken: ProcessPlugin = { name: 'broken', provides: [], create: () => { throw Object.assign(new Error('no such device'), { code: 'ERR_DEVICE' }) } }
  const mod = await compileGuest(s, await G.wat(W.TWO_ENTRIES))
  const g = spawnGuest(s, mod, { plugins: [ok, broken] })
  expect(await g.wait()).toEqual({ kind: 'trapped', code: 'ERR_DEVICE', reason: 'no such device' })
  expect(events).toEqual(['ok closed: trapped(ERR_PLUGIN: a plugin failed to start: no such device)'])
  expect(await spawnGuest(s, mod).wait()).toEqual({ kind: 'exited', code: 1 }) // the scheduler goes on
})

test('aborting the spawn signal kills the guest', async () => {
  await using s = new Scheduler()
  const ac = new AbortController()
  const g = spawnGuest(s, await compileGuest(s, await G.wat(W.WASI_SLEEPER)), { signal: ac.signal })
  while (g.handle.state !== 'waiting') await new Promise((r) => setTimeout(r, 1))
  ac.abort()
  expect(await g.wait()).toEqual({ kind: 'killed', by: { kind: 'host' } })
})

test('a hostile guest ends alone: a bad frame pointer kills it with a reason, a bad iovec gets EFAULT', async () => {
  await using s = new Scheduler()
  const host = (): { server: import('@ww/schema').testing.Echo.Server } => ({ server: new testing.Echo.Server({ ping() {}, echo() {}, counter() {} }) })
  const spin = spawnGuest(s, await compileGuest(s, await G.wat(W.WASI_SLEEPER)))
  const bad = spawnGuest(s, await compileGuest(s, await G.wat(W.BAD_FRAME_POINTER)), { host })
  expect(await bad.wait()).toMatchObject({ kind: 'trapped', code: 'ERR_GUEST_MEMORY' })
  const iov = spawnGuest(s, await compileGuest(s, await G.wat(W.BAD_IOVEC)))
  expect(await iov.wait()).toEqual({ kind: 'exited', code: 21 }) // EFAULT, nothing written
  expect(spin.handle.state).toBe('waiting') // the neighbour is untouched
  await spin.kill()
})

test('a guest with no parts to plug in stays hibernatable', async () => {
  await using s = new Scheduler({ suspension: 'asyncify' }) // JSPI stacks cannot be saved
  const g = spawnGuest(s, await compileGuest(s, await G.wat(G.ECHO)))
  while (g.handle.state !== 'waiting') await new Promise((r) => setTimeout(r, 1))
  expect(s.hibernate(g.handle)).toBe(true)
  await g.handle.send(new Uint8Array(0)) // an empty message: stop
  expect(await g.wait()).toEqual({ kind: 'exited', code: 0 })
})

test('ps shows the RPC frames of a guest parked waiting for an answer', async () => {
  await using s = new Scheduler()
  // AssemblyScript's `env.abort`, as a plugin: a failed assertion ends the guest.
  const asEnv: ProcessPlugin = { name: 'as-env', provides: ['env'], create: () => ({ imports: { env: { abort: () => { throw new Error('guest abort') } } } }) }
  const mod = await compileGuest(s, await guestBytes('echo-client', { asyncify: false }), { plugins: [asEnv] })
  let answer!: () => void
  const held = new Promise<void>((r) => { answer = r })
  let first = true
  const echo = new testing.Echo.Server({
    async ping() { if (first) { first = false; await held } },
    echo: echoPayload,
    counter(p, r) { r.setCounter(newCounter(p.getStart())) },
  })
  const g = spawnGuest(s, mod, { plugins: [asEnv], host: () => ({ server: echo }) })
  while (g.handle.state !== 'waiting') await new Promise((r) => setTimeout(r, 1))
  const row = s.ps().find((r) => r.pid === g.pid)!
  expect(row.state).toBe('waiting')
  expect(row.framesIn).toBeGreaterThanOrEqual(2) // its bootstrap and the ping it waits on
  expect(row.framesIn).toBe(g.connection!.stats.framesIn)
  answer()
  expect(await g.wait()).toEqual({ kind: 'exited', code: 0 })
  expect(g.info().framesOut).toBeGreaterThanOrEqual(9) // every answer written into its memory
})

/** A TCP server on loopback that takes one client; `peer` is its end of that connection. */
async function oneClientServer(): Promise<{ addr: string; peer: Promise<Socket>; close: () => void }> {
  const server: Server = createServer()
  const peer = new Promise<Socket>((resolve) => server.once('connection', resolve))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { addr: `127.0.0.1:${(server.address() as AddressInfo).port}`, peer, close: () => server.close() }
}

test('a connection the spawner dialled is the guest\'s socket fd 3: it reads and writes it, and the process\'s end closes it', async () => {
  const srv = await oneClientServer()
  const conn = await dialerFor([srv.addr]).dial(srv.addr)
  const peer = await srv.peer
  await using s = new Scheduler()
  const mod = await compileGuest(s, await G.wat(W.CONN_ECHO))
  const g = spawnGuest(s, mod, { policy: grant(DEFAULT_POLICY, { sockets: true }), conns: [conn] })
  let echoed = ''
  const both = new Promise<void>((resolve) => peer.on('data', (b: Buffer) => { echoed += b.toString(); if (echoed === 'ping pong') resolve() }))
  peer.write('ping ')
  setTimeout(() => peer.write('pong'), 5) // the guest waits for it in fd_read
  await both
  peer.end() // end of stream: the guest's loop ends
  expect(await g.wait()).toEqual({ kind: 'exited', code: 0 })
  await new Promise<void>((resolve) => peer.on('close', () => resolve())) // and its end closed the conn
  srv.close()
})

test('without a conn fd 3 is EBADF; conns without the sockets grant are refused', async () => {
  await using s = new Scheduler()
  const mod = await compileGuest(s, await G.wat(W.CONN_ECHO))
  expect(await spawnGuest(s, mod, {}).wait()).toEqual({ kind: 'exited', code: 8 })
  const srv = await oneClientServer()
  const conn = await dialerFor([srv.addr]).dial(srv.addr)
  const refused = spawnGuest(s, mod, { conns: [conn] })
  expect(await refused.wait()).toMatchObject({ kind: 'trapped', reason: expect.stringMatching(/sockets/) })
  conn.close()
  ;(await srv.peer).destroy()
  srv.close()
})

// Issue 17: a seeded scratch dir, and stdout polled through the sinks a spawner gives.
test('a scratch seed is in the guest\'s dir at start; one over the quota ends the spawn with ERR_SCRATCH_SEED', async () => {
  await using s = new Scheduler()
  const mod = await compileGuest(s, await G.wat(W.SEEDED_CAT))
  const policy = grant(DEFAULT_POLICY, { scratch: { maxBytes: 64 } })
  const stdout = new MemorySink()
  const g = spawnGuest(s, mod, { policy, stdout, scratchSeed: [{ path: 'data/in.txt', bytes: new TextEncoder().encode('seeded input\n') }] })
  expect(await g.wait()).toEqual({ kind: 'exited', code: 0 })
  expect(text(stdout)).toBe('seeded input\n')
  expect(g.wasi?.scratchUsage()).toEqual({ bytes: 0, inodes: 0 }) // the dir is gone with the process
  // Without the seed the file is not there: ENOENT (44).
  expect(await spawnGuest(s, mod, { policy }).wait()).toEqual({ kind: 'exited', code: 44 })
  const tooBig = spawnGuest(s, mod, { policy, scratchSeed: [{ path: 'data/in.txt', bytes: new Uint8Array(65) }] })
  expect(await tooBig.wait()).toMatchObject({ kind: 'trapped', reason: expect.stringMatching(/ERR_SCRATCH_SEED.*65 bytes/) })
})

test('stdout polled for writing is not ready while the spawner\'s sink is full; draining it wakes the guest', async () => {
  await using s = new Scheduler()
  const mod = await compileGuest(s, await G.wat(W.STDOUT_POLL))
  const stdout = new MemorySink(1) // full after the guest's "hi\n"
  const g = spawnGuest(s, mod, { stdout })
  for (let i = 0; i < 20 && stdout.records.length === 0; i++) await new Promise<void>((r) => setImmediate(r))
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r))
  expect(g.info().state).not.toBe('exited') // parked in poll_oneoff: neither fd 1 nor the 60 s clock is ready
  expect(text(stdout)).toBe('hi\n')
  stdout.take()
  expect(await g.wait()).toEqual({ kind: 'exited', code: 201 }) // one event, fd_write
})
