// One interface for "a guest waits without blocking anyone": an import that may return a
// promise, and an entry point that runs to completion through every such wait.
// Two implementations: JSPI (jspi.ts) where the engine has it, Binaryen asyncify
// (asyncify.ts) everywhere else.

import type { Suspender, SuspensionMode } from '@ww/interface'
import { AsyncifySuspender } from './asyncify.js'
import { JspiSuspender, jspiAvailable } from './jspi.js'

// The Suspender contract is @ww/interface's (the scheduler's plugins wait through it).
export type { Resume, Suspender, SuspendingImport, SuspensionMode } from '@ww/interface'

export { jspiAvailable }

/** The Suspender for `mode`; throws GuestAbiError for 'jspi' where the engine lacks it. */
export function createSuspender(mode: SuspensionMode = 'auto'): Suspender {
  if (mode === 'jspi' || (mode === 'auto' && jspiAvailable())) return new JspiSuspender()
  return new AsyncifySuspender()
}
