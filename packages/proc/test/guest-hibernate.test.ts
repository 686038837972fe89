// A guest that serves, parked in ww.recv with nothing to do, hibernates (its memory copied
// out, its instance dropped) even though it has a transport and WASI plugged in: a call
// wakes it into a new instance, it answers from the state it had, and it parks (and
// hibernates) again. The frame that wakes it is written into the new memory as it resumes.
// Hibernation is asyncify's (a JSPI stack cannot be saved), so most tests pin asyncify.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { getInterfaceClient } from 'capnp-ts'
import { embeddedCluster, executorProvider, hostCapability, type Cluster } from '@ww/host'
import { guestBytes } from '@ww/guest'
import { host as capHost, testing } from '@ww/schema'
import { createPair, jspiAvailable, TransportError } from '@ww/transport'
import { MemorySink } from '@ww/wasi-restricted'
import { compileGuest, Scheduler, spawnGuest, type GuestProcess } from '../src/index.js'
import * as W from './wasi-guests.js'
import * as G from '../src/bench/guests.js'
import { guestTree } from './guest-tree.js'
import { until } from './until.js'

interface Serving { g: GuestProcess; echo: testing.Echo.Client; stdout: MemorySink }

/** wasi-serve-echo on `s`, its Echo bootstrapped and answering (so it is past its start). */
async function serveEcho(s: Scheduler, cluster: Cluster): Promise<Serving> {
  const mod = await compileGuest(s, await guestBytes('wasi-serve-echo', { asyncify: false }))
  const stdout = new MemorySink()
  const g = spawnGuest(s, mod, {
    stdout, stderr: stdout,
    host: ({ pid }) => {
      const h = hostCapability(cluster, { processId: pid, rights: { view: true } })
      return { server: h.server, close: (why) => h.close(why) }
    },
  })
  const echo = g.connection!.rpc.bootstrap(testing.Echo)
  await echo.echo((p) => p.initPayload(1))
  return { g, echo, stdout }
}

/** Parked in ww.recv (it parks right after answering; the answer may reach us first). */
const parked = (g: GuestProcess): Promise<void> => until(() => g.handle.state === 'waiting')

/** serveEcho with a Counter (from 0) made, then hibernated. */
async function hibernatedCounter(s: Scheduler, cluster: Cluster): Promise<{ g: GuestProcess; counter: testing.Counter.Client }> {
  const { g, echo } = await serveEcho(s, cluster)
  const counter = (await echo.counter((p) => p.setStart(0n))).getCounter()
  await parked(g)
  expect(s.hibernate(g.handle)).toBe(true)
  return { g, counter }
}

async function echoed(echo: testing.Echo.Client, bytes: number[]): Promise<number[]> {
  const r = await echo.echo((p) => p.initPayload(bytes.length).copyBuffer(new Uint8Array(bytes)))
  return [...r.getPayload().toUint8Array()]
}

test('an idle serving guest hibernates, wakes for each call with its state, and hibernates again', async () => {
  await using s = new Scheduler({ suspension: 'asyncify' })
  await using cluster = embeddedCluster()
  const { g, echo } = await serveEcho(s, cluster)
  const counter = (await echo.counter((p) => p.setStart(100n))).getCounter() // state in guest memory
  let total = 100n
  for (let round = 1; round <= 5; round++) {
    await parked(g)
    const awake = g.info().memoryBytes
    expect(s.hibernate(g.handle)).toBe(true)
    const info = g.info()
    expect(info).toMatchObject({ state: 'waiting', memoryBytes: 0 })
    expect(info.hibernatedBytes).toBeGreaterThan(0)
    expect(info.hibernatedBytes).toBeLessThan(awake) // only non-zero chunks are kept
    expect(g.connection!.instance).toBeUndefined() // the transport let go of the old instance
    total += BigInt(round)
    expect((await counter.add((p) => p.setN(BigInt(round)))).getTotal()).toBe(total)
    expect(g.info().hibernatedBytes).toBeUndefined() // woken into a new instance
    expect(await echoed(echo, [round, 7, 250])).toEqual([round, 7, 250])
  }
  expect(g.handle.status).toBeUndefined()
  // The transport is bound to the instance it was woken into, whose tables hold what it served.
  expect((g.connection!.instance!.exports.ww_test_exports as () => number)()).toBe(2) // the Echo and the Counter
})

