// The restricted WASI as a plugin: each process gets its own `createWasi` (deny by
// default, the spawner's policy), whose waits (sleeps, full sinks, sockets) park the
// process in the scheduler instead of blocking the host.

import {
  DEFAULT_POLICY, SUSPENDING_IMPORTS, createWasi,
  type Binder, type Conn, type InputStream, type OutputRecord, type OutputSink, type Policy, type ScratchEntry, type Wasi,
} from '@ww/wasi-restricted'
import type { ProcessContext, ProcessExtension } from '../scheduler.js'
import type { ProcessPlugin } from './plugin.js'

export const WASI_MODULE = 'wasi_snapshot_preview1'

/** Prefix of ProcessInfo.extension counters of WASI denials by function and errno: `denied path_open ENOTCAPABLE`. */
export const WASI_DENIED_PREFIX = 'denied '

export interface RestrictedWasiOptions {
  /** Default DEFAULT_POLICY: no files, no environment, no arguments, no network. */
  policy?: Policy
  /** Where fd 1 and 2 go; default: nowhere (a guest's output never reaches the host's stdio unasked). */
  stdout?: OutputSink
  stderr?: OutputSink
  /** fd 0 (the policy must grant `stdin: 'stream'`). */
  stdin?: InputStream
  /** Listening sockets handed in as pre-opened fds (the policy must grant sockets). */
  sockets?: readonly Binder[]
  /**
   * Connections the spawner made (e.g. `dialerFor([addr]).dial(addr)`), handed in as
   * socket fds after the listeners (the policy must grant sockets). Closed when the process ends.
   */
  conns?: readonly Conn[]
  /**
   * What the scratch dir holds at start (the policy must grant one): files as bytes, dirs,
   * symlinks, counted against its quota (a seed that does not fit ends the spawn with
   * ScratchSeedError, ERR_SCRATCH_SEED). scratchSeedFromHost reads one from a host directory.
   */
  scratchSeed?: readonly ScratchEntry[]
}

/** One process's WASI part; `wasi` is its audit, exit and scratch usage. */
export interface WasiPart extends ProcessExtension {
  readonly wasi: Wasi
}

/**
 * `sink` with a writable() that resolves one event-loop turn later. WASI retries a refused
 * write each time writable() resolves; a sink that says "writable" but refuses the record
 * again (e.g. room left, but less than the record) would otherwise spin that retry in
 * microtasks and freeze the host's event loop. Paced, the guest stays parked and
 * killable, the host keeps running. Costs a turn only on the backpressure path.
 */
function paced(sink: OutputSink): OutputSink {
  return {
    write: (r) => sink.write(r),
    writable: () => sink.writable().then(() => new Promise<void>((resolve) => setImmediate(resolve))),
    // poll_oneoff's view of the sink (stdout writable while it has room), passed through.
    ...(sink.canWrite ? { canWrite: () => sink.canWrite!() } : {}),
    ...(sink.watchWritable ? { watchWritable: (wake: () => void) => sink.watchWritable!(wake) } : {}),
  }
}

/** Takes every record and keeps nothing. */
export const discardSink: OutputSink = {
  write: (_r: OutputRecord) => true,
  writable: () => Promise.resolve(),
}

export interface RestrictedWasiPlugin extends ProcessPlugin {
  create(ctx: ProcessContext): WasiPart
}

export function restrictedWasi(opts: RestrictedWasiOptions = {}): RestrictedWasiPlugin {
  return {
    name: 'wasi',
    provides: [WASI_MODULE],
    suspendingImports: SUSPENDING_IMPORTS.map((f) => `${WASI_MODULE}.${f}`),
    create(ctx) {
      // A sleep must not outlive its process, nor keep the host's event loop alive: once
      // the process has ended its sleeps never wake (nothing is left to wake).
      const ended = new AbortController()
      let waits = 0
      const sleep = (ns: bigint, signal: AbortSignal): Promise<void> => new Promise<void>((resolve) => {
        if (ended.signal.aborted) return
        const stop = (): void => clearTimeout(t)
        const wake = (): void => { stop(); signal.removeEventListener('abort', wake); ended.signal.removeEventListener('abort', stop); resolve() }
        const t = setTimeout(wake, Math.ceil(Number(ns) / 1e6))
        signal.addEventListener('abort', wake, { once: true })
        ended.signal.addEventListener('abort', stop, { once: true })
      })
      const wasi = createWasi(opts.policy ?? DEFAULT_POLICY, {
        processId: String(ctx.pid),
        sinks: { stdout: opts.stdout ? paced(opts.stdout) : discardSink, stderr: opts.stderr ? paced(opts.stderr) : discardSink },
        ...(opts.stdin ? { stdin: opts.stdin } : {}),
        ...(opts.sockets ? { sockets: opts.sockets } : {}),
        ...(opts.conns ? { conns: opts.conns } : {}),
        ...(opts.scratchSeed ? { scratchSeed: opts.scratchSeed } : {}),
        // A wait of WASI's writes guest memory as it settles (a read, a poll): none may be
        // under way when the process hibernates.
        suspend: (fn) => ctx.suspender.wrapImport((...args) => {
          const r = fn(...args)
          if (typeof r === 'number') return r
          waits++
          return r.finally(() => { waits-- })
        }),
        scheduler: { sleep },
      })
      return {
        wasi,
        imports: { [WASI_MODULE]: wasi.imports },
        attach: (inst) => wasi.attach(inst),
        canHibernate: () => waits === 0,
        onHibernate: () => wasi.detach(),
        onRestore: (inst) => wasi.attach(inst),
        onExit: () => { ended.abort(); wasi.close() },
        // proc_exit(n) ends the guest by a trap; it is an exit, not a crash.
        exitStatus: () => (wasi.exit ? { kind: 'exited', code: wasi.exit.exitCode } : undefined),
        stats: () => {
          const a = wasi.audit()
          // By function and errno together ('denied path_open ENOTCAPABLE'), for a view that says which answer each call got.
          const calls = Object.entries(a.byCall)
          return {
            denials: a.byFunction as Readonly<Record<string, number>>,
            ...(calls.length > 0 ? { counters: Object.fromEntries(calls.map(([call, n]) => [`${WASI_DENIED_PREFIX}${call}`, n])) } : {}),
          }
        },
      }
    },
  }
}
