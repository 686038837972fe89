// Delegation across hosts: caps handed to a child spawned on another host (Peer.exec)
// travel in the options struct over the host-to-host link — an anchor of the spawner's
// host, and the spawner's own server (forwarded) — the child finds them in its BootContext
// and its calls reach the originals; both hosts let go when the child ends (counted).
// Two libp2p hosts in this process.
import { anchor as capAnchor, type process as capProcess } from '@ww/schema'
import { getInterfaceClient, setInterfaceClient } from 'capnp-ts'
import { onReleased } from '@ww/transport'
import { executorProvider, type Libp2pCluster, type ProcessTree } from '../src/index.js'
import { tinyModule, tinyRuntime } from '../src/exec/tiny-runtime.js'
import { jsRuntime, type Body } from './exec-js-runtime.js'
import { closeTwoHostTrees, twoHostTrees, waitFor } from './hosts.js'
import { codeOf, dec, enc, rig, tick, type Rig } from './rpc-rig.js'

describe('exec caps across hosts', () => {
  let a: Libp2pCluster
  let b: Libp2pCluster
  let ta: ProcessTree
  let tb: ProcessTree
  const bodies: Record<string, Body> = {}
  const rigs: Rig[] = []
  beforeAll(async () => { ({ a, b, ta, tb } = await twoHostTrees(tinyRuntime(), (b) => jsRuntime(b, bodies))) })
  afterAll(() => closeTwoHostTrees({ a, b, ta, tb }, rigs))

  test("a child on B calls an anchor of A's spawner through its StartSpec caps; released on both hosts after exit", async () => {
    const r = rig(a, { processId: 0, rights: { executor: true, root: true }, executor: executorProvider(ta) })
    rigs.push(r)
    const base = r.hc.live().anchors
    const root = (await r.host.root()).getRoot()
    const job = (await root.walk((p) => p.setPath('job'))).getAnchor()
    await job.set((p) => p.initValue().setData(enc.encode('on A')))
    const seen: unknown[] = []
    let released = 0
    const mine = new capAnchor.Anchor.Server({ path: (_p: unknown, res: capAnchor.Anchor_path$Results) => res.setPath('/mine') } as never)
    onReleased(mine, () => { released++ })
    // On B the caps arrive as imports over the A–B link; the child's Host hands them on
    // through forwarders, so the child reaches A's anchor and the spawner's own server.
    bodies.remote = async (host, spec) => {
      const ctx = host.bootContext().getContext()
      const info = (await ctx.info()).getInfo()
      const anchor = new capAnchor.Anchor.Client(getInterfaceClient(0, await ctx.cap((p) => p.setName('job'))))
      const own = new capAnchor.Anchor.Client(getInterfaceClient(0, await ctx.cap((p) => p.setName('mine'))))
      seen.push(
        info.getCaps().toArray().map((c) => c.getName()), info.getParent().getHost() === a.id, spec.host === b.id,
        dec.decode((await anchor.get()).getValue().getData().toUint8Array()), (await own.path()).getPath(),
      )
      await anchor.set((p) => p.initValue().setData(enc.encode('written from B')))
      return 0
    }
    const q = r.host.executor().getExecutor().exec((x) => {
      x.initBytecode().setInline(tinyModule({ exit: 0 }))
      const o = x.initOptions()
      o.setWhere(b.id)
      o.setName('remote')
      const l = o.initCaps(2)
      l.get(0).setName('job')
      setInterfaceClient(1, job, l.get(0))
      l.get(1).setName('mine')
      setInterfaceClient(1, mine, l.get(1))
    }).getProcess()
    expect((await q.pid()).getSelf().getHost()).toBe(b.id)
    expect((await q.wait()).getStatus().getExited()).toBe(0)
    expect(seen).toEqual([['job', 'mine'], true, true, 'on A', '/mine'])
    expect(dec.decode((await job.get()).getValue().getData().toUint8Array())).toBe('written from B')
    expect(r.hc.live().anchors).toBe(base + 2) // root and job: the spawner still holds its own
    job.dispose()
    await waitFor(() => r.hc.live().anchors === base + 1)
    await tick()
    expect(r.hc.live().anchors).toBe(base + 1)
    await waitFor(() => released === 1) // B let go, then A: nothing holds the spawner's server

  })

  // Refused there or here after the caps were read: both hosts let go when exec answers
  // (A: the spawner's anchor and server; B: its imports of A's forwarders over the link).
  const handed = async (): Promise<{ r: Rig; job: capAnchor.Anchor$Client; mine: capAnchor.Anchor$Server; released: () => number; base: number; linkBase: number; exports: () => number }> => {
    const r = rig(a, { processId: 0, rights: { executor: true, root: true }, executor: executorProvider(ta) })
    rigs.push(r)
    const link = await a.rpc.dialPeer(b.id)
    const [base, linkBase] = [r.hc.live().anchors, link.conn.stats.exports]
    const job = (await (await r.host.root()).getRoot().walk((p) => p.setPath('job2'))).getAnchor()
    let released = 0
    const mine = new capAnchor.Anchor.Server({ path: (_p: unknown, res: capAnchor.Anchor_path$Results) => res.setPath('/mine') } as never)
    onReleased(mine, () => { released++ })
    return { r, job, mine, released: () => released, base, linkBase, exports: () => link.conn.stats.exports }
  }
  const execThere = (r: Rig, where: string, job: capAnchor.Anchor$Client, mine: capAnchor.Anchor$Server, name = 'remote'): capProcess.Process$Client =>
    r.host.executor().getExecutor().exec((x) => {
      x.initBytecode().setCid(new Uint8Array(32).fill(7)) // in no cache, here or there
      const o = x.initOptions()
      o.setWhere(where)
      o.setName(name)
      const l = o.initCaps(1)
      l.get(0).setName('job')
      setInterfaceClient(1, job, l.get(0))
      o.initOverrides().setRoot(mine as never)
    }).getProcess()

  test('refused on B (bytecode unknown there): released on both hosts when exec answers, not at link close', async () => {
    const h = await handed()
    expect(await codeOf(execThere(h.r, b.id, h.job, h.mine).pid())).toBe('ERR_NOT_FOUND')
    await waitFor(() => h.released() === 1 && h.exports() === h.linkBase)
    expect(h.r.hc.live().anchors).toBe(h.base + 2) // root and job2: the spawner's own
    h.job.dispose()
    await waitFor(() => h.r.hc.live().anchors === h.base + 1)
    expect(ta.counters()).toMatchObject({ live: 0 })
  })

  test('to an unknown host (unreachable): released when exec answers', async () => {
    const h = await handed()
    expect(await codeOf(execThere(h.r, 'no-such-host', h.job, h.mine).pid())).toMatch(/^ERR_/)
    await waitFor(() => h.released() === 1)
    expect(h.r.hc.live().anchors).toBe(h.base + 2)
    expect(h.exports()).toBe(h.linkBase)
  })

  test('a spawn on B aborted by its signal: whatever started there is ended, and both hosts let go', async () => {
    const h = await handed()
    bodies.parked = () => new Promise<number>(() => {}) // runs until killed
    const ac = new AbortController()
    const spawned = ta.executor().spawn({ bytecode: tinyModule({ exit: 0 }), where: b.id, name: 'parked', caps: [{ name: 'mine', cap: h.mine }] }, { signal: ac.signal })
    await tick() // the Peer.exec is on its way
    ac.abort()
    await expect(spawned).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    await waitFor(() => h.released() === 1 && h.exports() === h.linkBase && tb.counters().live === 0)
    expect(ta.counters().live).toBe(0)
  })
})
