// The restricted WASI of a guest on a pool worker, as a plugin module (its default export
// is the PluginFactory the worker calls for each spawn). Everything in its options
// crosses threads: the policy is plain data, and the guest's stdout/stderr go through a
// port to the spawner's sinks on the main thread (output-port.ts). spawnPoolGuest names
// this module; it is public so that other plugin modules can build on it.
//
// Sockets: a listener or a connection is a node:net handle of the thread that opened it,
// so a spawner cannot hand one to a worker. It sends SocketGrants instead (what to listen
// on or dial, checked against the policy on its side); the worker opens them before the
// process starts (worker.ts) and they become the guest's fds from 3, closed when it ends.
// Sockets that exist only on the spawner's thread are served to the worker over ports
// (socket-port.ts) and come after those.

import type { MessagePort } from 'node:worker_threads'
import type { Binder, Conn, Policy, ScratchEntry } from '@ww/wasi-restricted'
import type { ProcessPlugin } from '@ww/interface'
import { restrictedWasi, WASI_MODULE } from '../compose/wasi.js'
import type { ProcessContext, ProcessExtension } from '../scheduler.js'
import type { ExitStatus } from '../status.js'
import { PortSink } from './output-port.js'

export interface WorkerWasiOptions {
  /** Default DEFAULT_POLICY (no files, environment, arguments or network). */
  readonly policy?: Policy
  /** Where stdout/stderr records go (to the main thread); without it, nowhere. */
  readonly output?: MessagePort
  /** Which of fd 1 and 2 go through `output` (the others are discarded). */
  readonly fds?: readonly (1 | 2)[]
  /** What the scratch dir holds at start (plain data: cloned to the worker). */
  readonly scratchSeed?: readonly ScratchEntry[]
}

export default function workerWasi(options: WorkerWasiOptions): ProcessPlugin {
  return workerWasiWith(options, undefined)
}

/** A guest's socket fds, live on this thread: listeners, then connections. */
export interface GuestSockets {
  readonly listeners: readonly Binder[]
  readonly conns: readonly Conn[]
  close(): void
}

/** The same, with sockets made on this thread for the guest: they go to its first start only. */
export function workerWasiWith(options: WorkerWasiOptions, opened: GuestSockets | undefined): ProcessPlugin {
  let given = false
  return {
    name: 'wasi', provides: [WASI_MODULE],
    create: (ctx) => {
      const sockets = given ? undefined : opened
      given = true
      return wasiPart(options, ctx, sockets)
    },
  }
}

function wasiPart(options: WorkerWasiOptions, ctx: ProcessContext, opened: GuestSockets | undefined): ProcessExtension {
  const sink = options.output === undefined ? undefined : new PortSink(options.output)
  const fds = new Set(options.fds ?? [1, 2])
  let part: ProcessExtension
  try {
    part = restrictedWasi({
      ...(options.policy ? { policy: options.policy } : {}),
      ...(options.scratchSeed ? { scratchSeed: options.scratchSeed } : {}),
      ...(opened ? { sockets: opened.listeners, conns: opened.conns } : {}),
      ...(sink && fds.has(1) ? { stdout: sink } : {}),
      ...(sink && fds.has(2) ? { stderr: sink } : {}),
    }).create(ctx)
  } catch (e) {
    sink?.end() // e.g. a policy that does not validate: the main thread must not wait for output
    opened?.close() // nor its sockets stay open for nobody
    throw e
  }
  return {
    ...part,
    onExit: (status: ExitStatus) => {
      try { part.onExit?.(status) } finally { sink?.end() }
    },
  }
}
