// Released is cancelled (schemas/README.md): a peer dropping its last reference to a
// Subscription, watch Handle, Topic, Anchor or Provision frees the core handle behind it,
// without cancel or close.
import { Struct, setInterfaceClient } from 'capnp-ts'
import { anchor as capAnchor, cluster as capCluster, pubsub as capPubsub, testing } from '@ww/schema'
import { embeddedCluster, type Cluster } from '../src/index.js'
import { enc, rig, tick, type Rig } from './rpc-rig.js'

async function until(f: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !f(); i++) await tick()
}

describe('releasing a capability over RPC frees its core handle', () => {
  let c: Cluster
  let r: Rig
  beforeEach(() => { c = embeddedCluster({ id: 'host-a' }); r = rig(c, { rights: { root: true, registry: true } }) })
  afterEach(async () => { r.client.close(); r.hc.close(); await c.close() })

  test('a released Subscription unsubscribes', async () => {
    const topic = (await r.host.pubSub().getPubSub().join((p) => p.setName('news'))).getTopic()
    const got: string[] = []
    const done: string[] = []
    const handler = new capPubsub.Subscriber.Server({
      deliver(p) { const l = p.getMessages(); for (let i = 0; i < l.getLength(); i++) got.push(new TextDecoder().decode(l.get(i).getData().toUint8Array())) },
      done(p) { done.push(p.getReason()) },
    })
    const sub = (await topic.subscribe((p) => p.setHandler(handler))).getSubscription()
    await topic.publish((p) => p.setMsg(enc.encode('before')))
    await until(() => got.length === 1)
    expect(r.hc.live().subscriptions).toBe(1)
    expect(c.pubsub.stats().subscriptions).toBe(1)
    sub.dispose()
    await until(() => r.hc.live().subscriptions === 0)
    expect(r.hc.live().subscriptions).toBe(0)
    expect(c.pubsub.stats().subscriptions).toBe(0)
    await topic.publish((p) => p.setMsg(enc.encode('after')))
    await tick(); await tick()
    expect(got).toEqual(['before'])
    expect(done).toEqual([])
    expect(r.hc.live().topics).toBe(1) // the topic itself is still held
  })

  test('a released Topic frees its handle; joining again makes a new one', async () => {
    const ps = r.host.pubSub().getPubSub()
    const t1 = (await ps.join((p) => p.setName('t'))).getTopic()
    expect(r.hc.live().topics).toBe(1)
    expect(c.pubsub.stats().topics).toBe(1)
    t1.dispose()
    await until(() => r.hc.live().topics === 0)
    expect(r.hc.live().topics).toBe(0)
    expect(c.pubsub.stats().topics).toBe(0)
    const t3 = (await ps.join((p) => p.setName('t'))).getTopic()
    expect(r.hc.live().topics).toBe(1)
    await t3.publish((p) => p.setMsg(enc.encode('works')))
    expect((await t3.name()).getName()).toBe('t')
  })

  test('released watch Handles stop anchor and view watches', async () => {
    const root = (await r.host.root()).getRoot()
    const watcher = new capAnchor.Watcher.Server({ changed() {}, done() {} })
    const h = (await root.watch((p) => { p.setWatcher(watcher); p.setSubtree(true) })).getHandle()
    const handler = new capCluster.MembershipHandler.Server({ events() {}, done() {} })
    const vh = (await r.host.view().getView().watch((p) => { p.setHandler(handler); p.setReplay(false) })).getHandle()
    expect(r.hc.live().watches).toBe(2)
    h.dispose()
    await until(() => r.hc.live().watches === 1)
    expect(r.hc.live().watches).toBe(1)
    vh.dispose()
    await until(() => r.hc.live().watches === 0)
    expect(r.hc.live().watches).toBe(0)
  })

  test('released Anchors free their handles; root() then serves a new one', async () => {
    const base = r.hc.live().anchors // the Host's own root handle
    const root = (await r.host.root()).getRoot()
    const child = (await root.walk((p) => p.setPath('a/b'))).getAnchor()
    await child.set((p) => p.initValue().setData(enc.encode('v')))
    expect(r.hc.live().anchors).toBe(base + 2)
    child.dispose()
    await until(() => r.hc.live().anchors === base + 1)
    expect(r.hc.live().anchors).toBe(base + 1)
    root.dispose()
    await until(() => r.hc.live().anchors === base)
    expect(r.hc.live().anchors).toBe(base)
    const again = (await r.host.root()).getRoot()
    expect((await again.walk((p) => p.setPath('a/b')).getAnchor().get()).getValue().getData().toUint8Array()).toEqual(enc.encode('v'))
  })

  test('a released Provision withdraws the service', async () => {
    const registry = r.host.registry().getRegistry()
    const service = new testing.Echo.Server({ ping() {}, echo() {}, counter() {} })
    const prov = (await registry.provide((p) => { p.setName('svc'); setInterfaceClient(1, service, p) })).getProvision()
    expect(r.hc.live().provisions).toBe(1)
    expect((await registry.find((p) => { p.setName('svc'); p.setLimit(1) })).getProviders().getLength()).toBe(1)
    prov.dispose()
    await until(() => r.hc.live().provisions === 0)
    expect(r.hc.live().provisions).toBe(0)
    expect((await registry.find((p) => { p.setName('svc'); p.setLimit(1); p.setWaitMs(30) })).getProviders().getLength()).toBe(0)
  })

  test('a capability of ours stored in an anchor stays alive after the peer releases it', async () => {
    const topic = (await r.host.pubSub().getPubSub().join((p) => p.setName('kept'))).getTopic()
    const node = (await r.host.root()).getRoot().walk((p) => p.setPath('svc/topic')).getAnchor()
    // The peer hands the Topic back (receiverHosted): the anchor stores our own server.
    await node.set((p) => { const v = p.initValue(); Struct.setUint16(0, capAnchor.Value_Which.CAP, v); setInterfaceClient(0, topic, v) })
    topic.dispose()
    await tick(); await tick()
    expect(r.hc.live().topics).toBe(1)
    await node.set((p) => p.initValue().setNone())
    await until(() => r.hc.live().topics === 0)
    expect(r.hc.live().topics).toBe(0)
  })
})
