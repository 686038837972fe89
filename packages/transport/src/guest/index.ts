// @ww/transport guest side: RPC with a wasm guest through its own memory (ABI.md).
//
// - runGuest(bytes, { bootstrap, … }) → GuestExit: instantiate, run, report the end.
// - GuestConnection: the pieces, for callers that instantiate themselves: imports(),
//   suspending(fn) for other imports that may wait, attach(instance), run(), kill().
// - Suspender ('asyncify' | 'jspi'), asyncifyModule() to instrument a module.
// - AsyncifySuspender: also run(exportName) and detach(), to move a waiting guest to a
//   new instance (hibernation, @ww/proc), and start()/suspend()/resume() to step a
//   guest without a promise per wait (the @ww/proc dispatcher).

export { GuestConnection, type GuestConnectionOptions, type WwImports } from './connection.js'
export { runGuest, type RunGuestOptions, type GuestExit } from './runner.js'
export { GuestStats } from './stats.js'
export { GuestMemoryError, GuestAbiError, GuestTrapError, GuestKilledError } from './errors.js'
export { createSuspender, jspiAvailable, type Resume, type Suspender, type SuspendingImport, type SuspensionMode } from './suspend.js'
export { AsyncifySuspender, isAsyncified, SUSPENDED } from './asyncify.js'
export { JspiSuspender } from './jspi.js'
export { asyncifyModule, type AsyncifyModuleOptions } from './asyncify-module.js'
export { zeroCopyIO, type FrameIO, type Incoming } from './frame-io.js'
export { copyingIO } from './copying.js'
