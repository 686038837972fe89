// Debug.ps over real frames with the embedder's `processStats` hook: each local process's
// row carries what the hook says (CPU, memory, frames, fuel, worker, denials per function),
// a process the hook does not know reads as zeros, and a child on another host — whose pid
// may equal a local one — never gets this runtime's stats.
import { process as capProcess } from '@ww/schema'
import {
  debugProvider, embeddedCluster, executorProvider, hostProcessTree, libp2pCluster, ProcessTree,
  type Cluster, type Libp2pCluster, type ProcessStats,
} from '../src/index.js'
import { tinyModule, tinyRuntime } from '../src/exec/tiny-runtime.js'
import { rig, type Rig } from './rpc-rig.js'

const PARK = tinyModule({ park: true })

function park(ex: capProcess.Executor$Client, name: string, where = ''): capProcess.Process$Client {
  return ex.exec((p) => { p.initBytecode().setInline(PARK); const o = p.initOptions(); o.setName(name); if (where) o.setWhere(where) }).getProcess()
}

const rowOf = (i: capProcess.ProcessInfo) => ({
  host: i.getSelf().getHost(), pid: Number(i.getSelf().getPid()), name: i.getName(),
  cpuTimeNs: i.getCpuTimeNs(), memoryBytes: i.getMemoryBytes(), messagesIn: i.getMessagesIn(), messagesOut: i.getMessagesOut(),
  fuel: i.getFuel(), worker: i.getWorker(),
  denials: i.getDenials().toArray().map((d) => [d.getSyscall(), d.getCount()]),
})

describe('Debug.ps with processStats', () => {
  let c: Cluster
  let tree: ProcessTree
  let r: Rig
  const stats = new Map<number, ProcessStats>()
  const asked: number[] = []
  beforeEach(() => {
    c = embeddedCluster({ id: 'host-d' })
    tree = new ProcessTree({ runtime: tinyRuntime(), cache: c.cache, host: c.id })
    const debug = debugProvider({ cluster: c, tree, processStats: (pid) => { asked.push(pid); return stats.get(pid) } })
    r = rig(c, { processId: 0, rights: { executor: true, debug: true }, executor: executorProvider(tree), debug })
  })
  afterEach(async () => {
    r.client.close(); r.hc.close()
    stats.clear(); asked.length = 0
    await tree.close()
    await c.close()
  })

  test('each row carries the hook\'s stats; one the hook does not know reads as zeros, worker -1', async () => {
    const ex = r.host.executor().getExecutor()
    const a = Number((await park(ex, 'spinner').pid()).getSelf().getPid())
    const b = Number((await park(ex, 'idle').pid()).getSelf().getPid())
    stats.set(a, {
      cpuTimeNs: 12_345_678, memoryBytes: 131_072, messagesIn: 5, messagesOut: 7, fuel: 2n ** 40n, worker: 1,
      // A zero count is not a denial; the rest come back sorted by name.
      denials: { path_open: 3, fd_write: 0, environ_get: 1 },
    })
    const ps = (await r.host.debug().getDebug().ps()).getProcesses().toArray().map(rowOf)
    expect(ps).toEqual([
      {
        host: 'host-d', pid: a, name: 'spinner', cpuTimeNs: 12_345_678n, memoryBytes: 131_072n, messagesIn: 5n, messagesOut: 7n,
        fuel: 2n ** 40n, worker: 1, denials: [['environ_get', 1n], ['path_open', 3n]],
      },
      { host: 'host-d', pid: b, name: 'idle', cpuTimeNs: 0n, memoryBytes: 0n, messagesIn: 0n, messagesOut: 0n, fuel: 0n, worker: -1, denials: [] },
    ])
    expect(asked.sort()).toEqual([a, b].sort())
  })

  test('the stats are read on each call (live), and bad numbers are clamped rather than sent', async () => {
    const ex = r.host.executor().getExecutor()
    const a = Number((await park(ex, 'p').pid()).getSelf().getPid())
    const dbg = r.host.debug().getDebug()
    stats.set(a, { fuel: 10, cpuTimeNs: 1.9 })
    const first = rowOf((await dbg.ps()).getProcesses().get(0))
    stats.set(a, { fuel: 250, cpuTimeNs: -5, memoryBytes: Number.NaN, worker: -3 })
    const later = rowOf((await dbg.ps()).getProcesses().get(0))
    expect([first.fuel, first.cpuTimeNs]).toEqual([10n, 1n])
    expect([later.fuel, later.cpuTimeNs, later.memoryBytes, later.worker]).toEqual([250n, 0n, 0n, -1])
  })

  test('without a hook Debug.ps still lists every process, counters zero', async () => {
    const plain = rig(c, { processId: 0, rights: { executor: true, debug: true }, executor: executorProvider(tree), debug: debugProvider({ cluster: c, tree }) })
    try {
      await park(plain.host.executor().getExecutor(), 'bare').pid()
      const [row] = (await plain.host.debug().getDebug().ps()).getProcesses().toArray().map(rowOf)
      expect(row).toMatchObject({ name: 'bare', cpuTimeNs: 0n, fuel: 0n, worker: -1, denials: [] })
    } finally {
      plain.client.close(); plain.hc.close()
    }
  })
})

describe('Debug.ps with processStats and a child on another host', () => {
  let a: Libp2pCluster
  let b: Libp2pCluster
  let ta: ProcessTree
  let tb: ProcessTree
  beforeAll(async () => {
    a = await libp2pCluster({ ttlMs: 3000 })
    b = await libp2pCluster({ ttlMs: 3000, bootstrap: a.addresses() })
    ta = hostProcessTree(a, tinyRuntime())
    tb = hostProcessTree(b, tinyRuntime())
    const end = Date.now() + 10_000
    while (a.view.get(b.id) === undefined || b.view.get(a.id) === undefined) {
      if (Date.now() > end) throw new Error('the two hosts never saw each other')
      await new Promise((res) => setTimeout(res, 5))
    }
  })
  afterAll(async () => {
    await Promise.all([ta?.close(), tb?.close()])
    await Promise.all([a?.close(), b?.close()])
  })

  test('the remote child shares a local pid, yet only the local process gets the stats', async () => {
    const asked: number[] = []
    const debug = debugProvider({ cluster: a, tree: ta, processStats: (pid) => { asked.push(pid); return { fuel: 99, worker: 0 } } })
    const r = rig(a, { processId: 0, rights: { executor: true, debug: true }, executor: executorProvider(ta), debug })
    try {
      const ex = r.host.executor().getExecutor()
      const here = (await park(ex, 'here').pid()).getSelf()
      const there = (await park(ex, 'there', b.id).pid()).getSelf()
      // Both hosts' first process: the pid alone would not tell them apart.
      expect(there.getPid()).toBe(here.getPid())
      const ps = (await r.host.debug().getDebug().ps()).getProcesses().toArray().map(rowOf)
      expect(ps.map((p) => [p.host === a.id ? 'A' : p.host === b.id ? 'B' : p.host, p.name, p.fuel, p.worker]).sort()).toEqual([
        ['A', 'here', 99n, 0],
        ['B', 'there', 0n, -1],
      ])
      expect(asked).toEqual([Number(here.getPid())])
    } finally {
      r.client.close(); r.hc.close()
    }
  }, 20_000)
})
