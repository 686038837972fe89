// Typed errors of @ww/transport. Every failure a peer or a guest can provoke surfaces as
// one of these, with a stable `code`; nothing else may escape the transport.

import { WwError } from '@ww/interface'

export interface TransportErrorOptions {
  processId?: string | number
  cause?: unknown
}

export class TransportError extends WwError {
  /** Why, in words (also the message, without the code prefix). */
  readonly reason: string
  /** The process whose frame or connection failed, when a transport knows it. */
  processId?: string | number

  constructor(code: string, reason: string, opts: TransportErrorOptions = {}) {
    super(code, `${code}: ${reason}`, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.reason = reason
    if (opts.processId !== undefined) this.processId = opts.processId
  }
}

/** A frame is malformed: bad header, truncated, a pointer out of its segment, a reserved kind. */
export class FrameError extends TransportError {
  constructor(reason: string, opts?: TransportErrorOptions) { super('ERR_BAD_FRAME', reason, opts) }
}

/** A configured limit was exceeded (size, segments, traversal, nesting). */
export class LimitError extends TransportError {
  constructor(reason: string, opts?: TransportErrorOptions) { super('ERR_LIMIT', reason, opts) }
}

/** The peer broke the RPC protocol (unknown question, bad target, malformed envelope). */
export class RpcProtocolError extends TransportError {
  constructor(reason: string, opts?: TransportErrorOptions) { super('ERR_RPC_PROTOCOL', reason, opts) }
}

/** A view into borrowed (guest) memory was used after the call it belonged to. */
export class ViewExpiredError extends TransportError {
  constructor(reason = 'message view used after its call returned; copy with keep() first', opts?: TransportErrorOptions) {
    super('ERR_VIEW_EXPIRED', reason, opts)
  }
}

/** The connection is closed; pending and later calls fail with this. */
export class ConnectionClosedError extends TransportError {
  constructor(reason = 'connection closed', opts?: TransportErrorOptions) { super('ERR_CLOSED', reason, opts) }
}

/** A capability handle was disposed by its holder; calls on it fail with this (other handles work on). */
export class CapabilityReleasedError extends TransportError {
  constructor(reason = 'this capability handle was disposed', opts?: TransportErrorOptions) { super('ERR_RELEASED', reason, opts) }
}

/** The peer answered a call with an exception; `reason` is the peer's text. */
export class RemoteError extends TransportError {
  /** The `ERR_…` code the peer put at the head of its reason, if any. */
  readonly remoteCode: string | undefined
  /** rpc.capnp Exception.Type: failed, overloaded, disconnected, unimplemented. */
  readonly type: string

  constructor(reason: string, type = 'failed', opts?: TransportErrorOptions) {
    super('ERR_REMOTE', reason, opts)
    this.type = type
    const m = /^(ERR_[A-Z0-9_]+): /.exec(reason)
    this.remoteCode = m?.[1]
  }
}

export function isTransportError(e: unknown): e is TransportError {
  return e instanceof TransportError
}

/** The reason text sent in Return.exception / Abort: a typed error keeps its code. */
export function reasonOf(e: unknown): string {
  // A peer's exception passes through unchanged (not prefixed again with ERR_REMOTE).
  if (e instanceof RemoteError) return e.reason
  if (e instanceof TransportError) return e.message
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code
    return typeof code === 'string' && !e.message.startsWith(code) ? `${code}: ${e.message}` : e.message
  }
  return String(e)
}
