// poll_oneoff and sched_yield. A sleep is a suspension point: the import cannot block the
// event loop, so it returns a promise that the caller's suspension hook (asyncify, JSPI)
// turns into a guest wait. Without a hook a call that would wait returns ENOTSUP at once.
// A virtual clock never waits: its sleeps advance virtual time. The work is Poller's
// (poller.ts), made at a process's first poll.

import { ERRNO } from '../errno.js'
import type { CallResult, Ctx, Impl } from './context.js'
import { EVENT_SIZE, Poller } from './poller.js'

const MAX_SUBS = 4096

export function pollCalls(ctx: Ctx): Record<'poll_oneoff' | 'sched_yield', Impl> {
  let poller: Poller | undefined
  return {
    poll_oneoff(inPtr: number, outPtr: number, nsubs: number, neventsPtr: number): CallResult {
      const n = nsubs >>> 0
      if (n === 0 || n > MAX_SUBS) return ERRNO.EINVAL
      // Every range is checked up front: the events area must hold one event per sub.
      ctx.mem.check(outPtr, n * EVENT_SIZE)
      ctx.mem.check(neventsPtr, 4)
      return (poller ??= new Poller(ctx)).poll(inPtr, outPtr, n, neventsPtr)
    },
    sched_yield(): CallResult {
      if (!ctx.canWait) return ERRNO.SUCCESS // advisory: nothing to yield to without a hook
      return ctx.until(ctx.scheduler.yield()).then(() => ERRNO.SUCCESS)
    },
  }
}
