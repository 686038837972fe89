// Typed errors of the worker pool. Errors a worker's scheduler raised (ERR_PROC_LIMIT…)
// come back as the ProcError they were, a guest's socket its worker could not open as a
// NetError; what only a pool can fail with is here.

import { PluginError, WwError, type PluginErrorCode } from '@ww/interface'
import { NetError } from '@ww/wasi-restricted'
import { ProcError, type ProcErrorCode } from '../errors.js'
import type { SerializedError } from './protocol.js'

export type WorkerPoolErrorCode = 'ERR_WORKER_CRASHED' | 'ERR_WORKER_FAILED' | 'ERR_POOL_CLOSED'

export class WorkerPoolError extends WwError<WorkerPoolErrorCode> {}

/** A worker thread died (an uncaught error, out of memory, terminated): what it ran is gone. */
export class WorkerCrashedError extends WorkerPoolError {
  constructor(index: number, reason: string) { super('ERR_WORKER_CRASHED', `worker ${index} crashed: ${reason}`) }
}

export class PoolClosedError extends WorkerPoolError {
  constructor() { super('ERR_POOL_CLOSED', 'the worker pool is closed') }
}

const PROC_CODES: ReadonlySet<string> = new Set<ProcErrorCode>([
  'ERR_PROC_LIMIT', 'ERR_NO_SUCH_PROCESS', 'ERR_MAILBOX_FULL', 'ERR_SCHEDULER_CLOSED',
  'ERR_BAD_MODULE', 'ERR_METER', 'ERR_ABORTED', 'ERR_PROC_EXITED',
])

const PLUGIN_CODES: ReadonlySet<string> = new Set<PluginErrorCode>(['ERR_PLUGIN_LOAD', 'ERR_PLUGIN_SHAPE', 'ERR_PLUGIN_THREAD'])

// A guest's socket that its worker could not open (schemas/net.capnp's codes).
const NET_CODES: ReadonlySet<string> = new Set(['ERR_LIMIT', 'ERR_HOST_UNREACHABLE', 'ERR_TIMEOUT', 'ERR_BAD_ADDRESS', 'ERR_CAP_DENIED'])

/** An error a worker reported, typed again on this side. */
export function reviveError(e: SerializedError): Error {
  if (e.code !== undefined && NET_CODES.has(e.code)) return new NetError(e.code, e.message.startsWith(`${e.code}: `) ? e.message.slice(e.code.length + 2) : e.message)
  if (e.code !== undefined && PLUGIN_CODES.has(e.code)) return new PluginError(e.code as PluginErrorCode, e.message)
  if (e.code !== undefined && PROC_CODES.has(e.code)) return new ProcError(e.code as ProcErrorCode, e.message)
  return new WorkerPoolError('ERR_WORKER_FAILED', e.code ? `${e.code}: ${e.message}` : e.message)
}
