import { AbortedError, TimeoutError } from '../errors.js'

import type { CallOptions } from '@ww/interface'

export type { CallOptions }

/**
 * Waits for `promise`, failing with a typed error when `signal` aborts or `timeoutMs`
 * passes; never leaves a timer or listener behind.
 */
export function bounded<T>(promise: Promise<T>, what: string, opts: CallOptions = {}): Promise<T> {
  const { signal, timeoutMs } = opts
  if (!signal && timeoutMs === undefined) return promise
  if (signal?.aborted) return Promise.reject(new AbortedError(what, { cause: signal.reason }))
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const done = (): void => {
      if (timer) clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    const onAbort = (): void => { done(); reject(new AbortedError(what, { cause: signal?.reason })) }
    signal?.addEventListener('abort', onAbort, { once: true })
    if (timeoutMs !== undefined) timer = setTimeout(() => { done(); reject(new TimeoutError(what)) }, timeoutMs)
    promise.then((v) => { done(); resolve(v) }, (e: unknown) => { done(); reject(e) })
  })
}
