// random_get: the host's CSPRNG, or a seeded generator (a grant: deterministic runs).

import { randomFillSync } from 'node:crypto'
import { ERRNO } from '../errno.js'
import type { Policy } from '../policy.js'
import type { Ctx, Impl } from './context.js'

/** Most bytes one random_get may ask for; larger requests are EINVAL (getentropy allows 256). */
export const RANDOM_MAX = 1 << 20

export function randomCalls(ctx: Ctx): Record<'random_get', Impl> {
  return {
    random_get(ptr: number, len: number): number {
      if (len >>> 0 > RANDOM_MAX) return ERRNO.EINVAL
      ctx.fillRandom(ctx.mem.view(ptr, len))
      return ERRNO.SUCCESS
    },
  }
}

/**
 * CSPRNG bytes served from a per-process pool refilled 4 KiB at a time: one
 * randomFillSync costs ~1 µs whatever its size, so small requests (getentropy: 16–32 B)
 * would pay it each time. Bytes are handed out once and zeroed.
 */
const POOL_BYTES = 4096

function cryptoPool(): (dst: Uint8Array) => void {
  // Allocated at the first random_get: a buffer per spawn is most of createWasi's cost
  // (and GC work) for the many processes that never ask for randomness.
  let pool: Uint8Array | undefined
  let at = POOL_BYTES
  return (dst) => {
    if (dst.length > POOL_BYTES) { randomFillSync(dst); return }
    pool ??= new Uint8Array(POOL_BYTES)
    if (at + dst.length > POOL_BYTES) { randomFillSync(pool); at = 0 }
    dst.set(pool.subarray(at, at + dst.length))
    pool.fill(0, at, at + dst.length)
    at += dst.length
  }
}

/** Fills with the policy's source. Seeded: sfc32, small and fast, not for secrets. */
export function randomSource(policy: Policy): (dst: Uint8Array) => void {
  if (policy.random.kind === 'crypto') return cryptoPool()
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = policy.random.seed >>> 0
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  for (let i = 0; i < 16; i++) next()
  return (dst) => {
    for (let i = 0; i < dst.length; i += 4) {
      let v = next()
      for (let j = i; j < Math.min(i + 4, dst.length); j++) { dst[j] = v & 0xff; v >>>= 8 }
    }
  }
}
