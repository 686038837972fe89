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
        // A call still running when its scope is revoked fails at once (e.g. a publish
        // waiting on a full `block` queue), not when it would have finished.
        return new Promise<void>((resolve, reject) => {
          const off = scope.onRevoke(() => reject(toRpcError(catchOf(() => scope.check(what)))))
          v.then(
            () => { off(); try { scope.check(what); resolve() } catch (e) { reject(e) } },
            (e: unknown) => { off(); reject(scope.revoked ? catchOf(() => scope.check(what)) : toRpcError(e)) },
          )
        })
      } catch (e) {
        throw toRpcError(e)
      }
    }) as Method
  }
  return out as T
}

function catchOf(f: () => void): unknown {
  try { f() } catch (e) { return e }
  return undefined
}
