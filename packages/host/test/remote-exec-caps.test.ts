// Delegation across hosts: a cap handed to a child spawned on another host (Peer.exec)
// travels in the options struct over the host-to-host link; the child's calls on it reach
// the original object on the spawner's host, and both trees let go of it when the child
// ends (counted on the spawner's Host). Two libp2p hosts in this process.
import { anchor as capAnchor, type process as capProcess } from '@ww/schema'
import { setInterfaceClient, type Client } from 'capnp-ts'
import { executorProvider, hostProcessTree, libp2pCluster, type Libp2pCluster, type ProcessTree } from '../src/index.js'
import { tinyModule, tinyRuntime } from '../src/exec/tiny-runtime.js'
import { jsRuntime, type Body } from './exec-js-runtime.js'
import { dec, enc, rig, tick, type Rig } from './rpc-rig.js'

const waitFor = async (cond: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('exec caps across hosts', () => {
  let a: Libp2pCluster
  let b: Libp2pCluster
  let ta: ProcessTree
  let tb: ProcessTree
  const bodies: Record<string, Body> = {}
  const rigs: Rig[] = []
  beforeAll(async () => {
    a = await libp2pCluster({ ttlMs: 3000 })
    b = await libp2pCluster({ ttlMs: 3000, bootstrap: a.addresses() })
    ta = hostProcessTree(a, tinyRuntime())
    tb = hostProcessTree(b, jsRuntime(b, bodies))
    await waitFor(() => a.view.get(b.id) !== undefined && b.view.get(a.id) !== undefined)
  })
  afterAll(async () => {
    for (const r of rigs) { r.client.close(); r.hc.close() }
    await Promise.all([ta?.close(), tb?.close()])
    await Promise.all([a?.close(), b?.close()])
  })

  test("a child on B calls an anchor of A's spawner through its StartSpec caps; released on both hosts after exit", async () => {
    const r = rig(a, { processId: 0, rights: { executor: true, root: true }, executor: executorProvider(ta) })
    rigs.push(r)
    const base = r.hc.live().anchors
    const root = (await r.host.root()).getRoot()
    const job = (await root.walk((p) => p.setPath('job'))).getAnchor()
    await job.set((p) => p.initValue().setData(enc.encode('on A')))
    const seen: unknown[] = []
    // The runtime on B runs this body in process: the caps in its StartSpec are imports
    // over the A–B link (a guest on B would reach them through its own connection).
    bodies.remote = async (_host, spec) => {
      const anchor = new capAnchor.Anchor.Client(spec.caps[0]!.cap as Client)
      seen.push(spec.caps.map((c) => c.name), spec.parentRef.host === a.id, dec.decode((await anchor.get()).getValue().getData().toUint8Array()))
      await anchor.set((p) => p.initValue().setData(enc.encode('written from B')))
      return 0
    }
    const q = r.host.executor().getExecutor().exec((x) => {
      x.initBytecode().setInline(tinyModule({ exit: 0 }))
      const o = x.initOptions()
      o.setWhere(b.id)
      o.setName('remote')
      const l = o.initCaps(1)
      l.get(0).setName('job')
      setInterfaceClient(1, job, l.get(0))
    }).getProcess()
    expect((await q.pid()).getSelf().getHost()).toBe(b.id)
    expect((await q.wait()).getStatus().getExited()).toBe(0)
    expect(seen).toEqual([['job'], true, 'on A'])
    expect(dec.decode((await job.get()).getValue().getData().toUint8Array())).toBe('written from B')
    expect(r.hc.live().anchors).toBe(base + 2) // root and job: the spawner still holds its own
    job.dispose()
    await waitFor(() => r.hc.live().anchors === base + 1)
    await tick()
    expect(r.hc.live().anchors).toBe(base + 1)
  })
})
