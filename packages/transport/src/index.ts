// @ww/transport: Cap'n Proto RPC frames and connections for ww processes.
//
// Frames: readFrame validates a frame completely and decodes single-segment frames in
// place; writeFrame writes a message straight into a target buffer.

export {
  TransportError, FrameError, LimitError, RpcProtocolError, ViewExpiredError,
  ConnectionClosedError, RemoteError, isTransportError,
} from './errors.js'
export { DEFAULT_LIMITS, makeLimits, validateLimits, type FrameLimits } from './limits.js'
export { readFrame, frameLength, frameSize, writeFrame, expire, type ReadFrameResult } from './frame.js'
