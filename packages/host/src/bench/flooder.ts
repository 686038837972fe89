// A flooding peer for the host.pubsub.flood bench, on a worker thread of its own (its
// signing must not share the event loop it floods): a plain js-libp2p node (tcp, noise,
// yamux, the swarm key, gossipsub; no ww code) that sends one-message pubsub frames on a
// ww topic as fast as it can sign them while told to.
// Messages in: { dial: multiaddr, topic, swarmKey } once, then { flood: boolean }.
// Out: 'ready' once the host is among its topic's peers; { sent } after each flood stops.
import '../cluster/polyfill.js'
import { parentPort } from 'node:worker_threads'
import { noise } from '@chainsafe/libp2p-noise'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { encodeBatch } from '../pubsub/batch.js'

const port = parentPort!
const first = await new Promise<{ dial: string; host: string; topic: string; swarmKey: string }>((r) => port.once('message', r))
const node = await createLibp2p({
  addresses: { listen: [] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionProtector: preSharedKey({ psk: new TextEncoder().encode(first.swarmKey) }),
  services: { identify: identify(), pubsub: gossipsub({ emitSelf: false, allowPublishToZeroTopicPeers: true, globalSignaturePolicy: 'StrictSign' }) },
})
const ps = node.services.pubsub
ps.subscribe(first.topic)
await node.dial(multiaddr(first.dial))
while (!ps.getSubscribers(first.topic).some((p) => p.toString() === first.host)) await new Promise((r) => setTimeout(r, 10))
port.postMessage('ready')

let flooding = false
let seq = 0
const data = new Uint8Array(64)
port.on('message', (m: { flood?: boolean; stop?: boolean }) => {
  if (m.stop) { void Promise.resolve(node.stop()).then(() => port.close()); return }
  if (m.flood === flooding) return
  flooding = m.flood === true
  if (!flooding) return
  void (async () => {
    let sent = 0
    while (flooding) {
      await Promise.all(Array.from({ length: 50 }, () => ps.publish(first.topic, encodeBatch([{ seq: ++seq, data }])).catch(() => {})))
      sent += 50
      await new Promise((r) => setImmediate(r)) // the socket and the next message get their turn
    }
    port.postMessage({ sent })
  })()
})
