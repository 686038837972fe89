// The Host capability as Cap'n Proto RPC servers over the core (schemas/host.capnp and
// the interfaces it reaches).
export {
  hostCapability, DEFAULT_RIGHTS,
  type HostCapability, type HostCapabilityOptions, type HostRights, type ProcessIdentity, type CapabilityProvider,
} from './host.js'
export type { LiveCounts } from './scope.js'
export { rpcError, toRpcError, HostRpcError, type RpcErrorCode } from './errors.js'
