import { TransportError } from './errors.js'

// Frame limits, after capnp C++'s ReaderOptions: traversal limit 8 Mi words (64 MiB) and
// nesting limit 64, plus a segment-count and frame-size cap for stream and guest frames.

export interface FrameLimits {
  /** Largest frame (header + segments) accepted, in bytes. */
  readonly maxFrameBytes: number
  /** Most segments one frame may have. */
  readonly maxSegments: number
  /** Words the validator may traverse per frame (amplification guard). */
  readonly traversalLimitWords: number
  /** Deepest pointer nesting accepted. */
  readonly nestingLimit: number
}

export const DEFAULT_LIMITS: FrameLimits = Object.freeze({
  maxFrameBytes: 64 * 1024 * 1024,
  maxSegments: 512,
  traversalLimitWords: 8 * 1024 * 1024,
  nestingLimit: 64,
})

// The segment table stores u32 word counts; a frame beyond 2^32 words cannot be described.
const MAX_FRAME_BYTES = 2 ** 35

/** Defaults overridden by `partial`, validated; throws TransportError ERR_INVALID_LIMITS on a nonsensical value. */
export function makeLimits(partial: Partial<FrameLimits> = {}): FrameLimits {
  const l = { ...DEFAULT_LIMITS, ...partial }
  check('maxFrameBytes', l.maxFrameBytes, 16, MAX_FRAME_BYTES)
  check('maxSegments', l.maxSegments, 1, 2 ** 32)
  check('traversalLimitWords', l.traversalLimitWords, 1, Number.MAX_SAFE_INTEGER)
  check('nestingLimit', l.nestingLimit, 1, 1 << 20)
  return Object.freeze(l)
}

/** Throws ERR_INVALID_LIMITS unless `l` is a valid FrameLimits. */
export function validateLimits(l: FrameLimits): void {
  makeLimits(l)
}

function check(name: string, v: number, min: number, max: number): void {
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new TransportError('ERR_INVALID_LIMITS', `FrameLimits.${name} must be an integer in [${min}, ${max}], got ${v}`)
  }
}
