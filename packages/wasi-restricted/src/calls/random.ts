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

/** Fills with the policy's source. Seeded: sfc32, small and fast, not for secrets. */
export function randomSource(policy: Policy): (dst: Uint8Array) => void {
  if (policy.random.kind === 'crypto') return (dst) => { randomFillSync(dst) }
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
