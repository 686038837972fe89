// A guest spawned through the host's Executor onto procRuntime gets the Host its spawner
// asked for (childHostCapability): here `overrides.root` set to a read-only subtree, so
// wasi-hello-host's anchor write fails ERR_CAP_DENIED while the same guest without the
// override writes. Real RPC from the spawner, a real AssemblyScript guest on the scheduler
// and on a worker pool.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dialerProvider, executorProvider, hostCapability } from '@ww/host'
import { guestBytes } from '@ww/guest'
import { host as capHost, type process as capProcess } from '@ww/schema'
import { createPair } from '@ww/transport'
import { execOver, guestTree } from './guest-tree.js'

test.each(['thread', 'pool'] as const)('on the %s: a composed guest gets its spawner\'s overrides — a read-only root makes its write ERR_CAP_DENIED', async (on) => {
  await using g = await guestTree(on)
  const hc = hostCapability(g.cluster, { processId: 0, rights: { root: true }, executor: executorProvider(g.tree) })
  const [client] = createPair({ frames: true, b: { bootstrap: hc.server } })
  const host = client.bootstrap(capHost.Host)
  const bytes = await guestBytes('wasi-hello-host', { asyncify: false })
  try {
    const ro = (await host.root().getRoot().readOnly()).getAnchor()
    const [denied, deniedOut] = await execOver(g, host, bytes, (o) => { o.initRights().setView(true); o.initOverrides().setRoot(ro) })
    expect(denied).toBe(1)
    expect(deniedOut).toMatch(/anchor\.set failed: ERR_CAP_DENIED/)
    expect(await g.cluster.local.walk('demo/greeting').load()).toBeUndefined()

    const [wrote, wroteOut] = await execOver(g, host, bytes, (o) => { const w = o.initRights(); w.setView(true); w.setRoot(true); w.setPubSub(true) })
    expect(wrote).toBe(0)
    expect(wroteOut).toContain('read it back: "hello, anchors"')
  } finally {
    client.close()
    hc.close()
  }
})

test('a guest reads its args from its BootContext and dials out only through the Dialer its spawner delegated (overrides.dialer)', async () => {
  const site = createServer((req, res) => { res.end(`hello from ${req.url}`) })
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r))
  const addr = `127.0.0.1:${(site.address() as AddressInfo).port}`
  await using g = await guestTree('thread')
  // The spawner may dial `addr` only; it passes that Dialer on. Its child has no dialer of its own.
  const hc = hostCapability(g.cluster, { processId: 0, rights: { view: true }, executor: executorProvider(g.tree), dialer: dialerProvider([addr]) })
  const [client] = createPair({ frames: true, b: { bootstrap: hc.server } })
  const host = client.bootstrap(capHost.Host)
  const bytes = await guestBytes('wasi-http-get', { asyncify: false })
  const run = (fill: (o: capProcess.ExecOptions) => void): Promise<[number, string]> => execOver(g, host, bytes, fill)
  try {
    const dialer = host.dialer().getDialer()
    expect(await run((o) => { o.setArgs(Buffer.from(`${addr}/delegated`)); o.initOverrides().setDialer(dialer) })).toEqual([0, 'hello from /delegated'])
    const [code, text] = await run((o) => { o.setArgs(Buffer.from(`${addr}/mine`)) })
    expect(code).toBe(1) // no dialer of its own
    expect(text).toMatch(/ERR_CAP_DENIED/)
  } finally {
    client.close()
    hc.close()
    await new Promise((r) => site.close(r))
  }
})
