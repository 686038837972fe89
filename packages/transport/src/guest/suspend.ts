// One interface for "a guest waits without blocking anyone": an import that may return a
// promise, and an entry point that runs to completion through every such wait.
// Two implementations: JSPI (jspi.ts) where the engine has it, Binaryen asyncify
// (asyncify.ts) everywhere else.

import { AsyncifySuspender } from './asyncify.js'
import { JspiSuspender, jspiAvailable } from './jspi.js'

/** How a guest suspends: 'auto' picks JSPI when `WebAssembly.Suspending` exists, else asyncify. */
export type SuspensionMode = 'auto' | 'asyncify' | 'jspi'

/** An import that may have to wait: returns its result now, or a promise of it. */
export type SuspendingImport = (...args: number[]) => number | Promise<number>

export interface Suspender {
  readonly kind: 'asyncify' | 'jspi'
  /** Times a guest actually suspended (an import returned a promise). */
  readonly suspensions: number
  /**
   * The function to put in the import object for `fn`. When `fn` returns a promise the
   * guest suspends until it settles: on fulfilment the import returns the value; on
   * rejection the guest is ended with that error (it unwinds, never sees a value).
   */
  wrapImport(fn: SuspendingImport): (...args: number[]) => number
  /** Bind to the instance (asyncify needs its exports). Before run(). */
  attach(instance: WebAssembly.Instance): void
  /** Call `entry` (an export of the attached instance) and settle when it returns for good. */
  run(entry: (...args: number[]) => unknown, args?: number[]): Promise<unknown>
}

export { jspiAvailable }

/** The Suspender for `mode`; throws GuestAbiError for 'jspi' where the engine lacks it. */
export function createSuspender(mode: SuspensionMode = 'auto'): Suspender {
  if (mode === 'jspi' || (mode === 'auto' && jspiAvailable())) return new JspiSuspender()
  return new AsyncifySuspender()
}
