// Hibernating guests that serve (wasi-serve-echo, composed by spawnGuest: restricted WASI,
// transport, Host capability), on one scheduler, asyncify:
// - transport.guest-serves.hibernated-call: a call on a Counter the guest serves, the guest
//   hibernated before each call (so the call pays the wake: a new instance, the memory
//   written back, the rewind), vs the same call on the same guest awake, interleaved. The
//   hibernation itself is done before the timer starts.
// - proc.serve-idle-memory: RSS per idle serving guest, hibernated vs awake (N guests).

import { embeddedCluster, hostCapability } from '@ww/host'
import { median, report } from '@ww/bench-kit'
import { guestBytes } from '@ww/guest'
import { testing } from '@ww/schema'
import { compileGuest, Scheduler, spawnGuest, type GuestProcess, type ProcModule } from '../index.js'

type Cluster = ReturnType<typeof embeddedCluster>

async function serving(s: Scheduler, mod: ProcModule, cluster: Cluster): Promise<{ g: GuestProcess; counter: testing.Counter.Client }> {
  const g = spawnGuest(s, mod, { host: ({ pid }) => hostCapability(cluster, { processId: pid, rights: { view: true } }) })
  const echo = g.connection!.rpc.bootstrap(testing.Echo)
  const counter = (await echo.counter((p) => p.setStart(0n))).getCounter()
  return { g, counter }
}

async function parked(gs: readonly GuestProcess[]): Promise<void> {
  while (gs.some((g) => g.handle.state !== 'waiting')) await new Promise((r) => setImmediate(r))
}

/** ns per call over `n` calls, each made with the guest hibernated first (or not). */
async function calls(s: Scheduler, g: GuestProcess, counter: testing.Counter.Client, n: number, hibernated: boolean): Promise<number> {
  let ns = 0n
  for (let i = 0; i < n; i++) {
    await parked([g])
    if (hibernated && !s.hibernate(g.handle)) throw new Error('the serving guest did not hibernate')
    const t0 = process.hrtime.bigint()
    await counter.add((p) => p.setN(1n))
    ns += process.hrtime.bigint() - t0
  }
  return Number(ns) / n
}

/** RSS once what was dropped is collected (a few turns: wasm memories are freed after the GC). */
async function rss(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r))
    globalThis.gc?.()
  }
  return process.memoryUsage().rss
}

export async function benchHibernateServe(iterations = 200, runs = 7): Promise<void> {
  await using s = new Scheduler({ suspension: 'asyncify', maxProcesses: 1000 })
  await using cluster = embeddedCluster()
  const mod = await compileGuest(s, await guestBytes('wasi-serve-echo', { asyncify: false }))
  const { g, counter } = await serving(s, mod, cluster)
  const hib: number[] = []
  const awake: number[] = []
  for (let r = 0; r < runs + 2; r++) {
    const h = await calls(s, g, counter, iterations, true)
    const a = await calls(s, g, counter, iterations, false)
    if (r >= 2) { hib.push(h); awake.push(a) } // two warm-up rounds
  }
  await parked([g])
  const awakeBytes = g.info().memoryBytes
  s.hibernate(g.handle)
  const snapshotBytes = g.info().hibernatedBytes ?? 0
  report({
    name: 'transport.guest-serves.hibernated-call', unit: 'ns/op', samples: hib,
    baseline: { name: 'the same call, the guest awake (parked in ww.recv)', samples: awake },
    params: {
      iterations, guest: 'wasi-serve-echo (spawnGuest: WASI + transport + Host), Counter.add', suspension: 'asyncify',
      wakeCostNs: Math.round(median(hib) - median(awake)), linearMemoryBytes: awakeBytes, hibernatedBytes: snapshotBytes,
    },
  })
  await g.kill()
  await idleMemory(s, mod, cluster)
}

async function idleMemory(s: Scheduler, mod: ProcModule, cluster: Cluster, n = 500, runs = 3): Promise<void> {
  const hibernated: number[] = []
  const awake: number[] = []
  let snapshot = 0
  let linear = 0
  for (let r = 0; r < runs; r++) {
    const before = await rss()
    const gs: GuestProcess[] = []
    for (let i = 0; i < n; i++) gs.push((await serving(s, mod, cluster)).g)
    await parked(gs)
    const up = await rss()
    linear = gs[0]!.info().memoryBytes
    for (const g of gs) if (!s.hibernate(g.handle)) throw new Error('a serving guest did not hibernate')
    const down = await rss()
    awake.push((up - before) / n)
    hibernated.push((down - before) / n)
    snapshot = gs.reduce((t, g) => t + (g.info().hibernatedBytes ?? 0), 0) / n
    await Promise.all(gs.map((g) => g.kill()))
  }
  report({
    name: 'proc.serve-idle-memory', unit: 'bytes/guest (RSS)', samples: hibernated,
    baseline: { name: 'the same guests awake (parked in ww.recv)', samples: awake },
    params: {
      guests: n, guest: 'wasi-serve-echo after one call (Counter made), spawnGuest parts', hibernatedBytesPerGuest: Math.round(snapshot), linearMemoryBytesAwake: linear,
      note: 'RSS counts the JS side too (process record, transport, WASI, Host capability), which stays; linear memory vs hibernatedBytes is the guest state itself',
    },
  })
}
