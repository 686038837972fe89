// The host's forwarders: @ww/transport's schema-agnostic forwarder (any interface, params
// and results copied raw, capabilities inside wrapped) with the host's error contract.
// The transport also forwards on its own every capability of another connection a
// message carries; the host makes forwarders itself where it adds a check (a provision
// withdrawn: ERR_REVOKED), a bound (a PeerLink's deadline) or a release of its own.

import type { Client } from 'capnp-ts'
import { forwardingServer as forward, RemoteError, TransportError, type ForwardingServer, type ForwardOptions } from '@ww/transport'
import { isHostError } from '../errors.js'
import { rpcError, toRpcError } from './errors.js'

export type { ForwardingServer, ForwardOptions }
export { callRaw } from '@ww/transport'

/** Transport codes a caller may see as they are (common.capnp's constants). */
const PASSED = new Set(['ERR_CLOSED', 'ERR_LIMIT', 'ERR_RELEASED'])

/**
 * A server forwarding every call to `target` (a client, or a function giving one — at once
 * or once a link is up — asked on the first call). Typed failures (the target's own
 * exceptions, a host's codes, a closed connection's ERR_CLOSED) pass through typed.
 */
export function forwardingServer(target: Client | (() => Client | Promise<Client>), opts: ForwardOptions = {}): ForwardingServer {
  const map = opts.mapError
  return forward(target, {
    ...opts,
    mapError: (e) => {
      const m = e instanceof RemoteError || isHostError(e) ? e : (map?.(e) ?? e)
      if (m instanceof TransportError && !(m instanceof RemoteError) && PASSED.has(m.code)) return rpcError(m.code === 'ERR_RELEASED' ? 'ERR_REVOKED' : m.code as 'ERR_CLOSED', m.reason)
      return toRpcError(m)
    },
  })
}
