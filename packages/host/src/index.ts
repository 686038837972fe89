// @ww/host: the cluster behind the Host capability.
//
// - Cluster: one interface, two implementations — embeddedCluster() (one process, the
//   default) and libp2pCluster() (js-libp2p: TCP, noise, yamux, gossipsub, identify, ping).
// - Services on every cluster: view (membership), pubsub (bounded per-subscriber queues,
//   visible overflow policy, order per publisher), anchors (path tree; each host owns the
//   subtree under its id), registry (provide / findProviders over pubsub), bytecode cache
//   (BLAKE3, LRU-bounded).
// - Executor: the interface @ww/proc implements (Runtime) and the process tree kept here.
// - Capability hygiene: attenuation (readOnly, publishOnly, subscribeOnly), revocation
//   (Revoker, revocable), refcounted release (RefCount).

export type { Cluster, AnchorForwarder } from './cluster/types.js'
export { embeddedCluster, type EmbeddedClusterOptions } from './cluster/embedded.js'
export { libp2pCluster, type BootstrapDial, type Libp2pCluster, type Libp2pClusterOptions, type PubsubRepairStats } from './cluster/libp2p.js'
export { DEFAULT_REPAIR_WINDOW, type RepairWindowLimits } from './pubsub/repair.js'
export { PeerMessageError, MAX_BEAT_TTL_MS, type PeerRejectKind } from './cluster/heartbeat.js'
export {
  generateSwarmKey, parseSwarmKey, readSwarmKey, writeSwarmKey, loadIdentity, peerIdOf, parsePeerId, parseRights,
  parseAllowEntry, parseAllowFile, readAllowFile, PEER_RIGHTS, TrustConfigError, type PeerRight, type AllowList,
} from './cluster/trust.js'
export type { ClusterView, HostInfo, MembershipEvent, MembershipWatch, LeaveReason } from './cluster/view.js'
export { waitForHost } from './cluster/view.js'

export type {
  HostId, Message, PubSub, PubSubStats, Topic, Subscription, SubscribeOptions, PubSubNetwork,
} from './pubsub/types.js'
export { createPubSub, type PubSubInit } from './pubsub/pubsub.js'
export { Mailbox, type OverflowPolicy, type MailboxOptions, type MailboxStats } from './pubsub/mailbox.js'
export { DEFAULT_FLOOD_LIMIT, FloodLimiter, type FloodLimit, type FloodDrops } from './pubsub/flood.js'

export type { Anchor, AnchorValue, AnchorInput, AnchorEvent, AnchorWatch, WatchOptions } from './anchors/types.js'
export { AnchorTree } from './anchors/tree.js'
export { parsePath, MAX_DEPTH } from './anchors/path.js'

export {
  createRegistry, type Registry, type Provider, type Provision, type FindOptions, type ControlChannel,
} from './registry.js'
export { BytecodeCache, cidOf, type Cid, type BytecodeCacheOptions, type BytecodeCacheStats } from './cache/bytecode-cache.js'

export type {
  Pid, ExitStatus, KillReason, SpawnRequest, ChildOptions, PreopenCap, ProcessHandle, ProcessSnapshot, Executor, StartSpec, RunningProcess, Runtime,
  RemoteProcess, RemoteSpawner, NamedCap, HostOverrideCaps,
} from './exec/types.js'
export { ProcessTree, type ProcessTreeInit, type ProcessTreeCounters } from './exec/process-tree.js'
export { Watches, type Watch, type ProcessRef } from './exec/watches.js'
export { hostProcessTree } from './exec/host-tree.js'

export { Revoker, revocable, RefCount, Once } from './caps.js'
export {
  HostError, CapDeniedError, RevokedError, ReleasedError, NotFoundError, HostUnreachableError,
  TimeoutError, AbortedError, InvalidPathError, InvalidArgumentError, ClosedError, QueueFullError,
  TooLargeError, RateLimitedError, isHostError, type HostErrorCode,
} from './errors.js'
export { bounded, type CallOptions } from './util/abort.js'
export { VERSION } from './version.js'

// - RPC: the Host capability (schemas/host.capnp) as Cap'n Proto servers over the core.
export {
  hostCapability, DEFAULT_RIGHTS, rpcError, toRpcError, HostRpcError,
  type HostCapability, type HostCapabilityOptions, type HostRights, type ProcessIdentity,
  type CapabilityProvider, type LiveCounts, type RpcErrorCode,
  executorServer, executorProvider, processServer, writeExitStatus, readExitStatus,
  debugServer, debugProvider, hostCounters, Scope, type DebugOptions, type ProcessStats,
  dialerServer, connServer, listenerServer, dialerProvider,
  childHostCapability, bootContextServer, preopenFds, MAX_CAPS, MAX_CAP_NAME_BYTES, MAX_PREOPENS, type ChildHostOptions,
  forwardingServer, type ForwardOptions, type ForwardingServer,
} from './rpc/index.js'
export { TcpDialer, TcpConn, TcpAcceptor, parseAddr, type TcpLimits, type Destination } from './net/tcp.js'
export { preopenSockets, RpcConn, RpcListener, READ_AHEAD_BYTES, WRITE_BOUND_BYTES } from './net/preopen.js'

// - Host-to-host RPC: the Peer capability (schemas/peer.capnp) on libp2p /ww/rpc/1.0.0.
export {
  PeerRpc, PeerLink, PEER_PROTOCOL, peerServer, streamDuplex, Libp2pDuplex, type PeerRpcOptions, type PeerServer, type PeerServices, type StreamTuning,
} from './peer/index.js'
