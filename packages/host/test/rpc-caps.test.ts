// Capability hygiene over RPC: Host.attenuate narrows (never widens), revocation cuts off
// everything obtained through the narrowed Host (calls in flight too), and closing a Host
// (its process exiting) frees every core handle it handed out — checked by count.
import { pubsub as capPubsub } from '@ww/schema'
import type { RemoteError } from '@ww/transport'
import { embeddedCluster, type Cluster } from '../src/index.js'
import { codeOf, dec, enc, rig, tick, type Rig } from './rpc-rig.js'

async function until(f: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !f(); i++) await tick()
}

describe('attenuation, revocation and release over RPC', () => {
  let c: Cluster
  let r: Rig
  beforeEach(() => { c = embeddedCluster({ id: 'host-a' }); r = rig(c) })
  afterEach(async () => { r.client.close(); r.hc.close(); await c.close() })

  test('attenuate narrows rights, refuses to widen, and its revoker cuts off what came through it', async () => {
    const att = await r.host.attenuate((p) => { p.initRights().setView(true) })
    const narrow = att.getHost()
    const rights = (await narrow.rights()).getRights()
    expect([rights.getView(), rights.getPubSub(), rights.getRoot()]).toEqual([true, false, false])
    expect(await codeOf(narrow.root())).toBe('ERR_CAP_DENIED')
    expect(await codeOf(narrow.pubSub())).toBe('ERR_CAP_DENIED')
    // Asking for a right this Host lacks is refused, not silently dropped.
    expect(await codeOf(narrow.attenuate((p) => { const q = p.initRights(); q.setView(true); q.setRoot(true) }))).toBe('ERR_CAP_DENIED')
    expect(await codeOf(r.host.attenuate((p) => { p.initRights().setDebug(true) }))).toBe('ERR_CAP_DENIED')
    const view = narrow.view().getView()
    expect((await view.self()).getHost().getId()).toBe('host-a')
    await att.getRevoker().revoke((p) => p.setReason('handed back'))
    const e = await narrow.info().then(() => null, (x: unknown) => x)
    expect((e as RemoteError).reason).toMatch(/^ERR_REVOKED: host: handed back/)
    expect(await codeOf(view.self())).toBe('ERR_REVOKED')
    // The Host it was made from is untouched.
    expect((await r.host.info()).getInfo().getId()).toBe('host-a')
  })

  test('an override counts as granted: a child Host rooted at a read-only subtree', async () => {
    const root = r.host.root().getRoot()
    await root.walk((p) => p.setPath('apps/foo/cfg')).getAnchor().set((p) => p.initValue().setData(enc.encode('v')))
    const sub = root.walk((p) => p.setPath('apps/foo')).getAnchor()
    const ro = sub.readOnly().getAnchor()
    const att = await r.host.attenuate((p) => { p.initRights().setRoot(true); p.initOverrides().setRoot(ro) })
    const childRoot = att.getHost().root().getRoot()
    expect((await childRoot.path()).getPath()).toBe('/apps/foo')
    const cfg = childRoot.walk((p) => p.setPath('cfg')).getAnchor()
    expect(dec.decode((await cfg.get()).getValue().getData().toUint8Array())).toBe('v')
    expect(await codeOf(cfg.set((p) => p.initValue().setNone()))).toBe('ERR_CAP_DENIED')
  })

  test('a call in flight fails with ERR_REVOKED when its Host is revoked', async () => {
    // A `block` subscriber that never returns: the third publish waits for room.
    let hold!: () => void
    const stuck = new Promise<void>((res) => { hold = res })
    const handler = new capPubsub.Subscriber.Server({ deliver: () => stuck, done() {} })
    await r.host.pubSub().getPubSub().join((p) => p.setName('slow')).getTopic()
      .subscribe((p) => { p.setHandler(handler); p.initOptions().setBufferSize(1) })
    const att = await r.host.attenuate((p) => { p.initRights().setPubSub(true) })
    const t = att.getHost().pubSub().getPubSub().join((p) => p.setName('slow')).getTopic()
    await t.publish((p) => p.setMsg(enc.encode('1'))) // taken by the stuck deliver
    await tick()
    await t.publish((p) => p.setMsg(enc.encode('2'))) // fills the queue of 1
    let settled = false
    const third = codeOf(t.publish((p) => p.setMsg(enc.encode('3')))).finally(() => { settled = true })
    await tick(); await tick()
    expect(settled).toBe(false)
    await att.getRevoker().revoke((p) => p.setReason('stop'))
    expect(await third).toBe('ERR_REVOKED')
    hold()
  })

  test('closing the Host (process exit) revokes everything and frees every core handle', async () => {
    const baseTopics = c.pubsub.stats().topics
    const root = r.host.root().getRoot()
    const a = root.walk((p) => p.setPath('tmp/a')).getAnchor()
    await a.set((p) => p.initValue().setNone())
    const watcher = { changed() {}, done() {} }
    const { anchor: capAnchor } = await import('@ww/schema')
    await root.watch((p) => { p.setWatcher(new capAnchor.Watcher.Server(watcher)); p.setSubtree(true) })
    const topic = r.host.pubSub().getPubSub().join((p) => p.setName('bye')).getTopic()
    const done: string[] = []
    const sub = new capPubsub.Subscriber.Server({ deliver() {}, done(p) { done.push(p.getReason()) } })
    await topic.subscribe((p) => p.setHandler(sub))
    await topic.publishOnly()
    const live = r.hc.live()
    expect(live).toEqual({ anchors: 3, topics: 2, subscriptions: 1, watches: 1, provisions: 0 })
    expect(c.pubsub.stats()).toMatchObject({ topics: baseTopics + 1, subscriptions: 1 })
    r.hc.close('process exited')
    expect(r.hc.live()).toEqual({ anchors: 0, topics: 0, subscriptions: 0, watches: 0, provisions: 0 })
    expect(c.pubsub.stats()).toMatchObject({ topics: baseTopics, subscriptions: 0 })
    // Nodes nobody holds and that hold nothing are gone from the core tree.
    expect((await c.local.ls())).toEqual([])
    await until(() => done.length === 1)
    expect(done).toEqual(['ERR_REVOKED: process exited'])
    expect(await codeOf(a.get())).toBe('ERR_REVOKED')
    expect(await codeOf(r.host.info())).toBe('ERR_REVOKED')
  })

  test('the same capability on every call: joining again costs no new core handle', async () => {
    const ps = r.host.pubSub().getPubSub()
    for (let i = 0; i < 5; i++) await ps.join((p) => p.setName('same')).getTopic().name()
    expect(r.hc.live().topics).toBe(1)
    await r.host.view().getView().self()
    await r.host.view().getView().self()
    // Host, PubSub, one Topic, View: one export each, however often they were asked for.
    expect(r.server.stats.exports).toBe(4)
  })
})
