// Clock sources: the real clocks (default) or a virtual one (a grant: deterministic runs).

import type { Policy } from '../policy.js'

export interface Clock {
  readonly virtual: boolean
  /** Nanoseconds on clock `id` (0 realtime, 1 monotonic, 2/3 cputime), or undefined for an unknown id. */
  now(id: number): bigint | undefined
  res(id: number): bigint | undefined
  /** Virtual clocks only: a sleep advances time instead of waiting. */
  advance(ns: bigint): void
}

export function createClock(policy: Policy): Clock {
  if (policy.clock.kind === 'virtual') {
    const step = BigInt(policy.clock.stepNs)
    const start = BigInt(policy.clock.startMs) * 1_000_000n
    let t = 0n
    return {
      virtual: true,
      now(id) {
        if (id >>> 0 > 3) return undefined
        const v = t
        t += step
        return id === 0 ? start + v : v
      },
      res: (id) => (id >>> 0 > 3 ? undefined : step > 0n ? step : 1n),
      advance(ns) { t += ns },
    }
  }
  const origin = process.hrtime.bigint()
  // Realtime from the wall clock at start plus monotonic progress: one cheap hrtime read per call.
  const wallAtOrigin = BigInt(Date.now()) * 1_000_000n
  return {
    virtual: false,
    now(id) {
      switch (id) {
        case 0: return wallAtOrigin + (process.hrtime.bigint() - origin)
        case 1: return process.hrtime.bigint()
        // CPU-time clocks: a process is not an OS process; its time since start stands in.
        case 2: case 3: return process.hrtime.bigint() - origin
        default: return undefined
      }
    },
    res: (id) => (id >>> 0 > 3 ? undefined : 1000n),
    advance() {},
  }
}
