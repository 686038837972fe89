// How frames cross the guest-memory boundary. Two strategies with the same ABI:
// zero-copy (this file) and copying (copying.ts, the baseline). Both get the memory's
// *current* ArrayBuffer on every call: nothing here outlives the import call.

import type { Message } from 'capnp-ts'
import { frameSize, readFrame, writeFrame } from '../frame.js'
import type { FrameLimits } from '../limits.js'

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
    writeFrame(message, new Uint8Array(memory, ptr, n))
    return { n, copied: 0 }
  },
}
