// @ww/host/embedded: a host in one process — the embedded cluster, the process tree and the
// Host capability with its RPC servers — without the libp2p stack and its crypto (peer ids,
// noise, the Peer capability), which the main entry loads. A program that only runs an
// embedded host (`ww run`, `ww host` that neither listens nor joins) starts on half the
// modules. The same files as the main entry's: classes and values are the same ones.
export { embeddedCluster, type EmbeddedClusterOptions } from './cluster/embedded.js'
export { hostProcessTree } from './exec/host-tree.js'
export { preopenSockets } from './net/preopen.js'
export * from './rpc/index.js'
