// The host calls guests back: wasi-listen subscribes to a topic with a Subscriber it serves
// and watches an anchor subtree with a Watcher it serves; messages published and anchors
// written on its host reach it, and a "stop" message ends it. Real RPC, a real
// AssemblyScript guest on the scheduler and on a worker pool.
import { executorProvider, hostCapability } from '@ww/host'
import { guestBytes } from '@ww/guest'
import { host as capHost } from '@ww/schema'
import { createPair } from '@ww/transport'
import { guestTree } from './guest-tree.js'

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 6000) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

test.each(['thread', 'pool'] as const)('on the %s: a guest\'s Subscriber and Watcher receive what is published and written on its host', async (on) => {
  await using g = await guestTree(on)
  const hc = hostCapability(g.cluster, { processId: 0, rights: { root: true, pubSub: true }, executor: executorProvider(g.tree) })
  const [client] = createPair({ frames: true, b: { bootstrap: hc.server } })
  try {
    const host = client.bootstrap(capHost.Host)
    const bytes = await guestBytes('wasi-listen', { asyncify: false })
    const p = host.executor().getExecutor().exec((q) => {
      q.initBytecode().setInline(bytes)
      const o = q.initOptions()
      o.setArgs(new TextEncoder().encode('watched')) // the subtree it watches, under its root
      const r = o.initRights()
      r.setPubSub(true)
      r.setRoot(true)
    }).getProcess()
    const pid = Number((await p.pid()).getSelf().getPid())
    await until('listening', () => g.output(pid).includes('listening'))
    const topic = g.cluster.pubsub.join('news')
    await topic.publish(new TextEncoder().encode('hello'))
    await topic.publish(new TextEncoder().encode('world'))
    await g.cluster.local.walk('watched/a/b').store(new TextEncoder().encode('v1'))
    await until('two messages and a change', () => /world/.test(g.output(pid)) && /changed a\/b/.test(g.output(pid)))
    await topic.publish(new TextEncoder().encode('stop'))
    const st = (await p.wait()).getStatus()
    expect(st.isExited() ? st.getExited() : -1).toBe(0)
    const out = g.output(pid)
    expect(out).toMatch(/message 1 from \S+\/0: hello/)
    expect(out).toMatch(/message 2 from \S+\/0: world/)
    expect(out).toMatch(/changed a\/b set v\d+: v1/)
    topic.release()
  } finally {
    client.close()
    hc.close()
  }
})
