// An AssemblyScript guest reaches what its spawner handed it by name (SpawnRequest.caps,
// ExecOptions.caps over RPC) through the SDK's BootContextClient. The embedder spawns it on
// procRuntime (and on a worker pool) with no root right of its own, handing it an anchor
// and a topic it took from a Host capability over real frames; the guest's own Host
// (childHostCapability) serves its BootContext over the guest's frames. It writes under
// the anchor, publishes on the topic, and gets ERR_NOT_FOUND for a name it was not given;
// the effects are checked on the host side.
// (Over the RPC Executor the caps would be written with capnp-ts's setInterfaceClient, which
// this package does not depend on; @ww/host's rpc-exec-caps test covers that reading.)
import { hostCapability, type Message, type NamedCap } from '@ww/host'
import { guestBytes } from '@ww/guest'
import { host as capHost } from '@ww/schema'
import { createPair } from '@ww/transport'
import { guestTree } from './guest-tree.js'

const text = (b: Uint8Array): string => Buffer.from(b).toString()

test.each(['thread', 'pool'] as const)('on the %s: wasi-caps-demo writes under the anchor and publishes on the topic it was handed; an unhanded name is ERR_NOT_FOUND', async (on) => {
  await using g = await guestTree(on)
  const { cluster, tree } = g
  // What the spawner holds: a Host with root and pubSub, over real frames.
  const hc = hostCapability(cluster, { processId: 0, rights: { root: true, pubSub: true } })
  const [client] = createPair({ frames: true, b: { bootstrap: hc.server } })
  const host = client.bootstrap(capHost.Host)
  const bytes = await guestBytes('wasi-caps-demo', { asyncify: false })
  const news: Message[] = []
  cluster.pubsub.join('news').subscribe({ capacity: 16, handler: (m) => { news.push(m) } })
  const run = async (caps: NamedCap[]): Promise<[number, number, string]> => {
    // No root, no pubSub of its own: only what is handed over.
    const p = await tree.executor().spawn({ bytecode: bytes, caps, child: { rights: { view: true } } })
    const st = await p.wait()
    return [p.pid, st.kind === 'exited' ? st.code : -1, g.output(p.pid)]
  }
  try {
    const job = (await host.root().getRoot().walk((q) => q.setPath('jobs/7'))).getAnchor()
    const topic = (await host.pubSub().getPubSub().join((q) => q.setName('news'))).getTopic()
    const [pid, code, said] = await run([{ name: 'store', cap: job }, { name: 'news', cap: topic }])
    expect(said).toContain(`pid ${pid} on ${cluster.id}, spawned by pid 0; handed: store, news`)
    expect(said).toContain(`wrote store/greeting = "written by pid ${pid}" (version 1)`)
    expect(said).toContain(`read back: "written by pid ${pid}"`)
    expect(said).toContain('published on news')
    expect(said).toMatch(/secrets: ERR_NOT_FOUND: no cap named 'secrets' .*\(ERR_NOT_FOUND\)/)
    expect(code).toBe(0)
    const v = await cluster.local.walk('jobs/7/greeting').load()
    expect(v?.kind === 'bytes' && text(v.bytes)).toBe(`written by pid ${pid}`)
    expect(news.map((m) => text(m.data))).toEqual([`written by pid ${pid}`])

    // Handed nothing: its BootContext has no "store" and its own Host has no root.
    const [, bare, bareSaid] = await run([])
    expect(bareSaid).toContain('handed: nothing')
    expect(bareSaid).toMatch(/store\/greeting: .*ERR_NOT_FOUND: no cap named 'store' .*\(ERR_NOT_FOUND\)/)
    expect(bare).toBe(2)
    expect(cluster.local.walk('jobs/7/greeting').version!()).toBe(1) // still the first run's write
    expect(news).toHaveLength(1)
  } finally {
    client.close()
    hc.close()
  }
})
