// Pubsub repair across hosts (src/pubsub/repair.ts, src/cluster/pubsub-repair.ts): a
// subscriber that misses a publisher's messages — a link reset mid-stream, frames lost on
// the way, the last message lost — gets each of them in order, once, from the publisher's
// window; what fell out of the window is a counted gap and the stream goes on; a restarted
// publisher's new sequence is delivered; bad repair traffic is refused and counted.
//
// Loss on the way is made at the subscriber's gossipsub: its topic validator ignores chosen
// frames (gossipsub then counts them as seen and never fetches them again), which is what a
// frame lost on a reset link leaves behind.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { generateSwarmKey, libp2pCluster, type Libp2pCluster, type Message } from '../src/index.js'
import { decodeFrame, encodeBatch, type BatchFrame } from '../src/pubsub/batch.js'
import { decodeRepairRequest, encodeRepairAnswer, encodeRepairRequest, MAX_REPAIR_REQUEST_BYTES } from '../src/pubsub/repair.js'
import { REPAIR_PROTOCOL } from '../src/cluster/pubsub-repair.js'
import { foreignGossipPeer, type ForeignPeer } from './foreign-peer.js'
import { joined, waitFor } from './hosts.js'

const enc = new TextEncoder()
const dec = new TextDecoder()
const opened: Array<{ close(): Promise<unknown> } | { stop(): void | Promise<unknown> }> = []
afterAll(async () => { await Promise.all(opened.map(async (h) => { await ('close' in h ? h.close() : h.stop()) })) })

async function host(opts: Parameters<typeof libp2pCluster>[0] = {}): Promise<Libp2pCluster> {
  const h = await libp2pCluster({ ttlMs: 3000, ...opts })
  opened.push(h)
  return h
}

/**
 * At `at`, frames on `topic` holding a seq `lose` picks are ignored by gossipsub (lost on the
 * way, never fetched again); returns the seqs lost so.
 */
function loseFrames(at: Libp2pCluster, topic: string, lose: (seq: number) => boolean): Set<number> {
  const gs = at.libp2p.services.pubsub
  const t = `/ww/topic/${topic}`
  const v = gs.topicValidators.get(t)!
  const lost = new Set<number>()
  gs.topicValidators.set(t, (source, m) => {
    const f = m.type === 'signed' ? decodeFrame(m.data) : undefined
    if (f === undefined || !f.entries.some((e) => lose(e.seq))) return v(source, m)
    for (const e of f.entries) lost.add(e.seq)
    return TopicValidatorResult.Ignore
  })
  return lost
}
/** One message per frame, so which are lost is up to the test, not to batching. */
const unbatched = { pubsubBatch: { maxMessages: 1 } }

