// args_* and environ_*: a process has no argv and no environment (capabilities replace
// them); the calls succeed with nothing so libc start-up works.

import { ERRNO } from '../errno.js'
import type { Ctx, Impl } from './context.js'

export function argsCalls(ctx: Ctx): Record<'args_get' | 'args_sizes_get' | 'environ_get' | 'environ_sizes_get', Impl> {
  const sizes = (countPtr: number, bufSizePtr: number): number => {
    // Check both before writing either: a failing call leaves memory untouched.
    ctx.mem.check(countPtr, 4); ctx.mem.check(bufSizePtr, 4)
    ctx.mem.setU32(countPtr, 0)
    ctx.mem.setU32(bufSizePtr, 0)
    return ERRNO.SUCCESS
  }
  // Zero entries: nothing is written, whatever the pointers.
  const get = (): number => ERRNO.SUCCESS
  return { args_sizes_get: sizes, environ_sizes_get: sizes, args_get: get, environ_get: get }
}
