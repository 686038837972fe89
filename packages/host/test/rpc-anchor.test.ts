// Anchors over RPC: walk, set/get with real versions, compareAndSet, watch, read-only.
import { Struct, getInterfaceClient, setInterfaceClient } from 'capnp-ts'
import { anchor as capAnchor, testing } from '@ww/schema'
import { embeddedCluster, type Cluster } from '../src/index.js'
import { codeOf, dec, enc, rig, tick, type Rig } from './rpc-rig.js'

describe('Anchor over RPC', () => {
  let c: Cluster
  let r: Rig
  beforeEach(() => { c = embeddedCluster({ id: 'host-a' }); r = rig(c) })
  afterEach(async () => { r.client.close(); r.hc.close(); await c.close() })

  test('walk, set, get: data and versions; the core tree sees the value', async () => {
    const root = r.host.root().getRoot()
    expect((await root.path()).getPath()).toBe('/')
    const g = root.walk((p) => p.setPath('demo/greeting')).getAnchor()
    expect((await g.path()).getPath()).toBe('/demo/greeting')
    const before = await g.get()
    expect(before.getValue().isNone()).toBe(true)
    expect(before.getVersion()).toBe(0n)
    expect((await g.set((p) => p.initValue().setData(enc.encode('one')))).getVersion()).toBe(1n)
    expect((await g.set((p) => p.initValue().setData(enc.encode('two')))).getVersion()).toBe(2n)
    const got = await g.get()
    expect(dec.decode(got.getValue().getData().toUint8Array())).toBe('two')
    expect(got.getVersion()).toBe(2n)
    const core = await c.local.walk('demo/greeting').load()
    expect(core?.kind === 'bytes' && dec.decode(core.bytes)).toBe('two')
    // Clearing is a write too.
    expect((await g.set((p) => p.initValue().setNone())).getVersion()).toBe(3n)
    expect((await g.get()).getValue().isNone()).toBe(true)
  })

  test('ls pages children with hasValue/hasChildren', async () => {
    const root = r.host.root().getRoot()
    for (const path of ['a', 'b/x', 'c']) await root.walk((p) => p.setPath(path)).getAnchor().set((p) => p.initValue().setData(enc.encode(path)))
    const page1 = await root.ls((p) => p.setLimit(2))
    const names = (l: typeof page1): string[] => Array.from({ length: l.getChildren().getLength() }, (_, i) => l.getChildren().get(i).getName())
    expect(names(page1)).toEqual(['a', 'b'])
    expect(page1.getChildren().get(1).getHasValue()).toBe(false)
    expect(page1.getChildren().get(1).getHasChildren()).toBe(true)
    expect(page1.getNext()).toBe('b')
    const page2 = await root.ls((p) => { p.setCursor(page1.getNext()); p.setLimit(2) })
    expect(names(page2)).toEqual(['c'])
    expect(page2.getNext()).toBe('')
  })

  test('walk refuses absolute, dot and empty segments with ERR_INVALID_ARGUMENT', async () => {
    const root = r.host.root().getRoot()
    for (const bad of ['/etc', 'a/../b', 'a//b', '.', 'a/.']) {
      expect(await codeOf(root.walk((p) => p.setPath(bad)))).toBe('ERR_INVALID_ARGUMENT')
    }
  })

  test('compareAndSet swaps only at the expected version', async () => {
    const n = r.host.root().getRoot().walk((p) => p.setPath('lock')).getAnchor()
    const first = await n.compareAndSet((p) => { p.initValue().setData(enc.encode('me')); p.setExpected(0n) })
    expect([first.getSwapped(), first.getVersion()]).toEqual([true, 1n])
    const stale = await n.compareAndSet((p) => { p.initValue().setData(enc.encode('you')); p.setExpected(0n) })
    expect([stale.getSwapped(), stale.getVersion()]).toEqual([false, 1n])
    expect(dec.decode((await n.get()).getValue().getData().toUint8Array())).toBe('me')
    // Two racing at the same version: exactly one swaps.
    const [x, y] = await Promise.all([1, 2].map((i) => n.compareAndSet((p) => { p.initValue().setData(enc.encode(`r${i}`)); p.setExpected(1n) })))
    expect([x!.getSwapped(), y!.getSwapped()].filter(Boolean)).toHaveLength(1)
  })

  test('watch streams changes in order with versions and values; cancel stops it', async () => {
    const root = r.host.root().getRoot()
    const seen: string[] = []
    const watcher = new capAnchor.Watcher.Server({
      changed(p) {
        const l = p.getChanges()
        for (let i = 0; i < l.getLength(); i++) {
          const ch = l.get(i)
          seen.push(`${ch.getPath()} ${ch.getKind() === capAnchor.ChangeKind.SET ? 'set' : 'cleared'} v${ch.getVersion()} ${dec.decode(ch.getValue().toUint8Array())}`)
        }
      },
      done() {},
    })
    const h = (await root.watch((p) => { p.setWatcher(watcher); p.setSubtree(true); p.setWithValues(true) })).getHandle()
    const k = root.walk((p) => p.setPath('cfg/k')).getAnchor()
    await k.set((p) => p.initValue().setData(enc.encode('1')))
    await k.set((p) => p.initValue().setData(enc.encode('2')))
    await k.set((p) => p.initValue().setNone())
    for (let i = 0; i < 10 && seen.length < 3; i++) await tick()
    expect(seen).toEqual(['cfg/k set v1 1', 'cfg/k set v2 2', 'cfg/k cleared v3 '])
    await h.cancel()
    await k.set((p) => p.initValue().setData(enc.encode('3')))
    await tick(); await tick()
    expect(seen).toHaveLength(3)
    expect(r.hc.live().watches).toBe(0)
  })

  test('readOnly: get works, set is ERR_CAP_DENIED, walks stay read-only, revoker cuts it off', async () => {
    const root = r.host.root().getRoot()
    await root.walk((p) => p.setPath('ro/v')).getAnchor().set((p) => p.initValue().setData(enc.encode('x')))
    const ro = await root.readOnly()
    const a = ro.getAnchor()
    expect((await a.writable()).getWritable()).toBe(false)
    expect((await root.writable()).getWritable()).toBe(true)
    const v = a.walk((p) => p.setPath('ro/v')).getAnchor()
    expect(dec.decode((await v.get()).getValue().getData().toUint8Array())).toBe('x')
    expect(await codeOf(v.set((p) => p.initValue().setData(enc.encode('y'))))).toBe('ERR_CAP_DENIED')
    expect(await codeOf(v.compareAndSet((p) => { p.initValue().setNone(); p.setExpected(1n) }))).toBe('ERR_CAP_DENIED')
    expect(await codeOf(a.readOnly())).toBe('resolved')
    await ro.getRevoker().revoke((p) => p.setReason('test'))
    expect(await codeOf(v.get())).toBe('ERR_REVOKED')
    expect(await codeOf(a.ls())).toBe('ERR_REVOKED')
    // The writable root is untouched.
    expect(dec.decode((await root.walk((p) => p.setPath('ro/v')).getAnchor().get()).getValue().getData().toUint8Array())).toBe('x')
  })

  test('a node can hold a capability: get returns it, replacing it releases ours', async () => {
    const echo = new testing.Echo.Server({ ping() {}, echo(p, res) { res.setPayload(p.getPayload().toUint8Array()) }, counter() {} })
    const node = r.host.root().getRoot().walk((p) => p.setPath('svc/echo')).getAnchor()
    const exportsBefore = r.client.stats.exports
    await node.set((p) => {
      const v = p.initValue()
      Struct.setUint16(0, capAnchor.Value_Which.CAP, v) // the bindings have no typed cap setter
      setInterfaceClient(0, echo, v)
    })
    // The host holds our Echo: one more capability exported from the client's side.
    expect(r.client.stats.exports).toBe(exportsBefore + 1)
    const got = await node.get()
    expect(got.getValue().which()).toBe(capAnchor.Value_Which.CAP)
    const back = new testing.Echo.Client(getInterfaceClient(0, got.getValue()))
    const res = await back.echo((p) => p.setPayload(enc.encode('via anchor')))
    expect(dec.decode(res.getPayload().toUint8Array())).toBe('via anchor')
    await node.set((p) => p.initValue().setData(enc.encode('plain')))
    for (let i = 0; i < 5 && r.client.stats.exports > exportsBefore; i++) await tick()
    expect(r.client.stats.exports).toBe(exportsBefore)
  })
})
