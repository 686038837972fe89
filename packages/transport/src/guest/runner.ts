// runGuest: instantiate a guest module against the ww imports (plus any extra namespaces),
// run its entry point to completion, and report how it ended. The guest dying never
// rejects: the GuestExit says why. Callers who instantiate themselves use GuestConnection.

import type { Client, Server } from 'capnp-ts'
import type { FrameLimits } from '../limits.js'
import type { TransportError } from '../errors.js'
import { GuestConnection } from './connection.js'
import { GuestKilledError } from './errors.js'
import { asyncifyModule } from './asyncify-module.js'
import type { GuestStats } from './stats.js'
import type { SuspensionMode } from './suspend.js'

export interface RunGuestOptions {
  bootstrap?: Server | Client
  /** Extra import namespaces (WASI…), or a factory that gets the connection (for `suspending`). */
  imports?: WebAssembly.Imports | ((guest: GuestConnection) => WebAssembly.Imports)
  processId?: string | number
  limits?: FrameLimits
  suspension?: SuspensionMode
  transport?: 'zero-copy' | 'copying'
  /** Export to run; default `ww_main`, else `_start`. */
  entry?: string
  /**
   * Under asyncify, bytes without asyncify exports are instrumented first with these
   * imports (default ['ww.recv']). Pass a compiled Module to skip (it must be instrumented).
   */
  asyncifyImports?: readonly string[]
  /** Aborting kills the guest (ERR_KILLED) at its next import or wait. */
  signal?: AbortSignal
}

export interface GuestExit {
  processId: string | number | undefined
  /** True when the entry export returned. */
  ok: boolean
  /** What the entry export returned (ww_main's i32), if it did. */
  result: number | undefined
  /** Why the guest ended otherwise. */
  error: TransportError | undefined
  stats: GuestStats
  /** Times the guest suspended. */
  suspensions: number
}

/** Run a guest to its end. Rejects only on host-side misuse (e.g. bytes that do not compile). */
export async function runGuest(source: WebAssembly.Module | Uint8Array, opts: RunGuestOptions = {}): Promise<GuestExit> {
  const guest = new GuestConnection({
    suspension: opts.suspension ?? 'auto',
    ...pick(opts, 'bootstrap', 'processId', 'limits', 'transport'),
  })
  const exit = (error: TransportError | undefined, result?: number): GuestExit => ({
    processId: opts.processId, ok: error === undefined, result, error, stats: guest.stats, suspensions: guest.suspender.suspensions,
  })
  const module = await compile(source, guest.suspender.kind, opts.asyncifyImports)
  const extra = typeof opts.imports === 'function' ? opts.imports(guest) : (opts.imports ?? {})
  const instance = await WebAssembly.instantiate(module, { ...extra, ...guest.imports() })

  const signal = opts.signal
  const onAbort = (): void => { guest.kill(new GuestKilledError(`aborted: ${abortReason(signal!)}`)) }
  try {
    guest.attach(instance)
    if (signal?.aborted) return exit(guest.kill(new GuestKilledError(`aborted: ${abortReason(signal)}`)))
    signal?.addEventListener('abort', onAbort, { once: true })
    const r = await guest.run(opts.entry)
    return exit(undefined, r)
  } catch (e) {
    return exit(guest.kill(e))
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

async function compile(source: WebAssembly.Module | Uint8Array, kind: 'asyncify' | 'jspi', imports?: readonly string[]): Promise<WebAssembly.Module> {
  if (!(source instanceof Uint8Array)) return source
  const bytes = source as Uint8Array<ArrayBuffer>
  const module = await WebAssembly.compile(bytes)
  if (kind !== 'asyncify') return module
  const exported = WebAssembly.Module.exports(module).some((e) => e.name === 'asyncify_start_unwind')
  if (exported) return module
  return WebAssembly.compile((await asyncifyModule(bytes, { imports: imports ?? ['ww.recv'] })) as Uint8Array<ArrayBuffer>)
}

function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason
  return r instanceof Error ? r.message : String(r)
}

function pick<T extends object, K extends keyof T>(o: T, ...keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {}
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k]
  return out
}
