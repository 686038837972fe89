// The copying baseline (what capnp-ts's own Conn does): every incoming frame is copied
// out of guest memory into a fresh host buffer before decoding; every reply is
// serialized into a fresh host buffer and that buffer copied in. (Serialized with
// writeFrame, not capnp-ts's toArrayBuffer(): the connection's outgoing envelopes live at
// an offset in a shared slab, which toArrayBuffer does not know about. Same cost: one
// allocation and one copy more than the zero-copy path.)

import { frameSize, readFrame, writeFrame } from '../frame.js'
import type { FrameIO } from './frame-io.js'

export const copyingIO: FrameIO = {
  name: 'copying',
  read(memory, ptr, len, limits) {
    const copy = memory.slice(ptr, ptr + len)
    const r = readFrame(copy, 0, len, limits)
    // The copy is the host's own: nothing to expire when the call returns.
    return { message: r.message, borrowed: false, copied: 1 }
  },
  write(message, memory, ptr, cap) {
    const bytes = new Uint8Array(frameSize(message))
    writeFrame(message, bytes)
    if (bytes.byteLength > cap) return { n: -bytes.byteLength, copied: 1 }
    new Uint8Array(memory, ptr, bytes.byteLength).set(bytes)
    return { n: bytes.byteLength, copied: 1 }
  },
}
