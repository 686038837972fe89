// A peer that is not a ww host: plain js-libp2p (tcp, noise, yamux, pnet with the cluster's
// key, gossipsub with signed messages), made with no ww code, for the tests where something
// foreign inside the swarm key misbehaves (floods, forges, sends malformed messages).
import '../src/cluster/polyfill.js'
import { noise } from '@chainsafe/libp2p-noise'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p, type Libp2p } from 'libp2p'

export type ForeignPeer = Libp2p<{ pubsub: GossipSub }>

/** A gossipsub node holding `swarmKey` (the key file's text), dialling out only. */
export function foreignGossipPeer(swarmKey: string): Promise<ForeignPeer> {
  return createLibp2p({
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector: preSharedKey({ psk: new TextEncoder().encode(swarmKey) }),
    services: { identify: identify(), pubsub: gossipsub({ emitSelf: false, allowPublishToZeroTopicPeers: true, globalSignaturePolicy: 'StrictSign' }) },
  })
}
