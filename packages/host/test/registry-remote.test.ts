// The registry across hosts (issue 5): a process on A provides an Echo; a process on B
// finds it — with its host, pid and labels — and calls it through B's link to A
// (Peer.provider there). Cancel, an expired lease and A stopping all end in typed errors;
// releasing the proxy on B releases what A handed out.
import { getInterfaceClient, setInterfaceClient, type Client } from 'capnp-ts'
import { peer, registry as capReg, testing } from '@ww/schema'
import { newCounter } from '@ww/schema/testing'
import { libp2pCluster, waitForHost, type Libp2pCluster } from '../src/index.js'
import { codeOf, dec, enc, rig, type Rig } from './rpc-rig.js'

/** Echo answering `tag` + payload; counter hands out a Counter (a capability in results). */
function echoService(tag: string): testing.Echo$Server {
  return new testing.Echo.Server({
    ping() {},
    echo(p, r) { r.setPayload(new Uint8Array([...enc.encode(tag), ...p.getPayload().toUint8Array()])) },
    counter(p, r) { r.setCounter(newCounter(p.getStart())) },
  })
}

async function until(f: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await f())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

function registryOf(r: Rig): capReg.Registry$Client { return r.host.registry().getRegistry() }

async function provide(r: Rig, name: string, tag: string, ttlMs = 10_000): Promise<capReg.Provision$Client> {
  const res = await registryOf(r).provide((p) => {
    p.setName(name)
    setInterfaceClient(1, echoService(tag), p)
    const o = p.initOptions()
    o.setTtlMs(ttlMs)
    const m = o.initMeta(2)
    m.set(0, 'version=2')
    m.set(1, `tag=${tag}`)
  })
  return res.getProvision()
}

async function find(r: Rig, name: string, waitMs = 5000): Promise<capReg.Provider[]> {
  const l = (await registryOf(r).find((p) => { p.setName(name); p.setLimit(1); p.setWaitMs(waitMs) })).getProviders()
  return Array.from({ length: l.getLength() }, (_, i) => l.get(i))
}

const echo = async (c: Client, s: string): Promise<string> =>
  dec.decode((await new testing.Echo.Client(c).echo((p) => p.setPayload(enc.encode(s)))).getPayload().toUint8Array())

