// The Peer capability (schemas/peer.capnp) one host offers another on /ww/rpc/1.0.0.
// ping, info and anchors; exec, bytecode and provider are not served yet (ERR_CAP_DENIED,
// a typed answer rather than a missing method).

import { peer } from '@ww/schema'
import type { Cluster } from '../cluster/types.js'
import { anchorServer } from '../rpc/anchor.js'
import { denied, rpcError } from '../rpc/errors.js'
import { writeHostInfo } from '../rpc/info.js'
import { Scope } from '../rpc/scope.js'

export interface PeerServer {
  readonly server: peer.Peer$Server
  /** Revokes what this connection was handed (its anchors) and frees their core handles. */
  close(reason: string): void
}

/** The Peer bootstrap for one connection from `caller` (its authenticated peer id). */
export function peerServer(cluster: Cluster, caller: string): PeerServer {
  const scope = new Scope()
  const server = new peer.Peer.Server({
    ping() {},
    info(_p, r) {
      scope.check('Peer.info')
      const self = cluster.view.get(cluster.id)
      if (self === undefined) throw rpcError('ERR_CLOSED', `host ${cluster.id} is closed`)
      writeHostInfo(r.initInfo(), self, true)
    },
    anchors(_p, r) {
      scope.check('Peer.anchors')
      // This host's own subtree, named by its absolute path in the cluster tree.
      r.setRoot(anchorServer({ core: cluster.local.walk(''), scope, prefix: cluster.id }))
    },
    exec() { throw denied(`Peer.exec from ${caller}: not served by this host`) },
    bytecode() { throw denied(`Peer.bytecode from ${caller}: not served by this host`) },
    provider() { throw denied(`Peer.provider from ${caller}: not served by this host`) },
  })
  return { server, close: (reason) => scope.revoke(reason) }
}
