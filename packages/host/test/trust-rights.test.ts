// Per-peer rights inside one private cluster of three libp2p hosts (in this process):
// A lets B read only and C do everything. B's registry announcements and topic messages
// are dropped by A's gossipsub validators; C's arrive. B and C see each other's (their
// allow-lists give both every right), so the drops are A's rights, not the network.
import '../src/cluster/polyfill.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { generateSwarmKey, libp2pCluster, parseAllowEntry, peerIdOf, type Libp2pCluster } from '../src/index.js'
import { waitFor } from './hosts.js'

const enc = new TextEncoder()
let a: Libp2pCluster, b: Libp2pCluster, c: Libp2pCluster

beforeAll(async () => {
  const swarmKey = generateSwarmKey()
  const [ka, kb, kc] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519'), generateKeyPair('Ed25519')]) as PrivateKey[]
  const [ia, ib, ic] = [ka!, kb!, kc!].map(peerIdOf) as [string, string, string]
  a = await libp2pCluster({ swarmKey, privateKey: ka!, ttlMs: 3000, allow: new Map([parseAllowEntry(`${ib}=read`), parseAllowEntry(ic)]) })
  b = await libp2pCluster({ swarmKey, privateKey: kb!, ttlMs: 3000, bootstrap: a.addresses(), allow: new Map([parseAllowEntry(ia), parseAllowEntry(ic)]) })
  c = await libp2pCluster({ swarmKey, privateKey: kc!, ttlMs: 3000, bootstrap: a.addresses(), allow: new Map([parseAllowEntry(ia), parseAllowEntry(ib)]) })
  await waitFor(() => [a, b, c].every((h) => h.view.hosts().length === 3), 20_000)
  // B can send C what it publishes on the registry topic directly (they first hear of each
  // other through A, then dial, then exchange subscriptions and open gossipsub streams).
  await waitFor(() => b.libp2p.services.pubsub.getSubscribers('/ww/registry').some((p) => p.toString() === c.id) &&
    b.libp2p.getConnections().some((x) => x.remotePeer.toString() === c.id &&
      x.streams.some((st) => st.direction === 'outbound' && st.protocol?.startsWith('/meshsub/') === true)), 20_000)
})

afterAll(async () => { await Promise.all([a, b, c].map((h) => h?.close())) })

test('the rights each host gives', () => {
  expect(a.private).toBe(true)
  expect([...a.rightsOf(b.id)]).toEqual([])
  expect([...a.rightsOf(c.id)]).toEqual(['exec', 'anchors:write', 'registry:provide', 'pubsub:publish'])
  expect([...a.rightsOf('12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA')]).toEqual([]) // not listed
})

test('registry: an announcement without registry:provide is dropped; with it, heard', async () => {
  const before = a.dropped()
  const pb = b.registry.provide('from-b', {}, { ttlMs: 30_000 })
  // C hears B's announcement (C gives B every right): it was sent.
  expect((await c.registry.findProviders('from-b', { min: 1, timeoutMs: 10_000 })).map((p) => p.host)).toEqual([b.id])
  await waitFor(() => a.dropped() > before)
  expect(await a.registry.findProviders('from-b')).toEqual([])
  const pc = c.registry.provide('from-c', {}, { ttlMs: 30_000 })
  expect((await a.registry.findProviders('from-c', { min: 1, timeoutMs: 10_000 })).map((p) => p.host)).toEqual([c.id])
  pb.release(); pc.release()
})

test('pubsub: messages from a peer without pubsub:publish are dropped; from one with it, delivered', async () => {
  const got: Array<{ from: string; text: string }> = []
  const onA = a.pubsub.join('news')
  onA.subscribe({ capacity: 64, handler: (m) => { got.push({ from: m.from, text: new TextDecoder().decode(m.data) }) } })
  const onB = b.pubsub.join('news')
  const onC = c.pubsub.join('news')
  const atC: string[] = []
  onC.subscribe({ capacity: 64, handler: (m) => { atC.push(m.from) } })
  await Promise.all([onB.waitForPeers(2, { timeoutMs: 15_000 }), onC.waitForPeers(2, { timeoutMs: 15_000 })])
  const before = a.dropped()
  await onB.publish(enc.encode('from b'))
  await waitFor(() => atC.includes(b.id) && a.dropped() > before, 15_000)
  await onC.publish(enc.encode('from c'))
  await waitFor(() => got.some((m) => m.from === c.id), 15_000)
  expect(got).toEqual([{ from: c.id, text: 'from c' }])
})