describe('registry across hosts', () => {
  let a: Libp2pCluster, b: Libp2pCluster
  let onA: Rig, onB: Rig
  beforeAll(async () => {
    a = await libp2pCluster({ ttlMs: 3000 })
    b = await libp2pCluster({ ttlMs: 3000, bootstrap: a.addresses() })
    await waitForHost(a.view, b.id, { timeoutMs: 10_000 })
    await waitForHost(b.view, a.id, { timeoutMs: 10_000 })
    onA = rig(a, { processId: 3, rights: { registry: true } })
    onB = rig(b, { processId: 9, rights: { registry: true } })
  })
  afterAll(async () => {
    for (const r of [onA, onB]) { r?.client.close(); r?.hc.close() }
    await Promise.all([a?.close(), b?.close()])
  })

  test('B finds A\'s provider with its pid and labels, calls it, and releasing it frees A\'s reference', async () => {
    const prov = await provide(onA, 'echo', 'A:')
    const found = await find(onB, 'echo')
    expect(found).toHaveLength(1)
    const one = found[0]!
    expect([one.getName(), one.getProvider().getHost(), one.getProvider().getPid()]).toEqual(['echo', a.id, 3n])
    expect([one.getMeta().get(0), one.getMeta().get(1)]).toEqual(['version=2', 'tag=A:'])
    await (await b.dialPeer(a.id)).ping()
    const base = a.rpc.stats().exported // the Peer bootstrap B holds
    const svc = getInterfaceClient(1, one)
    expect(await echo(svc, 'hi')).toBe('A:hi')
    expect(await echo(svc, 'again')).toBe('A:again')
    await new testing.Echo.Client(svc).ping() // empty params and results: a zero-sized struct each way
    expect(await echo(svc, '')).toBe('A:') // an empty list
    expect(a.rpc.stats().exported).toBe(base + 1) // one reference for B's proxy, reused
    // A capability in the results crosses both hosts too, and keeps its state.
    const made = new testing.Echo.Client(svc).counter((p) => p.setStart(40n))
    const counter = made.getCounter() // pipelined: called before the answer is back
    expect((await counter.add((p) => p.setN(2n))).getTotal()).toBe(42n)
    expect((await counter.add((p) => p.setN(1n))).getTotal()).toBe(43n)
    expect(a.rpc.stats().exported).toBe(base + 2)
    // The provider process holds two exports too: its Echo and the Counter it made.
    expect(onA.client.stats.exports).toBe(2)
    ;(await made).getCounter().dispose()
    svc.dispose()
    await until(() => a.rpc.stats().exported === base && onA.client.stats.exports === 1)
    expect([a.rpc.stats().exported, onA.client.stats.exports]).toEqual([base, 1])
    await prov.cancel()
  })

  test('a call pipelined on an answer crosses both hosts to the provider before that answer is back: one round trip', async () => {
    let open!: () => void
    const gate = new Promise<void>((r) => { open = r })
    const gated = new testing.Echo.Server({
      ping() {},
      echo() {},
      async counter(p, r) {
        await gate
        r.setCounter(newCounter(p.getStart()))
      },
    })
    const prov = (await registryOf(onA).provide((p) => {
      p.setName('gated')
      setInterfaceClient(1, gated, p)
      p.initOptions().setTtlMs(10_000)
    })).getProvision()
    const svc = new testing.Echo.Client(getInterfaceClient(1, (await find(onB, 'gated'))[0]!))
    await svc.ping()
    const arrived = onA.client.stats.callsIn
    // B's process → B's forwarder → link → A's forwarder → A's process, and the same way
    // for the call pipelined on the first one's answer, which A's process holds back.
    const total = svc.counter((p) => p.setStart(7n)).getCounter().add((p) => p.setN(3n))
    await until(() => onA.client.stats.callsIn >= arrived + 2)
    expect(onA.client.stats.callsIn - arrived).toBe(2)
    open()
    expect((await total).getTotal()).toBe(10n)
    svc.client.dispose()
    await prov.cancel()
  })

  test('cancel on A: B stops listing it and a proxy B holds fails ERR_REVOKED', async () => {
    const prov = await provide(onA, 'gone', 'A:')
    const svc = getInterfaceClient(1, (await find(onB, 'gone'))[0]!)
    expect(await echo(svc, 'x')).toBe('A:x')
    await prov.cancel()
    await until(async () => (await find(onB, 'gone', 1)).length === 0)
    expect(await codeOf(echo(svc, 'y'))).toBe('ERR_REVOKED')
    svc.dispose()
  })

  test('a lease A stops refreshing expires: ERR_REVOKED for B, then not found', async () => {
    await provide(onA, 'lapse', 'A:', 1000)
    const svc = getInterfaceClient(1, (await find(onB, 'lapse'))[0]!)
    expect(await echo(svc, 'x')).toBe('A:x')
    // Not refreshed, the lease lapses on its own: waited for (a fixed 1.1 s sleep raced A's
    // expiry on a busy machine); a lease that never lapses hangs the test.
    await until(async () => (await codeOf(echo(svc, 'y'))) === 'ERR_REVOKED', 60_000)
    // B's copy of the announcement lapses on its own clock (from when it arrived, a moment
    // after A's): then it is not found either.
    await until(async () => (await find(onB, 'lapse', 1)).length === 0, 60_000)
    svc.dispose()
  })

  test('an embedder\'s core provision: a capability is served, revoked on release; anything else is ERR_CAP_DENIED', async () => {
    const p = a.registry.provide('core-echo', echoService('core:'), { ttlMs: 10_000 })
    const plain = a.registry.provide('core-plain', { not: 'a capability' }, { ttlMs: 10_000 })
    const svc = getInterfaceClient(1, (await find(onB, 'core-echo'))[0]!)
    expect(await echo(svc, 'hi')).toBe('core:hi')
    p.release()
    expect(await codeOf(echo(svc, 'hi'))).toBe('ERR_REVOKED')
    const other = getInterfaceClient(1, (await find(onB, 'core-plain'))[0]!)
    expect(await codeOf(echo(other, 'hi'))).toBe('ERR_CAP_DENIED')
    plain.release()
    svc.dispose()
    other.dispose()
  })

  test('Peer.provider for a token A does not have is ERR_REVOKED', async () => {
    const link = await b.dialPeer(a.id)
    const res = link.peer.provider((p) => p.setToken(12345n))
    expect(await codeOf(res)).toBe('ERR_REVOKED')
    expect(peer.Peer.methods.provider.methodId).toBe(4)
  })

  test('a provider\'s host that stops: calls fail ERR_HOST_UNREACHABLE, promptly', async () => {
    const c = await libp2pCluster({ ttlMs: 3000, bootstrap: a.addresses() })
    await waitForHost(b.view, c.id, { timeoutMs: 10_000 })
    const onC = rig(c, { processId: 5, rights: { registry: true } })
    await provide(onC, 'short', 'C:')
    await provide(onC, 'unused', 'C:')
    const used = getInterfaceClient(1, (await find(onB, 'short'))[0]!)
    const unused = getInterfaceClient(1, (await find(onB, 'unused'))[0]!) // never called before C stops
    expect(await echo(used, 'x')).toBe('C:x')
    onC.client.close()
    onC.hc.close()
    await c.close()
    // Both fail with the host's code (unreachable), not a deadline's (ERR_TIMEOUT): which
    // bound ended them is in the code, not in a wall-clock figure.
    expect(await codeOf(echo(used, 'y'))).toBe('ERR_HOST_UNREACHABLE')
    expect(await codeOf(echo(unused, 'y'))).toBe('ERR_HOST_UNREACHABLE')
    expect(await find(onB, 'short', 1)).toHaveLength(0)
    used.dispose()
    unused.dispose()
  })
})
