// Two libp2p hosts in this process: registry across hosts, anchors forwarding refused
// with a typed error until host-to-host RPC is configured, clean close.
import { libp2pCluster, type Libp2pCluster } from '../src/index.js'

describe('libp2p cluster (in process)', () => {
  let a: Libp2pCluster, b: Libp2pCluster
  beforeAll(async () => {
    a = await libp2pCluster({ ttlMs: 2000 })
    b = await libp2pCluster({ ttlMs: 2000, bootstrap: a.addresses() })
    await new Promise<void>((resolve) => {
      const w = a.view.watch({ current: true, handler: (e) => { if (e.type === 'join' && e.host.id === b.id) { w.close(); resolve() } } })
    })
  })
  afterAll(async () => { await Promise.all([a?.close(), b?.close()]) })

  // Pins a bug: waitForPeers resolved on the remote's subscription alone, before our own
  // gossipsub stream to it was open, and the first message was silently not sent.
  test('the first message after waitForPeers arrives', async () => {
    const inbox = b.pubsub.join('first').subscribe({ capacity: 4 })
    const out = a.pubsub.join('first')
    await out.waitForPeers(1, { timeoutMs: 10_000 })
    await out.publish(new TextEncoder().encode('one'))
    const m = await inbox[Symbol.asyncIterator]().next()
    expect([m.value.from, m.value.seq, new TextDecoder().decode(m.value.data)]).toEqual([a.id, 1, 'one'])
    inbox.close()
    out.release()
  })

  test('find a provider on another host', async () => {
    const p = a.registry.provide('echo', {}, { ttlMs: 5000 })
    const found = await b.registry.findProviders('echo', { min: 1, timeoutMs: 10_000 })
    expect(found).toEqual([expect.objectContaining({ host: a.id, id: p.id })])
    p.release()
  })

  test('view, and a walk into another host is forwarded to it (an empty node reads as nothing)', async () => {
    expect(b.view.get(a.id)?.addresses.length).toBeGreaterThan(0)
    expect((await a.anchors.ls()).sort()).toEqual([a.id, b.id].sort())
    await expect(a.anchors.walk(`${b.id}/x`).load()).resolves.toBeUndefined()
  })

  test('a graceful close is seen as "bye"', async () => {
    const c = await libp2pCluster({ ttlMs: 2000, bootstrap: a.addresses() })
    const left = new Promise((resolve) => {
      a.view.watch({ handler: (e) => { if (e.type === 'leave' && e.host.id === c.id) resolve(e.reason) } })
    })
    await new Promise<void>((resolve) => {
      const w = a.view.watch({ current: true, handler: (e) => { if (e.type === 'join' && e.host.id === c.id) { w.close(); resolve() } } })
    })
    await c.close()
    expect(['bye', 'disconnect']).toContain(await left)
  })
})
