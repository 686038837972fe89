// JSPI (WebAssembly JavaScript Promise Integration, on by default from Node 24): the engine
// suspends the whole wasm stack when a `Suspending` import returns a promise, and the
// `promising` entry returns a promise. The guest module needs no instrumentation.

import type { Resume, Suspender, SuspendingImport } from './suspend.js'
import { GuestAbiError } from './errors.js'

interface JspiApi {
  Suspending: new (fn: (...args: number[]) => unknown) => (...args: number[]) => number
  promising: (fn: (...args: number[]) => unknown) => (...args: number[]) => Promise<unknown>
}

function api(): JspiApi | undefined {
  const w = WebAssembly as unknown as Partial<JspiApi>
  return typeof w.Suspending === 'function' && typeof w.promising === 'function' ? (w as JspiApi) : undefined
}

/** True when this engine has standard JSPI. */
export function jspiAvailable(): boolean {
  return api() !== undefined
}

/** A settled wait's value (a Resume is called now: the guest resumes right after). */
const valueOf = (v: number | Resume): number => (typeof v === 'function' ? v() : v)

export class JspiSuspender implements Suspender {
  readonly kind = 'jspi' as const
  suspensions = 0
  readonly #api: JspiApi

  constructor() {
    const a = api()
    if (a === undefined) throw new GuestAbiError('JSPI (WebAssembly.Suspending) is not available in this engine; use asyncify')
    this.#api = a
  }

  wrapImport(fn: SuspendingImport): (...args: number[]) => number {
    return new this.#api.Suspending((...args: number[]) => {
      const r = fn(...args)
      if (typeof r === 'number') return r
      this.suspensions++
      return r.then(valueOf)
    })
  }

  attach(_instance: WebAssembly.Instance): void {}

  run(entry: (...args: number[]) => unknown, args: number[] = []): Promise<unknown> {
    return this.#api.promising(entry)(...args)
  }
}
