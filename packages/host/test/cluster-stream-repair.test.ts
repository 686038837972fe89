// Gossipsub opens its outbound stream to a peer once, when the connection is reported. If
// that stream is reset while the connection stays up (a reset on a flaky link, a stream
// that failed to open), it never opens another, and everything published to that peer is
// silently not sent — while heartbeats still reach it through other hosts. A host opens the
// missing stream again within a heartbeat period (cluster/libp2p.ts: repairStreams).
import { libp2pCluster, type Libp2pCluster } from '../src/index.js'
import { joined, waitFor } from './hosts.js'

let a: Libp2pCluster | undefined
let b: Libp2pCluster | undefined
afterAll(async () => { await Promise.all([a?.close(), b?.close()]) })

const outbound = (from: Libp2pCluster, to: Libp2pCluster) => from.libp2p.getConnections(to.libp2p.peerId).flatMap((c) => c.streams)
  .find((s) => s.direction === 'outbound' && s.protocol?.startsWith('/meshsub/') === true && s.status === 'open')

test('an outbound gossipsub stream reset while the connection stays: opened again, messages flow again', async () => {
  a = await libp2pCluster({ ttlMs: 3000 })
  b = await libp2pCluster({ ttlMs: 3000, bootstrap: a.addresses() })
  await joined(a, b)
  const got: string[] = []
  b.pubsub.join('t').subscribe({ handler: (m) => { got.push(new TextDecoder().decode(m.data)) } })
  const out = a.pubsub.join('t')
  await out.waitForPeers(1, { timeoutMs: 20_000 })
  await out.publish(new TextEncoder().encode('before'))
  await waitFor(() => got.includes('before'), 20_000)

  const reset = outbound(a, b)!
  reset.abort(new Error('reset on the link'))
  await waitFor(() => outbound(a!, b!) === undefined, 20_000)
  const connections = a.libp2p.getConnections(b.libp2p.peerId).length
  expect(connections).toBeGreaterThan(0) // the connection stayed: only the stream went
  await waitFor(() => { const s = outbound(a!, b!); return s !== undefined && s !== reset }, 20_000)
  await out.publish(new TextEncoder().encode('after'))
  await waitFor(() => got.includes('after'), 20_000)
  expect(got.filter((m) => m === 'before' || m === 'after')).toEqual(['before', 'after'])
}, 60_000)
