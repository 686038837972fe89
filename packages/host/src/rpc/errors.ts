// RPC exceptions with the stable reasons of schemas/README.md ("ERR_CAP_DENIED: …"). Core
// HostErrors use a few codes of their own; they are mapped here onto the wire contract.

import { RemoteError } from '@ww/transport'
import { isHostError, type HostErrorCode } from '../errors.js'

/** The codes a Host server may answer with (common.capnp's error constants). */
export type RpcErrorCode =
  | 'ERR_CAP_DENIED' | 'ERR_REVOKED' | 'ERR_NOT_FOUND' | 'ERR_INVALID_ARGUMENT' | 'ERR_INVALID_MODULE'
  | 'ERR_HOST_UNREACHABLE' | 'ERR_TIMEOUT' | 'ERR_LIMIT' | 'ERR_CLOSED' | 'ERR_CANCELED'

// rpc.capnp Exception.Type per code; everything not listed is `failed`.
const TYPES: Partial<Record<RpcErrorCode, string>> = { ERR_LIMIT: 'overloaded', ERR_HOST_UNREACHABLE: 'disconnected' }

const CORE: Record<HostErrorCode, RpcErrorCode> = {
  ERR_CAP_DENIED: 'ERR_CAP_DENIED',
  ERR_REVOKED: 'ERR_REVOKED',
  // A released core handle behind a live capability: it is gone for good, as if revoked.
  ERR_RELEASED: 'ERR_REVOKED',
  ERR_NOT_FOUND: 'ERR_NOT_FOUND',
  ERR_HOST_UNREACHABLE: 'ERR_HOST_UNREACHABLE',
  ERR_TIMEOUT: 'ERR_TIMEOUT',
  ERR_ABORTED: 'ERR_CANCELED',
  ERR_INVALID_PATH: 'ERR_INVALID_ARGUMENT',
  ERR_INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  ERR_CLOSED: 'ERR_CLOSED',
  ERR_QUEUE_FULL: 'ERR_LIMIT',
  ERR_TOO_LARGE: 'ERR_LIMIT',
  ERR_RATE_LIMITED: 'ERR_LIMIT',
  // Another host's message refused (cluster/heartbeat.ts): counted, never sent to a caller.
  ERR_BAD_PEER_MESSAGE: 'ERR_INVALID_ARGUMENT',
}

/**
 * An exception the RPC layer sends as-is: reason "CODE: detail", typed per the contract.
 * Its message is the bare reason, because calls pipelined on a failed answer are failed
 * with the answer's message (the transport's own "ERR_REMOTE: " prefix would hide the code).
 */
export class HostRpcError extends RemoteError {
  constructor(readonly rpcCode: RpcErrorCode, detail: string) {
    super(`${rpcCode}: ${detail}`, TYPES[rpcCode] ?? 'failed')
    this.message = this.reason
  }
}

export function rpcError(code: RpcErrorCode, detail: string): HostRpcError {
  return new HostRpcError(code, detail)
}

export const denied = (what: string): RemoteError => rpcError('ERR_CAP_DENIED', what)
export const revoked = (why: string): RemoteError => rpcError('ERR_REVOKED', why)

/** Any failure of a server method, as the exception its caller sees. */
export function toRpcError(e: unknown): Error {
  if (e instanceof HostRpcError) return e
  // Another host's typed exception relayed on (e.g. Peer.bytecode failing inside Peer.exec):
  // re-made as ours so its message is the bare reason and pipelined calls keep the code.
  if (e instanceof RemoteError) return e.remoteCode ? new HostRpcError(e.remoteCode as RpcErrorCode, e.reason.slice(e.remoteCode.length + 2)) : e
  if (isHostError(e)) return rpcError(CORE[e.code], e.message)
  // Anything else is a bug on our side (or a peer's failure passing through); no stack leaks.
  return new RemoteError(`internal error: ${e instanceof Error ? e.message : String(e)}`, 'failed')
}
