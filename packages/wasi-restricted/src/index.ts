// @ww/wasi-restricted: deny-by-default WASI preview1 for untrusted guests.
//
// - Policy as data: DEFAULT_POLICY, grant(), validatePolicy(), describe()/describeMarkdown().
// - createWasi(policy, { processId, sinks, stdin?, sockets?, suspend?, scheduler? }) → Wasi:
//   `imports` for wasi_snapshot_preview1, attach(memory), audit(), close().
// - Capabilities: OutputSink / InputStream for stdio, Binder / Conn for sockets, with
//   in-memory implementations (MemorySink, MemoryStream, MemoryListener).
// - Real sockets (net/): listenTcp(addr, limits) → a listener to grant, dialerFor(allowed).

export { DEFAULT_POLICY, grant, validatePolicy, type Policy, type Row, type Grant, type FdGroup, type DenyErrno, type OutputPolicy, type ScratchGrant } from './policy.js'
export { describe, describeMarkdown, type DescribedRow } from './describe.js'
export { PREVIEW1_FUNCTIONS, type Preview1Function, type Area } from './functions.js'
export { createWasi, SUSPENDING_IMPORTS, type Wasi, type WasiOptions, type Preview1Imports, type SuspendHook, type SuspendingImport } from './wasi.js'
export type { WasiScheduler } from './calls/context.js'
export type { AuditSnapshot } from './audit.js'
export { ERRNO, errnoName, type ErrnoName } from './errno.js'
export { WasiError, PolicyError, ProcessExit, WasiStateError, WasiInternalError } from './errors.js'
export { checkScratchSeed, ScratchSeedError, type ScratchEntry } from './scratch/seed.js'
export { MemorySink, MemoryStream, type OutputSink, type OutputRecord, type InputStream } from './io.js'
export { MemoryListener, ConnClosed, Waiters, type Binder, type Conn, type Unwatch } from './sockets.js'
export * from './net/index.js'
