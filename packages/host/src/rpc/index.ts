// The Host capability as Cap'n Proto RPC servers over the core (schemas/host.capnp and
// the interfaces it reaches).
export {
  hostCapability, DEFAULT_RIGHTS,
  type HostCapability, type HostCapabilityOptions, type HostRights, type ProcessIdentity, type CapabilityProvider,
} from './host.js'
export type { LiveCounts } from './scope.js'
export { rpcError, toRpcError, HostRpcError, type RpcErrorCode } from './errors.js'
export { executorServer, executorProvider } from './executor.js'
export { processServer, writeExitStatus, readExitStatus } from './process.js'
export { debugServer, debugProvider, hostCounters, type DebugOptions, type ProcessStats } from './debug.js'
export { Scope } from './scope.js'
export { dialerServer, connServer, listenerServer, dialerProvider } from './net.js'
export { childHostCapability, type ChildHostOptions } from './child-host.js'
export { bootContextServer, preopenFds, MAX_CAPS, MAX_CAP_NAME_BYTES, MAX_PREOPENS } from './delegate.js'
export { forwardingServer, type ForwardOptions, type ForwardingServer } from './forward.js'
