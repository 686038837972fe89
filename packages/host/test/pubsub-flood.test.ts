// Flood limits (src/pubsub/flood.ts) against a foreign flooder: a plain js-libp2p node made
// here (tcp, noise, yamux, pnet with the cluster's swarm key, gossipsub; no ww code) sends
// valid pubsub frames on a ww topic as fast as it can sign them, while ww host B publishes
// at a modest rate on the same topic. Host A, subscribed, must deliver every message of
// B's, cut the flood to its limit (counted, dropped per peer) and graylist the flooder
// through gossipsub's score. A local publisher over the limit gets ERR_RATE_LIMITED.
import { multiaddr } from '@multiformats/multiaddr'
import { generateSwarmKey, isHostError, libp2pCluster, type FloodLimit, type Libp2pCluster } from '../src/index.js'
import { encodeBatch } from '../src/pubsub/batch.js'
import { foreignGossipPeer, type ForeignPeer } from './foreign-peer.js'
import { waitFor } from './hosts.js'

const enc = new TextEncoder()
const swarmKey = generateSwarmKey()
// Small, so a flood is far over it on any machine: 50 frames and 200 messages a second per
// publisher, 200 RPCs a second per peer.
const limit: FloodLimit = { messagesPerSecond: 200, framesPerSecond: 50, bytesPerSecond: 1 << 20, burstSeconds: 1, peerRpcsPerSecond: 200, peerBytesPerSecond: 4 << 20 }
const GRAYLIST = -80 // gossipsub's default graylist threshold
let a: Libp2pCluster, b: Libp2pCluster, flooder: ForeignPeer

beforeAll(async () => {
  a = await libp2pCluster({ swarmKey, ttlMs: 3000, floodLimit: limit })
  b = await libp2pCluster({ swarmKey, ttlMs: 3000, floodLimit: limit, bootstrap: a.addresses() })
  flooder = await foreignGossipPeer(swarmKey)
  await waitFor(() => a.view.get(b.id) !== undefined && b.view.get(a.id) !== undefined, 20_000)
})

afterAll(async () => {
  await flooder?.stop()
  await Promise.all([a, b].map((h) => h?.close()))
})

test('one peer floods a topic: every message of a well-behaved publisher is delivered, the flood is cut and the flooder graylisted', async () => {
  const topic = '/ww/topic/flood'
  const got = new Map<string, number[]>()
  const sub = a.pubsub.join('flood').subscribe({
    capacity: 1 << 20,
    handler: (m) => { let l = got.get(m.from); if (!l) got.set(m.from, l = []); l.push(m.seq) },
  })
  const onB = b.pubsub.join('flood')
  await onB.waitForPeers(1, { timeoutMs: 20_000 })
  flooder.services.pubsub.subscribe(topic)
  await flooder.dial(multiaddr(a.addresses()[0]!), { signal: AbortSignal.timeout(20_000) })
  const F = flooder.peerId.toString()
  await waitFor(() => flooder.services.pubsub.getSubscribers(topic).some((p) => p.toString() === a.id), 20_000)

  // B: 100 messages, one every 10 ms (100/s: under its limit of 200/s).
  const B_COUNT = 100
  let bDone = false
  const publishing = (async () => {
    for (let i = 0; i < B_COUNT; i++) {
      await onB.publish(enc.encode(`b${i}`))
      await new Promise((r) => setTimeout(r, 10))
    }
    bDone = true
  })()

  // F (in this process): one-message frames, 50 signed at a time, until A has graylisted it,
  // F has overdrawn its per-peer budget and B is done. Which of the first two comes first
  // depends on how fast this machine signs, so the flood goes on until both have happened.
  const started = performance.now()
  const pausesOfF = (): number => a.pubsubInbound().get(F)?.pauses ?? 0
  let sent = 0
  let lowest = 0
  while (!(bDone && lowest <= GRAYLIST && pausesOfF() > 0) && sent < 200_000) {
    await Promise.all(Array.from({ length: 50 }, () => flooder.services.pubsub.publish(topic, encodeBatch([{ seq: ++sent, data: enc.encode('flood') }]))))
    lowest = Math.min(lowest, a.peerScore(F))
    // Signing resolves without I/O: let the sockets (and B) run between rounds.
    await new Promise((r) => setImmediate(r))
  }
  await publishing

  // Every message of B's arrives, in order.
  await waitFor(() => (got.get(b.id)?.length ?? 0) >= B_COUNT)
  expect(got.get(b.id)).toEqual(Array.from({ length: B_COUNT }, (_, i) => i + 1))
  // The flood is cut: A delivered at most its burst (2 s of frames: burst + slack) plus the
  // rate over the time since the flood began (frames still queued when it ended are
  // admitted later, at the same rate), and counts the rest as dropped from F.
  const drops = a.floodDrops().get(F)
  const delivered = got.get(F)?.length ?? 0
  const floodSeconds = (performance.now() - started) / 1000
  expect(drops?.frames ?? 0).toBeGreaterThan(0)
  expect(delivered).toBeLessThanOrEqual(2 * limit.framesPerSecond + limit.framesPerSecond * floodSeconds + 1)
  expect(delivered + (drops?.frames ?? 0)).toBeLessThanOrEqual(sent)
  // The flooder fell below the graylist threshold (its RPCs ignored before signature checks);
  // B, never over its limit, has nothing dropped and is not graylisted.
  expect(lowest).toBeLessThanOrEqual(GRAYLIST)
  expect(a.floodDrops().has(b.id)).toBe(false)
  expect(a.peerScore(b.id)).toBeGreaterThan(GRAYLIST)
  // The flooder overdrew its per-peer budget before any signature check: its stream was
  // paused (the flood waited in its own buffers); B's (100 messages at most) never was.
  expect(pausesOfF()).toBeGreaterThan(0)
  expect(a.pubsubInbound().get(b.id)?.pauses ?? 0).toBe(0)
  sub.close()
  onB.release()
})

test('a local publisher over the limit gets ERR_RATE_LIMITED; the refused message is not delivered', async () => {
  // Room for one message, refilled in an hour: no stall of a loaded machine lets the second through.
  const h = await libp2pCluster({ floodLimit: { messagesPerSecond: 1 / 3600, burstSeconds: 3600 } })
  try {
    const t = h.pubsub.join('slow')
    const got: string[] = []
    t.subscribe({ capacity: 16, handler: (m) => { got.push(new TextDecoder().decode(m.data)) } })
    await t.publish(enc.encode('one'))
    for (const text of ['two', 'three']) {
      const refused = await t.publish(enc.encode(text)).then(() => undefined, (e: unknown) => e)
      expect(isHostError(refused, 'ERR_RATE_LIMITED')).toBe(true)
      expect((refused as Error).message).toMatch(/over the flood limit of/)
    }
    await waitFor(() => got.length >= 1)
    expect(got).toEqual(['one'])
  } finally {
    await h.close()
  }
})

test('floodLimit: false: no local limit (50,000 publishes at once, which the default refuses)', async () => {
  const h = await libp2pCluster({ floodLimit: false })
  try {
    const t = h.pubsub.join('fast')
    for (let i = 0; i < 50_000; i++) await t.publish(enc.encode('x'))
    expect(h.floodLimit).toBeUndefined()
    expect(h.floodDrops().size).toBe(0)
  } finally {
    await h.close()
  }
})
