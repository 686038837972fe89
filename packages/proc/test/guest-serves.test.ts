// A spawner calls the capability its child offers (process.capnp Process.bootstrap): the
// serve-echo guest offers an Echo with Session.offer; its spawner, over real RPC through
// the host's Executor, echoes bytes and pipelines on a Counter the guest serves — on the
// in-thread scheduler and on a worker pool. A process that offers nothing answers
// ERR_NOT_FOUND, and a call after the child ended fails at once with a typed error.
import { getInterfaceClient } from 'capnp-ts'
import { executorProvider, hostCapability } from '@ww/host'
import { guestBytes } from '@ww/guest'
import { host as capHost, testing } from '@ww/schema'
import { createPair } from '@ww/transport'
import { guestTree } from './guest-tree.js'

test.each(['thread', 'pool'] as const)('on the %s: the spawner calls the Echo its child serves, pipelined on a Counter it returns', async (on) => {
  await using g = await guestTree(on)
  const hc = hostCapability(g.cluster, { processId: 0, rights: { root: true }, executor: executorProvider(g.tree) })
  const [client] = createPair({ frames: true, b: { bootstrap: hc.server } })
  try {
    const host = client.bootstrap(capHost.Host)
    const bytes = await guestBytes('wasi-serve-echo', { asyncify: false })
    const p = host.executor().getExecutor().exec((q) => { q.initBytecode().setInline(bytes) }).getProcess()
    const echo = new testing.Echo.Client(getInterfaceClient(0, await p.bootstrap()))
    const payload = new Uint8Array([1, 2, 3, 250])
    const r = await echo.echo((q) => q.initPayload(payload.byteLength).copyBuffer(payload))
    expect([...r.getPayload().toUint8Array()]).toEqual([1, 2, 3, 250])
    const counter = echo.counter((q) => q.setStart(10n)).getCounter()
    expect((await counter.add((q) => q.setN(5n))).getTotal()).toBe(15n)
    expect((await counter.add((q) => q.setN(5n))).getTotal()).toBe(20n)
    await p.kill()
    // The owner is gone: the next call fails at once with a typed error, not a hang.
    await expect(echo.echo((q) => q.initPayload(1))).rejects.toThrow(/ERR_CLOSED/)
  } finally {
    client.close()
    hc.close()
  }
})

test('a process that offers no bootstrap capability answers ERR_NOT_FOUND', async () => {
  await using g = await guestTree('thread')
  const hc = hostCapability(g.cluster, { processId: 0, rights: { root: true }, executor: executorProvider(g.tree) })
  const [client] = createPair({ frames: true, b: { bootstrap: hc.server } })
  try {
    const host = client.bootstrap(capHost.Host)
    const bytes = await guestBytes('wasi-echo-client', { asyncify: false })
    // echo-client bootstraps an Echo from its host: this Host is no Echo, so it exits
    // non-zero — but only once its calls fail; ask for its bootstrap before that.
    const p = host.executor().getExecutor().exec((q) => { q.initBytecode().setInline(bytes) }).getProcess()
    const cap = new testing.Echo.Client(getInterfaceClient(0, await p.bootstrap()))
    await expect(cap.ping()).rejects.toThrow(/ERR_NOT_FOUND: this guest offers no bootstrap capability|ERR_CLOSED/)
  } finally {
    client.close()
    hc.close()
  }
})
