// clock_res_get, clock_time_get: the real clocks, or the virtual clock of a grant.

import { ERRNO } from '../errno.js'
import type { Ctx, Impl } from './context.js'

export function clockCalls(ctx: Ctx): Record<'clock_res_get' | 'clock_time_get', Impl> {
  const { mem, clock } = ctx
  return {
    clock_res_get(id: number, resPtr: number): number {
      const r = clock.res(id)
      if (r === undefined) return ERRNO.EINVAL
      mem.setU64(resPtr, r)
      return ERRNO.SUCCESS
    },
    clock_time_get(id: number, _precision: bigint, timePtr: number): number {
      // Check before reading the clock so a bad pointer does not advance a virtual clock.
      const p = mem.check(timePtr, 8)
      const t = clock.now(id)
      if (t === undefined) return ERRNO.EINVAL
      mem.dv().setBigUint64(p, t, true) // no refresh in between: dv() is the view check() just validated
      return ERRNO.SUCCESS
    },
  }
}