test('hibernateAfterMs hibernates a serving guest each time it idles; each call wakes it', async () => {
  await using s = new Scheduler({ suspension: 'asyncify', hibernateAfterMs: 1 })
  await using cluster = embeddedCluster()
  const { g, echo } = await serveEcho(s, cluster)
  const counter = (await echo.counter((p) => p.setStart(0n))).getCounter()
  for (let round = 1; round <= 3; round++) {
    await until(() => g.info().hibernatedBytes !== undefined) // on its own: no hibernate() call here
    expect((await counter.add((p) => p.setN(1n))).getTotal()).toBe(BigInt(round))
  }
})

test('a call that arrives as the guest is hibernated (frame queued, not yet read) is answered after the restore', async () => {
  await using s = new Scheduler({ suspension: 'asyncify' })
  await using cluster = embeddedCluster()
  const { g, echo } = await serveEcho(s, cluster)
  const counter = (await echo.counter((p) => p.setStart(1n))).getCounter()
  for (let round = 0; round < 3; round++) {
    await parked(g)
    const before = g.connection!.stats.framesOut
    const answer = counter.add((p) => p.setN(10n)) // its frame is queued now, and the guest's wait is over
    expect(s.hibernate(g.handle)).toBe(true) // the wake is under way, the write not done
    expect(g.connection!.stats.framesOut).toBe(before) // nothing was written into the memory being dropped
    expect((await answer).getTotal()).toBe(1n + 10n * BigInt(round + 1))
  }
})

test('calls made while it sleeps queue up and are all answered, in order, by one wake', async () => {
  await using s = new Scheduler({ suspension: 'asyncify' })
  await using cluster = embeddedCluster()
  const { counter } = await hibernatedCounter(s, cluster)
  const totals = await Promise.all(Array.from({ length: 20 }, () => counter.add((p) => p.setN(1n))))
  expect(totals.map((r) => r.getTotal())).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 1)))
})

test('a serving guest killed while hibernated ends, and calls on its capabilities fail with a typed error', async () => {
  await using s = new Scheduler({ suspension: 'asyncify' })
  await using cluster = embeddedCluster()
  const { g, counter } = await hibernatedCounter(s, cluster)
  expect(await g.kill()).toEqual({ kind: 'killed', by: { kind: 'host' } })
  expect(g.info().hibernatedBytes).toBeUndefined()
  const failed = await counter.add((p) => p.setN(1n)).then(() => undefined, (e: unknown) => e)
  expect(failed).toBeInstanceOf(TransportError)
  expect(failed).toMatchObject({ code: 'ERR_CLOSED' })
})

test('a guest parked in a WASI wait is not hibernated (its wait writes guest memory as it ends)', async () => {
  await using s = new Scheduler({ suspension: 'asyncify' })
  const g = spawnGuest(s, await compileGuest(s, await G.wat(W.WASI_SLEEPER)))
  await until(() => g.handle.state === 'waiting')
  expect(s.hibernate(g.handle)).toBe(false)
  await g.kill()
})

// Node 24: the default suspension there is JSPI, whose stacks live in the engine and
// cannot be saved: hibernate() says no and the guest serves on, awake.
test('with the default suspension, a serving guest hibernates only under asyncify, and serves either way', async () => {
  await using s = new Scheduler()
  await using cluster = embeddedCluster()
  const { g, echo } = await serveEcho(s, cluster)
  const counter = (await echo.counter((p) => p.setStart(5n))).getCounter()
  for (let round = 1; round <= 2; round++) {
    await parked(g)
    expect(s.hibernate(g.handle)).toBe(!jspiAvailable())
    expect((await counter.add((p) => p.setN(1n))).getTotal()).toBe(5n + BigInt(round))
  }
})

