// The Peer capability (schemas/peer.capnp) one host offers another on /ww/rpc/1.0.0:
// ping, info, anchors, provider (a registry provision of this host, for finders there),
// and — once a ProcessTree is served (`PeerRpc.serveExec`) — exec and bytecode.

import { peer } from '@ww/schema'
import { setInterfaceClient } from 'capnp-ts'
import { ALL_RIGHTS, type PeerRight } from '../cluster/trust.js'
import type { Cluster } from '../cluster/types.js'
import type { ProcessTree } from '../exec/process-tree.js'
import type { ProcessHandle, SpawnRequest } from '../exec/types.js'
import { anchorServer } from '../rpc/anchor.js'
import { cidText } from '../rpc/cache.js'
import { denied, rpcError } from '../rpc/errors.js'
import { readSpawnRequest } from '../rpc/executor.js'
import { guard } from '../rpc/guard.js'
import { writeHostInfo } from '../rpc/info.js'
import { processServer } from '../rpc/process.js'
import { serveProvision } from '../rpc/registry.js'
import { Scope } from '../rpc/scope.js'

export interface PeerServer {
  readonly server: peer.Peer$Server
  /**
   * The connection from the caller ended: revokes what it was handed (anchors, processes)
   * and kills the processes it spawned here — a child never outlives its link to its parent.
   */
  close(reason: string): void
}

export interface PeerServices {
  /** What the caller may do here (cluster/trust.ts). Default: everything. */
  rights?: ReadonlySet<PeerRight>
  /** The tree Peer.exec spawns into; without one exec is ERR_CAP_DENIED. */
  tree?: ProcessTree
  /** Fetches a module this host lacks from the caller (Peer.bytecode on the caller). */
  fetchBytecode?: (cid: string) => Promise<Uint8Array>
}

/** The Peer bootstrap for one connection from `caller` (its authenticated peer id). */
export function peerServer(cluster: Cluster, caller: string, services: PeerServices = {}): PeerServer {
  const scope = new Scope()
  const spawned = new Set<ProcessHandle>()
  let closedWhy: string | undefined
  const rights = services.rights ?? ALL_RIGHTS
  const server = new peer.Peer.Server(guard(scope, 'peer', {
    ping() {},
    info(_p, r) {
      const self = cluster.view.get(cluster.id)
      if (self === undefined) throw rpcError('ERR_CLOSED', `host ${cluster.id} is closed`)
      writeHostInfo(r.initInfo(), self, true)
    },
    anchors(_p, r) {
      // This host's own subtree, named by its absolute path in the cluster tree.
      // Without anchors:write, a read-only view (set and compareAndSet are ERR_CAP_DENIED).
      const root = cluster.local.walk('')
      r.setRoot(anchorServer({ core: rights.has('anchors:write') ? root : root.readOnly(), scope, prefix: cluster.id }))
    },
    // Its caps are the call's, released when it settles (refused: at once); the tree holds its own of a child's.
    exec: async (p: peer.Peer_exec$Params, r: peer.Peer_exec$Results) => {
      const tree = services.tree
      if (tree === undefined) throw denied(`Peer.exec from ${caller}: this host runs no processes`)
      if (!rights.has('exec')) throw denied(`Peer.exec from ${caller}: that host lacks the right exec here`)
      // The caller vouches for its own processes only: noise authenticated `caller`.
      const parentRef = p.getParent()
      if (parentRef.getHost() !== caller) throw denied(`Peer.exec: parent ${parentRef.getHost()} is not the calling host ${caller}`)
      const parent = { host: caller, pid: Number(parentRef.getPid()) }
      const req: SpawnRequest = readSpawnRequest(p.getBytecode(), p.hasOptions() ? p.getOptions() : undefined)
      delete req.where
      if (req.cid !== undefined && !cluster.cache.has(req.cid)) {
        if (!services.fetchBytecode) throw rpcError('ERR_NOT_FOUND', `bytecode ${req.cid}`)
        const bytes = await services.fetchBytecode(req.cid)
        if (cluster.cache.put(bytes) !== req.cid) throw rpcError('ERR_INVALID_MODULE', `bytes from ${caller} do not match ${req.cid}`)
      }
      const handle = await tree.executorForRemote(parent).spawn(req)
      // The caller's connection closed while this one started (a start can take seconds):
      // nobody is left to wait for it or kill it, so it ends now rather than run on, orphaned.
      if (closedWhy !== undefined) {
        void handle.kill('parentExited')
        throw rpcError('ERR_CLOSED', `Peer.exec from ${caller}: ${closedWhy}`)
      }
      spawned.add(handle)
      void handle.wait().finally(() => spawned.delete(handle))
      r.setProcess(processServer(handle, { host: caller, pid: BigInt(parent.pid) }, scope, tree.watches))
    },
    bytecode(p, r) {
      r.setBytecode(cluster.cache.get(cidText(p.getCid().toUint8Array())))
    },
    provider(p, r) {
      // A reference of the caller's own, released by it (or with this connection).
      setInterfaceClient(0, serveProvision(cluster.registry, p.getToken()), r)
    },
  }))
  return {
    server,
    close: (reason) => {
      closedWhy ??= reason
      scope.revoke(reason)
      for (const h of spawned) void h.kill('parentExited')
      spawned.clear()
    },
  }
}
