// Bad input from a peer inside the swarm key: a plain js-libp2p node made here (tcp,
// noise, yamux, pnet with the cluster's key, gossipsub; no ww code) connected to ww host A,
// with ww host B beside it. It sends malformed heartbeats, heartbeats naming B or asking to
// be believed for weeks, registry announcements for B's processes, and messages whose
// `from` says B (a forged author: its own key signs them). Each must be refused and
// counted by kind (Libp2pCluster.rejected()), not relayed to B, and leave A's view of B and
// what A delivers from B as they were. An anchor version from the future (a compare-and-set
// expecting a version the owner has not reached) changes nothing either.
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { generateSwarmKey, libp2pCluster, type Libp2pCluster, type MembershipEvent } from '../src/index.js'
import { encodeBatch } from '../src/pubsub/batch.js'
import { encodeAnnouncement } from '../src/registry-wire.js'
import { foreignGossipPeer, type ForeignPeer } from './foreign-peer.js'
import { waitFor } from './hosts.js'

const enc = new TextEncoder()
const swarmKey = generateSwarmKey()
let a: Libp2pCluster, b: Libp2pCluster, peer: ForeignPeer
const events: MembershipEvent[] = []

beforeAll(async () => {
  a = await libp2pCluster({ swarmKey, ttlMs: 3000 })
  b = await libp2pCluster({ swarmKey, ttlMs: 3000, bootstrap: a.addresses() })
  peer = await foreignGossipPeer(swarmKey)
  await waitFor(() => a.view.get(b.id) !== undefined && b.view.get(a.id) !== undefined, 20_000)
  a.view.watch({ handler: (e) => { events.push(e) } })
  for (const t of ['/ww/cluster', '/ww/registry', '/ww/topic/t']) peer.services.pubsub.subscribe(t)
  await peer.dial(multiaddr(a.addresses()[0]!), { signal: AbortSignal.timeout(20_000) })
  await waitFor(() => ['/ww/cluster', '/ww/registry'].every((t) => peer.services.pubsub.getSubscribers(t).some((p) => p.toString() === a.id)), 20_000)
}, 60_000)

afterAll(async () => {
  await peer?.stop()
  await Promise.all([a, b].map((h) => h?.close()))
})

let beats = 0
const beat = (fields: Record<string, unknown>): Uint8Array =>
  enc.encode(JSON.stringify({ t: 'hb', epoch: 1, n: ++beats, addrs: [], load: 0, uptimeMs: 1, version: 'x', ttlMs: 3000, ...fields }))
const publish = (topic: string, data: Uint8Array): Promise<unknown> => peer.services.pubsub.publish(topic, data)
/** A's view of B, as a comparable record (everything but uptime, which moves). */
const bSeenByA = (): unknown => { const h = a.view.get(b.id); return h && { ...h, uptimeMs: 0, load: 0 } }

test('malformed heartbeats, one naming another host and one from the future: refused, counted, not relayed; A\'s view of B unchanged', async () => {
  const before = bSeenByA()
  expect(before).toBeDefined()
  const bad = [
    enc.encode('not json'),
    enc.encode(JSON.stringify({ t: 'hb' })),                                          // no fields
    beat({ addrs: [`/ip4/10.9.9.9/tcp/4001/p2p/${b.id}`] }),                          // "I am reachable as B"
    beat({ ttlMs: 14 * 24 * 3600_000 }),                                               // believe me for two weeks
    beat({ addrs: ['not a multiaddr'] }),
    beat({ load: -1 }),
  ]
  for (const m of bad) await publish('/ww/cluster', m)
  // A good one last: the peer enters A's view with what it said (so its messages do arrive).
  const own = `/ip4/127.0.0.1/tcp/9/p2p/${peer.peerId.toString()}`
  await publish('/ww/cluster', beat({ addrs: [own] }))
  await waitFor(() => a.rejected().heartbeat >= bad.length && a.view.get(peer.peerId.toString()) !== undefined, 20_000)
  expect(a.rejected().heartbeat).toBe(bad.length)
  expect(a.view.get(peer.peerId.toString())?.addresses).toEqual([own])
  expect(bSeenByA()).toEqual(before)
  expect(b.rejected().heartbeat).toBe(0) // A did not relay them
  expect(events.filter((e) => e.host.id === b.id)).toEqual([])
}, 60_000)

test('a registry announcement for another host\'s process: refused, counted, never found', async () => {
  const forged = encodeAnnouncement({ name: 'forged-svc', host: b.id, pid: 1n, token: 7n, ttlMs: 60_000, meta: [], withdrawn: false })
  await publish('/ww/registry', forged)
  // Then one of its own (allowed: it is admitted), so the forged one's fate is settled.
  await publish('/ww/registry', encodeAnnouncement({ name: 'own-svc', host: peer.peerId.toString(), pid: 1n, token: 8n, ttlMs: 60_000, meta: [], withdrawn: false }))
  await waitFor(() => a.rejected().provider >= 1, 20_000)
  expect((await a.registry.findProviders('own-svc', { min: 1, timeoutMs: 20_000 })).map((p) => p.host)).toEqual([peer.peerId.toString()])
  expect(await a.registry.findProviders('forged-svc')).toEqual([])
  expect(a.rejected().provider).toBe(1)
}, 60_000)

