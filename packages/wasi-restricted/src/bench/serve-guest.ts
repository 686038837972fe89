// Runs a WASI guest server on a granted listener, the way a spawner would: restricted
// WASI with a sockets grant, the transport's Suspender (asyncify, or JSPI where the engine
// has it) so that a guest with nothing to do waits without blocking the event loop.
// Shared by the tests and the net.http benchmark; not public API.

import { createSuspender } from '@ww/transport'
import { createWasi, DEFAULT_POLICY, grant, MemorySink, ProcessExit, type Policy, type Wasi } from '../index.js'
import type { Binder } from '../sockets.js'

export interface ServingGuest {
  readonly wasi: Wasi
  readonly stdout: MemorySink
  readonly stderr: MemorySink
  /** How the guest waits: 'asyncify' or 'jspi'. */
  readonly kind: 'asyncify' | 'jspi'
  /** Settles when the guest ends: its exit code, or the error that ended it. */
  readonly done: Promise<{ exitCode: number } | { error: unknown }>
}

export interface ServeOptions {
  processId?: string
  policy?: Policy
  /** Export to run: `_start` (C) or `ww_main` (AssemblyScript SDK guests). */
  entry?: string
}

export async function serveGuest(bytes: Uint8Array, listeners: readonly Binder[], opts: ServeOptions = {}): Promise<ServingGuest> {
  const suspender = createSuspender('auto')
  const stdout = new MemorySink(), stderr = new MemorySink()
  const wasi = createWasi(opts.policy ?? grant(DEFAULT_POLICY, { sockets: { maxConnections: 256 }, maxFds: 300 }), {
    processId: opts.processId ?? 'server', sinks: { stdout, stderr }, sockets: listeners,
    suspend: (fn) => suspender.wrapImport(fn),
  })
  const module = await WebAssembly.compile(bytes as BufferSource)
  const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.imports as unknown as WebAssembly.ModuleImports })
  wasi.attach(instance)
  // C guests export their asyncify data area as a global (see guests/c/sleep.c); SDK guests export the ABI's function.
  const area = instance.exports.ww_asyncify_area
  const exports = area instanceof WebAssembly.Global ? { ...instance.exports, ww_asyncify_data: () => area.value as number } : instance.exports
  suspender.attach({ exports } as unknown as WebAssembly.Instance)
  const entryName = opts.entry ?? (typeof instance.exports.ww_main === 'function' ? 'ww_main' : '_start')
  const entry = instance.exports[entryName] as (...a: number[]) => unknown
  const done = suspender.run(entry).then(
    (r) => ({ exitCode: typeof r === 'number' ? r : 0 }),
    (e: unknown) => (e instanceof ProcessExit ? { exitCode: e.exitCode } : { error: e }),
  )
  return { wasi, stdout, stderr, done, kind: suspender.kind }
}
