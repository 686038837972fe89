import type { Anchor } from '../anchors/types.js'
import type { BytecodeCache } from '../cache/bytecode-cache.js'
import type { PubSub, HostId } from '../pubsub/types.js'
import type { Registry } from '../registry.js'
import type { ClusterView } from './view.js'

/**
 * The cluster behind the Host capability. One interface, two implementations:
 * `embeddedCluster()` (one process, zero configuration) and `libp2pCluster()` (many hosts
 * over js-libp2p). Everything a guest reaches through Host is built on this.
 */
export interface Cluster extends AsyncDisposable {
  readonly kind: 'embedded' | 'libp2p'
  /** This host's id (its libp2p peer id when on libp2p). */
  readonly id: HostId
  /** Where other hosts can reach this one (multiaddrs with /p2p/<id>); empty when embedded. */
  addresses(): string[]
  readonly view: ClusterView
  readonly pubsub: PubSub
  readonly registry: Registry
  readonly cache: BytecodeCache
  /**
   * The cluster's anchor root. Its children are host ids; each host owns the subtree under
   * its id. `anchors.walk(id)` for this host is local; for another host it is forwarded
   * there (over host-to-host RPC).
   */
  readonly anchors: Anchor
  /** This host's own subtree (same as `anchors.walk(id)`). */
  readonly local: Anchor
  /** What this host reports as its load in heartbeats (e.g. its process count). */
  setLoad(load: number): void
  close(): Promise<void>
}

/** Opens an anchor on another host; supplied by the host-to-host RPC layer. */
export type AnchorForwarder = (host: HostId, path: string) => Anchor
