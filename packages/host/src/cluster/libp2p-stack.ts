// The js-libp2p parts a libp2p host is built from, in one module that libp2pCluster
// imports when it is called: a program that only runs an embedded host (`ww run`, the
// client commands, every embedded test) never loads libp2p (~0.7 s of CPU at start).
import './polyfill.js'
export { noise } from '@chainsafe/libp2p-noise'
export { gossipsub, TopicValidatorResult } from '@libp2p/gossipsub'
export { identify } from '@libp2p/identify'
export { mplex } from '@libp2p/mplex'
export { ping } from '@libp2p/ping'
export { preSharedKey } from '@libp2p/pnet'
export { tcp } from '@libp2p/tcp'
export { tls } from '@libp2p/tls'
export { yamux } from '@libp2p/yamux'
export { multiaddr } from '@multiformats/multiaddr'
export { createLibp2p } from 'libp2p'
