// A guest spawned through the host's Executor onto procRuntime gets the Host its spawner
// asked for (childHostCapability): here `overrides.root` set to a read-only subtree, so
// wasi-hello-host's anchor write fails ERR_CAP_DENIED while the same guest without the
// override writes. Real RPC from the spawner, a real AssemblyScript guest on the scheduler
// and on a worker pool.
import { childHostCapability, embeddedCluster, executorProvider, hostCapability, ProcessTree, type StartSpec } from '@ww/host'
import { guestBytes } from '@ww/guest'
import { host as capHost, type process as capProcess } from '@ww/schema'
import { createPair } from '@ww/transport'
import { MemorySink } from '@ww/wasi-restricted'
import { poolRuntime, procRuntime, Scheduler, WorkerPool } from '../src/index.js'

test.each(['procRuntime', 'poolRuntime (guest on a worker, its Host on the main thread)'])('%s: a composed guest gets its spawner\'s overrides — a read-only root makes its write ERR_CAP_DENIED', async (which) => {
  await using s = new Scheduler()
  await using pool = which === 'procRuntime' ? undefined : await WorkerPool.start({ workers: 1 })
  await using cluster = embeddedCluster()
  const out = new Map<number, MemorySink>()
  const guest = (spec: StartSpec) => {
    const stdout = new MemorySink()
    out.set(spec.pid, stdout)
    return { stdout, host: () => childHostCapability(cluster, spec) }
  }
  const runtime = pool ? poolRuntime(pool, { guest }) : procRuntime(s, { guest })
  const tree = new ProcessTree({ runtime, cache: cluster.cache, host: cluster.id })
  const hc = hostCapability(cluster, { processId: 0, rights: { root: true }, executor: executorProvider(tree) })
  const [client] = createPair({ frames: true, b: { bootstrap: hc.server } })
  const host = client.bootstrap(capHost.Host)
  const bytes = await guestBytes('wasi-hello-host', { asyncify: false })
  const run = async (fill: (o: capProcess.ExecOptions) => void): Promise<[number, string]> => {
    const p = host.executor().getExecutor().exec((q) => { q.initBytecode().setInline(bytes); fill(q.initOptions()) }).getProcess()
    const pid = Number((await p.pid()).getSelf().getPid())
    const st = (await p.wait()).getStatus()
    const text = Buffer.concat(out.get(pid)!.records.map((r) => r.bytes)).toString()
    return [st.isExited() ? st.getExited() : -1, text]
  }

  const ro = (await host.root().getRoot().readOnly()).getAnchor()
  const [denied, deniedOut] = await run((o) => { o.initRights().setView(true); o.initOverrides().setRoot(ro) })
  expect(denied).toBe(1)
  expect(deniedOut).toMatch(/anchor\.set failed: ERR_CAP_DENIED/)
  expect(await cluster.local.walk('demo/greeting').load()).toBeUndefined()

  const [wrote, wroteOut] = await run((o) => { const w = o.initRights(); w.setView(true); w.setRoot(true); w.setPubSub(true) })
  expect(wrote).toBe(0)
  expect(wroteOut).toContain('read it back: "hello, anchors"')
  client.close()
  hc.close()
  await tree.close()
})
