import type { Cluster } from '../cluster/types.js'
import type { Libp2pCluster } from '../cluster/libp2p.js'
import { ProcessTree } from './process-tree.js'
import type { Runtime } from './types.js'

/**
 * The process tree of the host behind `cluster`: modules come from the cluster's bytecode
 * cache, and on a libp2p cluster other hosts can spawn here (Peer.exec) and this host's
 * processes can spawn there (`where`). Close it before the cluster.
 */
export function hostProcessTree(cluster: Cluster, runtime: Runtime, opts: { maxProcesses?: number } = {}): ProcessTree {
  const tree = new ProcessTree({ runtime, cache: cluster.cache, host: cluster.id, ...opts })
  if (cluster.kind === 'libp2p') (cluster as Libp2pCluster).rpc.serveExec(tree)
  return tree
}