/** What `at` gets on `topic` from `from`, as [seq, text]. */
function collect(at: Libp2pCluster, topic: string, from: Libp2pCluster): Array<[number, string]> {
  const got: Array<[number, string]> = []
  at.pubsub.join(topic).subscribe({ capacity: 4096, handler: (m: Message) => { if (m.from === from.id) got.push([m.seq, dec.decode(m.data)]) } })
  return got
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

test('a subscriber whose link is reset mid-stream gets every message, in order, once (and so does one whose link stayed)', async () => {
  const a = await host()
  const b = await host({ bootstrap: a.addresses() })
  const c = await host({ bootstrap: a.addresses() })
  await Promise.all([joined(a, b), joined(a, c), joined(b, c)])
  const atB = collect(b, 'reset', a)
  const atC = collect(c, 'reset', a)
  const out = a.pubsub.join('reset')
  await out.waitForPeers(2, { timeoutMs: 20_000 })
  for (const n of range(1, 20)) { await out.publish(enc.encode(`m${n}`)); await turn() }
  await waitFor(() => atB.length >= 20)
  await a.libp2p.hangUp(b.libp2p.peerId) // the link resets; both sides dial again at once
  for (const n of range(21, 40)) { await out.publish(enc.encode(`m${n}`)); await turn() } // some while it is down
  await waitFor(() => atB.length >= 40 && atC.length >= 40)
  const all = range(1, 40).map((n) => [n, `m${n}`])
  expect(atB).toEqual(all)
  expect(atC).toEqual(all)
  expect(b.gaps()).toBe(0)
}, 120_000)

test('frames lost on the way (the middle, then the last message): repaired from the publisher, in order, once', async () => {
  const a = await host(unbatched)
  const b = await host({ bootstrap: a.addresses() })
  await joined(a, b)
  const got = collect(b, 'lossy', a)
  let lose: (seq: number) => boolean = () => false
  const lost = loseFrames(b, 'lossy', (s) => lose(s))
  const out = a.pubsub.join('lossy')
  await out.waitForPeers(1, { timeoutMs: 20_000 })
  await out.publish(enc.encode('m1'))
  await waitFor(() => got.length === 1)
  // The middle: 2-4 lost, 5 shows the hole.
  lose = (s) => s >= 2 && s <= 4
  for (const n of range(2, 5)) { await out.publish(enc.encode(`m${n}`)); await turn() }
  await waitFor(() => got.length >= 5)
  // The last: nothing after it shows a hole; the publisher's head marker does.
  lose = (s) => s === 6
  await out.publish(enc.encode('m6'))
  await waitFor(() => got.length >= 6)
  expect(got).toEqual(range(1, 6).map((n) => [n, `m${n}`]))
  expect(b.gaps()).toBe(0)
  expect([...lost]).toEqual([2, 3, 4, 6])
  expect(b.pubsubRepair().repaired).toBe(4) // they came only by repair
  expect(a.pubsubRepair().served).toBeGreaterThanOrEqual(2)
}, 120_000)

test('a stream\'s first messages lost (published before the subscription reached the publisher): its opening is asked for, in order, once', async () => {
  const a = await host(unbatched)
  const b = await host({ bootstrap: a.addresses() })
  await joined(a, b)
  const got = collect(b, 'opening', a)
  const lost = loseFrames(b, 'opening', (s) => s <= 5)
  const out = a.pubsub.join('opening')
  await out.waitForPeers(1, { timeoutMs: 20_000 })
  for (const n of range(1, 8)) { await out.publish(enc.encode(`m${n}`)); await turn() }
  await waitFor(() => got.length >= 8)
  expect([...lost].sort((x, y) => x - y)).toEqual(range(1, 5))
  expect(got).toEqual(range(1, 8).map((n) => [n, `m${n}`]))
  expect(b.gaps()).toBe(0)
  expect(b.pubsubRepair().repaired).toBe(5)
}, 120_000)

test('a subscriber that joins late starts at what was published since it joined: older messages are not history it gets', async () => {
  const a = await host(unbatched)
  const b = await host({ bootstrap: a.addresses() })
  await joined(a, b)
  const out = a.pubsub.join('late')
  for (const n of range(1, 5)) await out.publish(enc.encode(`old ${n}`))
  // Older than the opening's bound (time since joining + 1 s slack) when b asks.
  await new Promise((r) => setTimeout(r, 1500))
  const got = collect(b, 'late', a)
  const lost = loseFrames(b, 'late', (s) => s === 6) // b's first copy is 7: the opening asks for 1-6
  await out.waitForPeers(1, { timeoutMs: 20_000 })
  for (const n of range(6, 7)) await out.publish(enc.encode(`new ${n}`))
  await waitFor(() => got.length >= 2)
  expect([...lost]).toEqual([6])
  expect(got).toEqual([[6, 'new 6'], [7, 'new 7']])
  expect(b.gaps()).toBe(0)
}, 120_000)

test('more lost than the publisher\'s window holds: the rest is repaired, the gap counted, the stream goes on', async () => {
  const a = await host({ ...unbatched, pubsubRepair: { messages: 4 } })
  const b = await host({ bootstrap: a.addresses() })
  await joined(a, b)
  const got = collect(b, 'overflow', a)
  const lost = loseFrames(b, 'overflow', (s) => s >= 3 && s <= 12)
  const out = a.pubsub.join('overflow')
  await out.waitForPeers(1, { timeoutMs: 20_000 })
  for (const n of range(1, 13)) await out.publish(enc.encode(`m${n}`))
  // 13 shows the hole 3-12; the window then holds 10-13, and nothing more is published
  // until 13 is delivered, so the answer is 10-12 and 3-9 are gone.
  await waitFor(() => got.at(-1)?.[0] === 13)
  for (const n of range(14, 20)) await out.publish(enc.encode(`m${n}`))
  await waitFor(() => got.at(-1)?.[0] === 20)
  expect([...lost].sort((x, y) => x - y)).toEqual(range(3, 12))
  expect(got.map(([s]) => s)).toEqual([1, 2, ...range(10, 20)])
  expect(b.gaps()).toBe(1) // 3-9, one run
  expect(b.pubsubRepair().repaired).toBe(3)
}, 120_000)

test('a publisher restarted under the same identity: its new sequence (from 1 again) is delivered', async () => {
  const privateKey = await generateKeyPair('Ed25519')
  const a = await libp2pCluster({ ttlMs: 3000, privateKey })
  const b = await host({ bootstrap: a.addresses() })
  await joined(a, b)
  const got = collect(b, 'restart', a)
  const out = a.pubsub.join('restart')
  await out.waitForPeers(1, { timeoutMs: 20_000 })
  for (const n of range(1, 3)) await out.publish(enc.encode(`first ${n}`))
  await waitFor(() => got.length === 3)
  await a.close()
  const again = await host({ privateKey, bootstrap: b.addresses() })
  expect(again.id).toBe(a.id)
  await joined(again, b)
  const out2 = again.pubsub.join('restart')
  await out2.waitForPeers(1, { timeoutMs: 20_000 })
  for (const n of range(1, 3)) await out2.publish(enc.encode(`second ${n}`))
  await waitFor(() => got.length === 6)
  expect(got).toEqual([[1, 'first 1'], [2, 'first 2'], [3, 'first 3'], [1, 'second 1'], [2, 'second 2'], [3, 'second 3']])
  expect(b.gaps()).toBe(0)
}, 120_000)

describe('bad repair traffic from a peer inside the swarm key', () => {
  const swarmKey = generateSwarmKey()
  let a: Libp2pCluster, peer: ForeignPeer

  beforeAll(async () => {
    a = await host({ swarmKey })
    peer = await foreignGossipPeer(swarmKey)
    opened.push(peer)
    await peer.dial(multiaddr(a.addresses()[0]!), { signal: AbortSignal.timeout(20_000) })
  }, 60_000)

  /** Sends `bytes` on a repair stream to A; resolves with what A answered (undefined: the stream was reset). */
  async function ask(bytes: Uint8Array): Promise<Uint8Array | undefined> {
    const stream = await peer.dialProtocol(multiaddr(a.addresses()[0]!), REPAIR_PROTOCOL, { signal: AbortSignal.timeout(20_000) })
    const parts: Uint8Array[] = []
    const read = (async () => { for await (const c of stream) parts.push(c instanceof Uint8Array ? c : c.subarray()) })()
    try {
      stream.send(bytes)
      await stream.close()
      await read
    } catch {
      return undefined
    }
    return Buffer.concat(parts)
  }

  test('malformed, oversized and unsubscribed requests, and an answer nobody asked for: refused, counted; A goes on serving', async () => {
    const t0 = a.rejected().repair
    const oversized = new Uint8Array(MAX_REPAIR_REQUEST_BYTES + 1).fill(1)
    const notSubscribed = encodeRepairRequest({ topic: 'nosub', epoch: 1, ranges: [[1, 5]] })
    const unasked = encodeRepairAnswer({ epoch: 1, head: 3, through: 3, entries: [{ seq: 3, data: enc.encode('take this') }] })
    const backwards = encodeRepairRequest({ topic: 'x', epoch: 1, ranges: [[5, 9], [2, 3]] })
    for (const bad of [enc.encode('not a request'), oversized, notSubscribed, unasked, backwards]) expect(await ask(bad)).toBeUndefined()
    await waitFor(() => a.rejected().repair >= t0 + 5, 20_000)
    expect(a.rejected().repair).toBe(t0 + 5)
    expect(a.rejected().forged).toBe(0)
    // A topic it subscribes to is served: the answer holds what A published there, in A's
    // epoch (learnt from the frame gossipsub brought); asked in another epoch, nothing.
    const t = '/ww/topic/served'
    const frames: BatchFrame[] = []
    peer.services.pubsub.addEventListener('message', (e) => { if (e.detail.topic === t) frames.push(decodeFrame(e.detail.data)!) })
    peer.services.pubsub.subscribe(t)
    const served = a.pubsub.join('served')
    await waitFor(() => served.peers().includes(peer.peerId.toString()), 20_000)
    await served.publish(enc.encode('kept'))
    await waitFor(() => frames.length === 1, 20_000)
    const epoch = frames[0]!.epoch
    const answer = await ask(encodeRepairRequest({ topic: 'served', epoch, ranges: [[1, 1]] }))
    expect(decodeFrame(answer!.subarray(8))?.entries.map((e) => [e.seq, dec.decode(e.data)])).toEqual([[1, 'kept']])
    const old = await ask(encodeRepairRequest({ topic: 'served', epoch: epoch - 1, ranges: [[1, 1]] }))
    expect(decodeFrame(old!.subarray(8))?.entries).toEqual([])
    expect(a.rejected().repair).toBe(t0 + 5)
  }, 60_000)

  test('a publisher answering a repair with messages not asked for: refused, counted, not delivered, its connection closed', async () => {
    const b = await host({ swarmKey, bootstrap: a.addresses() })
    await joined(a, b)
    const got: string[] = []
    b.pubsub.join('forged-repair').subscribe({ handler: (m) => { if (m.from === peer.peerId.toString()) got.push(dec.decode(m.data)) } })
    // The peer answers every repair with seq 99, which nobody asked for.
    const asked: unknown[] = []
    await peer.handle(REPAIR_PROTOCOL, async (stream: Stream) => {
      const parts: Uint8Array[] = []
      for await (const c of stream) parts.push(c instanceof Uint8Array ? c : c.subarray())
      asked.push(decodeRepairRequest(Buffer.concat(parts)))
      stream.send(encodeRepairAnswer({ epoch: 7, head: 99, through: 4, entries: [{ seq: 99, data: enc.encode('slipped in') }] }))
      await stream.close()
    })
    await peer.dial(multiaddr(b.addresses()[0]!), { signal: AbortSignal.timeout(20_000) })
    const t = '/ww/topic/forged-repair'
    peer.services.pubsub.subscribe(t)
    await waitFor(() => peer.services.pubsub.getSubscribers(t).some((p) => p.toString() === b.id), 20_000)
    const before = b.rejected().repair
    await peer.services.pubsub.publish(t, encodeBatch([{ seq: 1, data: enc.encode('one') }], { epoch: 7, head: 1 }))
    await waitFor(() => got.length === 1, 20_000)
    await peer.services.pubsub.publish(t, encodeBatch([{ seq: 5, data: enc.encode('five') }], { epoch: 7, head: 5 })) // 2-4 missing: B asks
    await waitFor(() => b.rejected().repair > before && b.libp2p.getConnections(peer.peerId).length === 0, 20_000)
    expect(asked).toEqual([{ topic: 'forged-repair', epoch: 7, ranges: [[2, 4]] }])
    expect(got).not.toContain('slipped in')
    expect(b.rejected().repair).toBe(before + 1)
  }, 60_000)
})
