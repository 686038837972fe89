// Anchors across hosts through the cluster root: a value written on B (its own subtree)
// is read, listed and watched from C as `<B>/path`; writes from C land on B; a host that
// leaves fails reads typed and ends watches. The embedded cluster's root, for comparison.
import { embeddedCluster, libp2pCluster, type AnchorEvent, type Libp2pCluster } from '../src/index.js'
import { rig } from './rpc-rig.js'
import { joined, waitFor } from './hosts.js'

const enc = new TextEncoder()
const dec = new TextDecoder()
const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try { await p } catch (e) { return (e as { code?: string }).code ?? String(e) }
  return 'resolved'
}
const text = (v: { kind: string; bytes?: Uint8Array } | undefined): string | undefined => v?.kind === 'bytes' ? dec.decode(v.bytes) : undefined

describe('anchors across libp2p hosts', () => {
  let b: Libp2pCluster
  let c: Libp2pCluster
  beforeAll(async () => {
    b = await libp2pCluster({ ttlMs: 3000 })
    c = await libp2pCluster({ ttlMs: 3000, bootstrap: b.addresses() })
    await joined(c, b)
  })
  afterAll(async () => { await Promise.all([b?.close(), c?.close()]) })

  test('written on B, read and listed from C; written from C, read on B', async () => {
    const mine = b.local.walk('cfg/greeting')
    await mine.store(enc.encode('hello from b'))
    const there = c.anchors.walk(`${b.id}/cfg/greeting`)
    expect(there.path).toBe(`${b.id}/cfg/greeting`)
    expect(text(await there.load())).toBe('hello from b')
    expect(await c.anchors.walk(b.id).ls()).toEqual(['cfg'])
    expect(await c.anchors.walk(`${b.id}/cfg`).walk('greeting').load().then(text)).toBe('hello from b')
    await c.anchors.walk(`${b.id}/cfg/reply`).store(enc.encode('hi from c'))
    const reply = b.local.walk('cfg/reply')
    expect(text(await reply.load())).toBe('hi from c')
    expect(await codeOf(there.readOnly().store(enc.encode('x')))).toBe('ERR_INVALID_ARGUMENT')
    mine.release(); reply.release()
  }, 20_000)

  test('over RPC: a Host whose root is the cluster root gets, sets and compare-and-sets B\'s nodes from C', async () => {
    const r = rig(c, { root: c.anchors })
    try {
      const node = r.host.root().getRoot().walk((q) => q.setPath(`${b.id}/cas/x`)).getAnchor()
      const v1 = (await node.set((q) => q.initValue().setData(enc.encode('one')))).getVersion()
      const got = await node.get()
      expect(dec.decode(got.getValue().getData().toUint8Array())).toBe('one')
      expect(got.getVersion()).toBe(v1)
      const stale = await node.compareAndSet((q) => { q.setExpected(v1 + 5n); q.initValue().setData(enc.encode('nope')) })
      expect(stale.getSwapped()).toBe(false)
      expect(stale.getVersion()).toBe(v1)
      const ok = await node.compareAndSet((q) => { q.setExpected(v1); q.initValue().setData(enc.encode('two')) })
      expect(ok.getSwapped()).toBe(true)
      expect(text(await b.local.walk('cas/x').load())).toBe('two')
    } finally {
      r.client.close(); r.hc.close()
    }
  }, 20_000)

  test('watched from C: every change on B arrives, in order, with values', async () => {
    const events: AnchorEvent[] = []
    const w = c.anchors.walk(`${b.id}/feed`).watch({ handler: (e) => { events.push(e) } })
    await w.ready
    const node = b.local.walk('feed/item')
    for (let i = 0; i < 5; i++) await node.store(enc.encode(`v${i}`))
    await node.clear()
    await waitFor(() => events.length === 6)
    expect(events.map((e) => `${e.path}:${e.kind}:${e.value ? text(e.value) : '-'}`))
      .toEqual(['item:set:v0', 'item:set:v1', 'item:set:v2', 'item:set:v3', 'item:set:v4', 'item:clear:-'])
    w.close()
    node.release()
  }, 20_000)
})

test('a host that leaves: reads fail ERR_HOST_UNREACHABLE, watches end', async () => {
  const b = await libp2pCluster({ ttlMs: 3000 })
  const c = await libp2pCluster({ ttlMs: 3000, bootstrap: b.addresses() })
  try {
    await joined(c, b)
    const there = c.anchors.walk(`${b.id}/x`)
    const w = there.watch()
    await w.ready
    const it = w[Symbol.asyncIterator]()
    const ended = it.next()
    await b.close()
    expect((await ended).done).toBe(true)
    await waitFor(() => c.view.get(b.id) === undefined)
    expect(await codeOf(c.anchors.walk(`${b.id}/x`).load())).toBe('ERR_NOT_FOUND')
    expect(await codeOf(there.load({ timeoutMs: 2000 }))).toBe('ERR_HOST_UNREACHABLE')
  } finally {
    await Promise.all([b.close(), c.close()])
  }
}, 20_000)

test('embedded: the cluster root names the one host; its subtree reads and watches locally', async () => {
  const e = embeddedCluster({ id: 'solo' })
  const events: AnchorEvent[] = []
  const w = e.anchors.walk('solo/feed').watch({ handler: (ev) => { events.push(ev) } })
  await w.ready
  await e.local.walk('feed/a').store(enc.encode('1'))
  expect(await e.anchors.ls()).toEqual(['solo'])
  expect(text(await e.anchors.walk('solo/feed/a').load())).toBe('1')
  await waitFor(() => events.length === 1)
  expect(events[0]!.path).toBe('a')
  expect(await codeOf(e.anchors.walk('other-host/x').load())).toBe('ERR_NOT_FOUND')
  w.close()
  await e.close()
})
