// The Host capability over real RPC: info, rights and denials, providers, the view.
import { cluster as capCluster, process as capProcess } from '@ww/schema'
import type { RemoteError } from '@ww/transport'
import { embeddedCluster, VERSION, type Cluster } from '../src/index.js'
import { codeOf, rig, tick, type Rig } from './rpc-rig.js'

describe('Host over RPC', () => {
  let c: Cluster
  let r: Rig
  beforeEach(() => { c = embeddedCluster({ id: 'host-a' }); r = rig(c) })
  afterEach(async () => { r.client.close(); r.hc.close(); await c.close() })

  test('info: id, version, uptime, load', async () => {
    c.setLoad(3)
    const info = (await r.host.info()).getInfo()
    expect(info.getId()).toBe('host-a')
    expect(info.getVersion()).toBe(VERSION)
    expect(info.getAddrs().getLength()).toBe(0)
    expect(info.getUptimeMs()).toBeGreaterThanOrEqual(0n)
    expect(info.getLoad().getProcesses()).toBe(3)
    expect(info.getLoad().getCpus()).toBeGreaterThan(0)
    expect(info.getLoad().getMemoryUsed()).toBeGreaterThan(0n)
  })

  test('rights: defaults plus what was granted; withheld methods are ERR_CAP_DENIED', async () => {
    const rights = (await r.host.rights()).getRights()
    expect([rights.getView(), rights.getPubSub(), rights.getRoot(), rights.getExecutor(), rights.getDebug()]).toEqual([true, true, true, false, false])
    expect(await codeOf(r.host.executor().getExecutor().ps())).toBe('ERR_CAP_DENIED')
    expect(await codeOf(r.host.debug())).toBe('ERR_CAP_DENIED')
    expect(await codeOf(r.host.dialer())).toBe('ERR_CAP_DENIED')
    expect(await codeOf(r.host.bytecodeCache())).toBe('ERR_CAP_DENIED')
    const e = await r.host.executor().then(() => null, (x: unknown) => x)
    expect((e as RemoteError).reason).toBe('ERR_CAP_DENIED: executor')
  })

  test('an executor provider is served, bound to the process identity', async () => {
    const seen: Array<{ host: string; pid: bigint }> = []
    const r2 = rig(c, {
      executor: { capabilityFor: (id) => { seen.push(id); return r.hc.server } },
    })
    // The provider's capability is returned as is (a Host stands in for an Executor here).
    const got = await r2.host.executor()
    expect(got.getExecutor()).toBeDefined()
    expect(seen).toEqual([{ host: 'host-a', pid: 7n }])
    r2.client.close()
    r2.hc.close()
  })

  test('view: list (selector, cursor), lookup, self', async () => {
    const view = r.host.view().getView()
    const all = (await view.list((p) => p.setLimit(0))).getHosts()
    expect(all.getLength()).toBe(1)
    expect(all.get(0).getId()).toBe('host-a')
    const none = await view.list((p) => { p.initSelector().setIdPrefix('zzz') })
    expect(none.getHosts().getLength()).toBe(0)
    expect(none.getNext().getLength()).toBe(0)
    const self = (await view.self()).getHost()
    expect(self.getId()).toBe('host-a')
    const hit = await view.lookup((p) => p.setId('host-a'))
    expect(hit.getFound()).toBe(true)
    const miss = await view.lookup((p) => p.setId('host-b'))
    expect(miss.getFound()).toBe(false)
  })

  test('view: iter delivers every host in batches and counts them', async () => {
    const got: string[] = []
    const handler = new capCluster.HostHandler.Server({
      hosts(p) { const l = p.getBatch(); for (let i = 0; i < l.getLength(); i++) got.push(l.get(i).getId()) },
    })
    const res = await r.host.view().getView().iter((p) => { p.initSelector().setAll(); p.setHandler(handler) })
    expect(res.getCount()).toBe(1)
    expect(got).toEqual(['host-a'])
  })

  test('view: watch replays the hosts already up; cancel ends it and frees the core watch', async () => {
    const events: string[] = []
    const handler = new capCluster.MembershipHandler.Server({
      events(p) {
        const l = p.getBatch()
        for (let i = 0; i < l.getLength(); i++) {
          const e = l.get(i)
          events.push(`${e.getSeq()}:${e.isJoined() ? 'join ' + e.getJoined().getId() : 'left ' + e.getLeft().getId()}`)
        }
      },
      done() {},
    })
    const res = await r.host.view().getView().watch((p) => { p.setHandler(handler); p.setReplay(true) })
    for (let i = 0; i < 5 && events.length === 0; i++) await tick()
    expect(events).toEqual(['1:join host-a'])
    expect(r.hc.live().watches).toBe(1)
    await res.getHandle().cancel()
    expect(r.hc.live().watches).toBe(0)
  })

  test('bootContext: ERR_NOT_FOUND without one; the given BootContext otherwise', async () => {
    expect(await codeOf(r.host.bootContext())).toBe('ERR_NOT_FOUND')
    const boot = new capProcess.BootContext.Server({
      info() {}, parent() {}, args() {}, caps() {}, cap() {},
      self(_p, res) { const s = res.initSelf(); s.setHost('host-a'); s.setPid(7n) },
    })
    const r2 = rig(c, { context: boot })
    const self = (await r2.host.bootContext().getContext().self()).getSelf()
    expect([self.getHost(), self.getPid()]).toEqual(['host-a', 7n])
    r2.client.close()
    r2.hc.close()
  })

  test('bytecodeCache when granted: put validates, has/get by 32-byte cid', async () => {
    const r2 = rig(c, { rights: { bytecodeCache: true } })
    const cache = r2.host.bytecodeCache().getCache()
    const wasm = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])
    const cid = (await cache.put((p) => p.setBytecode(wasm))).getCid().toUint8Array().slice()
    expect(cid.byteLength).toBe(32)
    expect((await cache.has((p) => p.setCid(cid))).getPresent()).toBe(true)
    expect([...(await cache.get((p) => p.setCid(cid))).getBytecode().toUint8Array()]).toEqual([...wasm])
    expect(c.cache.has(`blake3:${Buffer.from(cid).toString('hex')}`)).toBe(true)
    expect(await codeOf(cache.put((p) => p.setBytecode(new Uint8Array([1, 2, 3]))))).toBe('ERR_INVALID_MODULE')
    expect(await codeOf(cache.has((p) => p.setCid(new Uint8Array(5))))).toBe('ERR_INVALID_ARGUMENT')
    expect(await codeOf(cache.get((p) => p.setCid(new Uint8Array(32))))).toBe('ERR_NOT_FOUND')
    r2.client.close()
    r2.hc.close()
  })
})
