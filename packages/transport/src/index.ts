// @ww/transport: Cap'n Proto RPC for ww processes.
//
// - Frames: readFrame validates a frame completely (bounds, segments, traversal, nesting)
//   and decodes single-segment frames in place; writeFrame writes a message straight into
//   a target buffer; expire() ends a borrowed message's validity.
// - RpcConnection: two-party RPC over any MessageSink, dispatching calls synchronously
//   with params read in place. Server rule: read params before your first await; keep()
//   the bytes and retainClient() the capabilities that must outlive the call (the call's
//   own capability handles are disposed when it settles).
// - Forwarding: a capability of another connection sent on a connection goes out as a
//   forwarder (forward.ts), calls of any interface copied through without its schema.
// - Transports: connectStream (Node Duplex), createPair (in process).

export {
  TransportError, FrameError, LimitError, RpcProtocolError, ViewExpiredError,
  ConnectionClosedError, RemoteError, CapabilityReleasedError, isTransportError, type TransportErrorOptions,
} from './errors.js'
export { DEFAULT_LIMITS, makeLimits, validateLimits, type FrameLimits } from './limits.js'
export { readFrame, frameLength, frameSize, writeFrame, expire, type ReadFrameResult } from './frame.js'
export {
  RpcConnection, RpcStats, keep, keepStruct, KeptBytes, onReleased, retainServer, retainClient,
  type MessageSink, type RpcConnectionOptions, type CallTarget,
  forwardingServer, callRaw, rawMethod, RawCall, ForwardingServer, DEFAULT_MAX_IN_FLIGHT, type ForwardOptions, type ForwardStats,
  type ForwardTarget, type AnyMethod, type TypedClient,
  copyPointer, type CapTranslate, type CopyBudget, AnyServer,
} from './rpc/index.js'
export { connectStream, type StreamOptions } from './stream.js'
export { FrameReader, type FrameReceiver } from './frame-reader.js'
export { createPair, type PairOptions } from './pair.js'
// - Guests: runGuest / GuestConnection speak the guest ABI (ABI.md) over a module's own
//   memory, suspending it (asyncify or JSPI) while it waits.
export * from './guest/index.js'
