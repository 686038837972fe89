// Host-to-host RPC over libp2p (/ww/rpc/1.0.0): the Peer capability and its links.
export { PeerRpc, PeerLink, PEER_PROTOCOL, type PeerRpcOptions } from './rpc.js'
export type { StreamTuning } from './rpc-stream.js'
export { peerServer, type PeerServer, type PeerServices } from './server.js'
export { Libp2pDuplex, streamDuplex } from './stream.js'
export { anchorForwarder, type LinkSource } from './anchors.js'
