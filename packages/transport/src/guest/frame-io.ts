// How frames cross the guest-memory boundary. Two strategies with the same ABI:
// zero-copy (this file) and copying (copying.ts, the baseline). Both get the memory's
// *current* ArrayBuffer on every call: nothing here outlives the import call.

import type { Message } from 'capnp-ts'
import { frameSize, readFrame, writeFrame } from '../frame.js'
import { FrameMessage, viewOf } from '../frame/message.js'
import { dvOf } from '../rpc/envelope.js'
import type { FrameLimits } from '../limits.js'

/** Frames up to this size (every RPC envelope of a small call) are copied word by word. */
const SMALL_FRAME = 1024

export interface Incoming {
  message: Message
  /** The message views guest memory: valid only until the import returns. */
  borrowed: boolean
  /** Frames copied into host memory on the way (0 or 1). */
  copied: number
}

export interface FrameIO {
  readonly name: 'zero-copy' | 'copying'
  /** Decode the frame at [ptr, ptr+len) of `memory` (already bounds-checked). */
  read(memory: ArrayBuffer, ptr: number, len: number, limits: FrameLimits): Incoming
  /** Write `message` at [ptr, ptr+cap) of `memory`; returns its length, or -needed if it does not fit. */
  write(message: Message, memory: ArrayBuffer, ptr: number, cap: number): { n: number; copied: number }
}

export const zeroCopyIO: FrameIO = {
  name: 'zero-copy',
  read(memory, ptr, len, limits) {
    // Single-segment frames are decoded where they lie; readFrame copies the rest once.
    const r = readFrame(memory, ptr, len, limits)
    return { message: r.message, borrowed: r.borrowed, copied: r.borrowed ? 0 : 1 }
  },
  write(message, memory, ptr, cap) {
    const n = frameSize(message)
    if (n > cap) return { n: -n, copied: 0 }
    // Segments go straight from the message's buffers into guest memory.
    if (n > SMALL_FRAME || !writeSmall(message, memory, ptr, n)) writeFrame(message, new Uint8Array(memory, ptr, n))
    return { n, copied: 0 }
  },
}

/**
 * A one-segment frame of `n` bytes (header included) written at `ptr` through the memory's view,
 * 4 bytes at a time from the segment's own DataView: for a frame of a few words, making
 * the typed-array views writeFrame uses costs more than the copy. False (nothing
 * written) for any other message.
 */
function writeSmall(message: Message, memory: ArrayBuffer, ptr: number, n: number): boolean {
  const segs = message._capnp.segments
  if (segs.length !== 1) return false
  const src = dvOf(segs[0]!)
  const start = message instanceof FrameMessage ? message.rootOffset : 0
  const bytes = n - 8
  if (start + bytes > src.byteLength) return false
  const dv = viewOf(memory)
  dv.setUint32(ptr, 0, true)
  dv.setUint32(ptr + 4, bytes >>> 3, true)
  for (let i = 0; i < bytes; i += 4) dv.setUint32(ptr + 8 + i, src.getUint32(start + i, true), true)
  return true
}
