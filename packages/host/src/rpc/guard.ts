// Every server method runs through `guard`: refused with ERR_REVOKED once its scope is
// revoked (also when revocation lands while an async method is in flight), and every
// failure leaves as an RPC exception with a stable reason.

import { toRpcError } from './errors.js'
import type { Scope } from './scope.js'

type Method = (params: never, results: never) => void | Promise<void>

export function guard<T extends { [K in keyof T]: Method }>(scope: Scope, what: string, impl: T): T {
  const out: Record<string, Method> = {}
  for (const key of Object.keys(impl) as Array<keyof T & string>) {
    const f = impl[key] as unknown as (p: unknown, r: unknown) => void | Promise<void>
    out[key] = ((p: unknown, r: unknown) => {
      try {
        scope.check(what)
        const v = f.call(impl, p, r)
        if (v === undefined) return undefined
        return v.then(
          () => scope.check(what),
          (e: unknown) => { scope.check(what); throw toRpcError(e) },
        )
      } catch (e) {
        throw toRpcError(e)
      }
    }) as Method
  }
  return out as T
}