test('an anchor version from the future: a compare-and-set expecting it never swaps, the owner\'s node is unchanged', async () => {
  await a.local.walk('v/x').store(enc.encode('one'))
  const remote = b.anchors.walk(`${a.id}/v/x`)
  const ahead = await remote.compareAndSet!(2 ** 40, enc.encode('from the future'))
  expect(ahead).toEqual({ swapped: false, version: 1 })
  expect(a.local.walk('v/x').version!()).toBe(1)
  expect(new TextDecoder().decode((await a.local.walk('v/x').load() as { bytes: Uint8Array }).bytes)).toBe('one')
  expect(await remote.compareAndSet!(1, enc.encode('two'))).toEqual({ swapped: true, version: 2 })
}, 60_000)

test('a dead host\'s heartbeat replayed after gossipsub forgot it: refused, counted, the host stays out of the view', async () => {
  // The peer records what gossipsub hands it on the cluster topic, as received (signed by its author).
  type RawMessage = { from?: Uint8Array; topic: string }
  const gs = peer.services.pubsub as unknown as {
    handleReceivedRpc(from: unknown, rpc: { messages: RawMessage[] }): Promise<void>
    sendRpc(to: string, rpc: { subscriptions: []; messages: RawMessage[] }): boolean
  }
  const recorded: RawMessage[] = []
  const receive = gs.handleReceivedRpc.bind(gs)
  gs.handleReceivedRpc = (from, rpc) => { recorded.push(...rpc.messages.filter((m) => m.topic === '/ww/cluster')); return receive(from, rpc) }
  const c = await libp2pCluster({ swarmKey, ttlMs: 3000, bootstrap: a.addresses() })
  const cBytes = peerIdFromString(c.id).toMultihash().bytes
  const fromC = (): RawMessage[] => recorded.filter((m) => m.from !== undefined && Buffer.from(m.from).equals(cBytes))
  try {
    await waitFor(() => a.view.get(c.id) !== undefined && fromC().length > 0, 20_000)
  } finally {
    await c.close() // a goodbye: A drops it at once
  }
  const heartbeat = fromC()[0]!
  await waitFor(() => a.view.get(c.id) === undefined, 20_000)
  const cEvents = (): string[] => events.filter((e) => e.host.id === c.id).map((e) => e.type)
  expect(cEvents()).toEqual(['join', 'leave'])
  // Gossipsub drops a message id it has seen only for its seen-cache's time (2 min); cleared
  // here to stand for that time passing. The signature is the author's and still checks.
  ;(a.libp2p.services.pubsub as unknown as { seenCache: { clear(): void } }).seenCache.clear()
  const before = a.rejected().replay
  expect(gs.sendRpc(a.id, { subscriptions: [], messages: [heartbeat] })).toBe(true)
  await waitFor(() => a.rejected().replay > before, 20_000)
  expect(a.view.get(c.id)).toBeUndefined()
  expect(cEvents()).toEqual(['join', 'leave'])
  expect(b.rejected().replay).toBe(0) // not relayed
  gs.handleReceivedRpc = receive
}, 60_000)

// Last: a forged message ends the forger's connection.
test('messages whose `from` says B but B did not sign them: refused, counted, the forger disconnected; A\'s view of B and B\'s messages unchanged', async () => {
  const got: string[] = []
  a.pubsub.join('t').subscribe({ handler: (m) => { if (m.from === b.id) got.push(new TextDecoder().decode(m.data)) } })
  // The peer signs with its own key but names B as the author.
  const gs = peer.services.pubsub as unknown as { publishConfig: { author: unknown } }
  const own = gs.publishConfig.author
  gs.publishConfig = { ...gs.publishConfig, author: peerIdFromString(b.id) }
  try {
    await publish('/ww/cluster', enc.encode(JSON.stringify({ t: 'bye', epoch: 1, n: 1 }))) // "B is leaving"
    await publish('/ww/topic/t', encodeBatch([{ seq: 1, data: enc.encode('forged') }]))
  } finally {
    gs.publishConfig = { ...gs.publishConfig, author: own }
  }
  await waitFor(() => a.rejected().forged >= 1 && a.libp2p.getConnections(peer.peerId).length === 0, 20_000)
  expect(a.view.get(b.id)).toBeDefined()
  expect(events.filter((e) => e.host.id === b.id)).toEqual([])
  // B's own messages still arrive, and only those.
  const onB = b.pubsub.join('t')
  await onB.waitForPeers(1, { timeoutMs: 20_000 })
  await onB.publish(enc.encode('real'))
  await waitFor(() => got.length > 0, 20_000)
  expect(got).toEqual(['real'])
}, 60_000)
