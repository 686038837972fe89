// The link probe on two libp2p hosts in this process: an echo on libp2p's ping protocol
// gives each end a round trip above 0 ms (performance.now, not libp2p's whole ms); a
// host that goes away leaves its link down, saying why; an embedded host has no links.
import { embeddedCluster, libp2pCluster, type Libp2pCluster } from '@ww/host'
import { linkProbe } from './links.js'

let a: Libp2pCluster, b: Libp2pCluster

beforeAll(async () => {
  a = await libp2pCluster({ ttlMs: 60_000 })
  b = await libp2pCluster({ ttlMs: 60_000, bootstrap: a.addresses() })
  await new Promise<void>((resolve) => {
    const w = a.view.watch({ current: true, handler: (e) => { if (e.type === 'join' && e.host.id === b.id) { w.close(); resolve() } } })
  })
})
afterAll(async () => { await Promise.all([a?.close(), b?.close()]) })

test('each end measures the round trip to the other; when one closes, the other\'s link is down', async () => {
  // A long period: the rounds are the test's, one at a time.
  const pa = linkProbe(a, { periodMs: 3_600_000 })
  const pb = linkProbe(b, { periodMs: 3_600_000 })
  try {
    await Promise.all([pa.probe(), pb.probe()])
    // Measured: a number where an unmeasured link has null (its size is the machine's, not asserted).
    expect(pa.links()).toEqual([{ peer: b.id, up: true, rttMs: expect.any(Number), at: expect.any(Number) }])
    expect(pb.links()).toEqual([{ peer: a.id, up: true, rttMs: expect.any(Number), at: expect.any(Number) }])
    pb.close()
    await b.close()
    // Libp2p's disconnect event marks it (a round finding the connection closed would too).
    while (pa.links()[0]!.up) await new Promise((r) => setTimeout(r, 50))
    expect(pa.links()).toEqual([{ peer: b.id, up: false, rttMs: expect.any(Number), at: expect.any(Number), error: 'disconnected' }])
  } finally {
    pa.close()
    pb.close()
  }
})

test('an embedded host has no links', async () => {
  await using c = embeddedCluster()
  const p = linkProbe(c)
  await p.probe()
  expect(p.links()).toEqual([])
  p.close()
})
