// A guest spawned through the host's Executor onto procRuntime gets the Host its spawner
// asked for (childHostCapability): here `overrides.root` set to a read-only subtree, so
// wasi-hello-host's anchor write fails ERR_CAP_DENIED while the same guest without the
// override writes. Real RPC from the spawner, a real AssemblyScript guest on the scheduler
// and on a worker pool.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { childHostCapability, dialerProvider, embeddedCluster, executorProvider, hostCapability, ProcessTree, type StartSpec } from '@ww/host'
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

test('a guest reads its args from its BootContext and dials out only through the Dialer its spawner delegated (overrides.dialer)', async () => {
  const site = createServer((req, res) => { res.end(`hello from ${req.url}`) })
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r))
  const addr = `127.0.0.1:${(site.address() as AddressInfo).port}`
  await using s = new Scheduler()
  await using cluster = embeddedCluster()
  const out = new Map<number, MemorySink>()
  const runtime = procRuntime(s, {
    guest: (spec) => {
      const stdout = new MemorySink()
      out.set(spec.pid, stdout)
      // No dialer of its own: only what its spawner hands it.
      return { stdout, stderr: stdout, host: () => childHostCapability(cluster, spec) }
    },
  })
  const tree = new ProcessTree({ runtime, cache: cluster.cache, host: cluster.id })
  // The spawner may dial `addr` only; it passes that Dialer on.
  const hc = hostCapability(cluster, { processId: 0, rights: { view: true }, executor: executorProvider(tree), dialer: dialerProvider([addr]) })
  const [client] = createPair({ frames: true, b: { bootstrap: hc.server } })
  const host = client.bootstrap(capHost.Host)
  const bytes = await guestBytes('wasi-http-get', { asyncify: false })
  const run = async (fill: (o: capProcess.ExecOptions) => void): Promise<[number, string]> => {
    const p = host.executor().getExecutor().exec((q) => { q.initBytecode().setInline(bytes); fill(q.initOptions()) }).getProcess()
    const pid = Number((await p.pid()).getSelf().getPid())
    const st = (await p.wait()).getStatus()
    return [st.isExited() ? st.getExited() : -1, Buffer.concat(out.get(pid)!.records.map((r) => r.bytes)).toString()]
  }
  try {
    const dialer = host.dialer().getDialer()
    expect(await run((o) => { o.setArgs(Buffer.from(`${addr}/delegated`)); o.initOverrides().setDialer(dialer) })).toEqual([0, 'hello from /delegated'])
    const [code, text] = await run((o) => { o.setArgs(Buffer.from(`${addr}/mine`)) })
    expect(code).toBe(1) // no dialer of its own
    expect(text).toMatch(/ERR_CAP_DENIED/)
  } finally {
    client.close()
    hc.close()
    await tree.close()
    await new Promise((r) => site.close(r))
  }
})
