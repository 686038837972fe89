// Many hosts behind one IP address (one machine, a NAT, a bridge): gossipsub's default
// IP-colocation penalty charged every peer on an address shared by more than 10, and kept
// the address of each departed peer for its retained score (an hour). Here 14 peers come
// from 127.0.0.1 and go, then host B joins from there too: A must hear B's heartbeats
// (B enters A's view) and B must not be scored down for its address.
import { multiaddr } from '@multiformats/multiaddr'
import { generateSwarmKey, libp2pCluster, type Libp2pCluster } from '../src/index.js'
import { foreignGossipPeer } from './foreign-peer.js'
import { waitFor } from './hosts.js'

const swarmKey = generateSwarmKey()
let a: Libp2pCluster | undefined
let b: Libp2pCluster | undefined

afterAll(async () => { await Promise.all([a?.close(), b?.close()]) })

test('a host joining from an address 14 departed peers used is heard, not graylisted', async () => {
  a = await libp2pCluster({ swarmKey, ttlMs: 3000 })
  const at = multiaddr(a.addresses()[0]!)
  for (let i = 0; i < 14; i++) {
    const p = await foreignGossipPeer(swarmKey)
    try {
      p.services.pubsub.subscribe('/ww/cluster')
      // libp2p refuses more than 5 inbound connections a second from one address: try again.
      for (let tries = 0; ; tries++) {
        try { await p.dial(at, { signal: AbortSignal.timeout(20_000) }); break } catch (e) { if (tries > 50) throw e }
        await new Promise((r) => setTimeout(r, 250))
      }
      // Known to A's gossipsub (its score entry and address recorded) before it goes.
      await waitFor(() => (a!.libp2p.services.pubsub.getPeers() as { toString(): string }[]).some((x) => x.toString() === p.peerId.toString()), 20_000)
    } finally {
      await p.stop()
    }
  }
  b = await libp2pCluster({ swarmKey, ttlMs: 3000, bootstrap: a.addresses() })
  await waitFor(() => a!.view.get(b!.id) !== undefined, 60_000)
  expect(a.peerScore(b.id)).toBeGreaterThanOrEqual(0)
}, 120_000)
