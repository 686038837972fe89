// proc_exit ends the process with a typed trap (never the host); proc_raise is denied by
// its row (ENOSYS) and has no other behaviour.

import { ProcessExit } from '../errors.js'
import type { Ctx, Impl } from './context.js'

export function procCalls(ctx: Ctx, onExit: (e: ProcessExit) => void): Record<'proc_exit', Impl> {
  return {
    proc_exit(code: number): number {
      const e = new ProcessExit(code >>> 0, ctx.processId)
      onExit(e)
      throw e
    },
  }
}