// The point of hibernating is the memory going away: nothing of the host (the transport's
// frame cursor, an expired borrowed frame, a suspender's frame) may keep the dropped one.
test('the memory a serving guest hibernated from is freed', async () => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  await using s = new Scheduler({ suspension: 'asyncify' })
  await using cluster = embeddedCluster()
  const { g, echo } = await serveEcho(s, cluster)
  await echoed(echo, [1, 2, 3]) // a borrowed frame read, a Return written
  await parked(g)
  const old = new WeakRef(g.connection!.instance!.exports.memory as WebAssembly.Memory)
  expect(s.hibernate(g.handle)).toBe(true)
  // A WeakRef's target is kept until the job that made it ends: collect in later turns.
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r))
    gc()
  }
  expect(old.deref()).toBeUndefined()
  expect(await echoed(echo, [4])).toEqual([4])
})

// Through a real host's Executor, on the in-thread scheduler and on a pool's worker (whose
// transport is a port to the main thread): the spawner's calls wake the child each time.
test.each(['thread', 'pool'] as const)('on the %s: a child serving its spawner hibernates between calls (hibernateAfterMs)', async (on) => {
  await using t = await guestTree(on, { suspension: 'asyncify', hibernateAfterMs: 1 })
  const hc = hostCapability(t.cluster, { processId: 0, rights: { root: true }, executor: executorProvider(t.tree) })
  const [client] = createPair({ frames: true, b: { bootstrap: hc.server } })
  try {
    const host = client.bootstrap(capHost.Host)
    const bytes = await guestBytes('wasi-serve-echo', { asyncify: false })
    const p = host.executor().getExecutor().exec((q) => { q.initBytecode().setInline(bytes) }).getProcess()
    const pid = Number((await p.pid()).getSelf().getPid())
    const echo = new testing.Echo.Client(getInterfaceClient(0, await p.bootstrap()))
    const counter = (await echo.counter((q) => q.setStart(0n))).getCounter()
    const hibernated = async (): Promise<boolean> => (await t.ps()).find((r) => r.pid === pid)?.hibernatedBytes !== undefined
    for (let round = 1; round <= 3; round++) {
      while (!(await hibernated())) await new Promise((r) => setTimeout(r, 1)) // on its own, event by event
      expect((await counter.add((q) => q.setN(2n))).getTotal()).toBe(2n * BigInt(round))
    }
  } finally {
    client.close()
    hc.close()
  }
})

// The example a user copies (examples/kv-service, built by the setup): the provider serves
// its store, offered in the registry; a client guest finds it and puts and gets. Between
// clients the provider hibernates, and what the first stored is still there for the next.
test('the kv-service provider hibernates between clients and keeps its store', async () => {
  const built = (name: string): Promise<Uint8Array> => readFile(fileURLToPath(new URL(`../../../examples/kv-service/build/${name}.wasm`, import.meta.url)))
  await using s = new Scheduler({ suspension: 'asyncify' })
  await using cluster = embeddedCluster()
  const [provider, client] = await Promise.all([compileGuest(s, await built('provider')), compileGuest(s, await built('client'))])
  const host = ({ pid }: { pid: number }) => {
    const h = hostCapability(cluster, { processId: pid, rights: { view: true, registry: true } })
    return { server: h.server, close: (why?: string) => h.close(why) }
  }
  const out = new MemorySink()
  const text = (): string => Buffer.concat(out.records.map((r) => r.bytes)).toString()
  const store = spawnGuest(s, provider, { stdout: out, stderr: out, host })
  await until(() => text().includes('providing kv as kv') || store.handle.status !== undefined)
  expect(text()).toContain('providing kv as kv')
  for (let round = 1; round <= 3; round++) {
    await parked(store)
    expect(s.hibernate(store.handle)).toBe(true)
    const said = new MemorySink()
    const c = spawnGuest(s, client, { stdout: said, stderr: said, host })
    expect(await c.wait()).toEqual({ kind: 'exited', code: 0 }) // every answer checked by the client
    // Versions go on from the last client's: the store's Map and counter outlived each hibernation.
    const versions = `versions ${2 * round - 1}, ${2 * round}`
    expect(Buffer.concat(said.records.map((r) => r.bytes)).toString()).toContain(versions)
  }
  expect(store.handle.status).toBeUndefined()
})
