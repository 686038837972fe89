// View.watch over RPC sees real joins and leaves: two libp2p hosts in this process; the
// watching Host runs on A, B joins and then closes (a graceful leave).
import { cluster as capCluster } from '@ww/schema'
import { libp2pCluster, type Libp2pCluster } from '../src/index.js'
import { rig, tick, type Rig } from './rpc-rig.js'

describe('View.watch with a real second host', () => {
  let a: Libp2pCluster
  let r: Rig
  beforeAll(async () => { a = await libp2pCluster({ ttlMs: 2000 }); r = rig(a) })
  afterAll(async () => { r?.client.close(); r?.hc.close(); await a?.close() })

  test('join then leave, in order, numbered from 1; list pages by id', async () => {
    const events: string[] = []
    const handler = new capCluster.MembershipHandler.Server({
      events(p) {
        const l = p.getBatch()
        for (let i = 0; i < l.getLength(); i++) {
          const e = l.get(i)
          const what = e.isJoined() ? `join ${e.getJoined().getId()}` : `left ${e.getLeft().getId()} ${capCluster.LeaveReason[e.getLeft().getReason()]}`
          events.push(`${e.getSeq()} ${what}`)
        }
      },
      done() {},
    })
    const view = r.host.view().getView()
    const handle = (await view.watch((p) => { p.setHandler(handler); p.setReplay(true) })).getHandle()
    const b = await libp2pCluster({ ttlMs: 2000, bootstrap: a.addresses() })
    for (let i = 0; i < 2000 && events.length < 2; i++) await new Promise((res) => setTimeout(res, 5))
    expect(events).toEqual([`1 join ${a.id}`, `2 join ${b.id}`])
    // Two hosts, one per page: the cursor walks them in id order.
    const first = await view.list((p) => p.setLimit(1))
    const second = await view.list((p) => { p.setLimit(1); p.setCursor(first.getNext().toUint8Array()) })
    const ids = [first.getHosts().get(0).getId(), second.getHosts().get(0).getId()]
    expect(ids).toEqual([a.id, b.id].sort())
    expect(second.getNext().getLength()).toBe(0)
    const seen = await view.lookup((p) => p.setId(b.id))
    expect(seen.getHost().getAddrs().getLength()).toBeGreaterThan(0)
    await b.close()
    for (let i = 0; i < 2000 && events.length < 3; i++) await new Promise((res) => setTimeout(res, 5))
    expect(events[2]).toMatch(new RegExp(`^3 left ${b.id} (GRACEFUL|EXPIRED)$`))
    await handle.cancel()
    await tick()
    expect(r.hc.live().watches).toBe(0)
  }, 30_000)
})
