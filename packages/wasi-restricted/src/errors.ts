// Typed errors of @ww/wasi-restricted, each with a stable `code`. Errors a guest causes by
// ending itself or breaking the layer are traps: thrown out of the import, they unwind
// the guest and end its process, never the host.

import { WwError } from '@ww/interface'

export class WasiError extends WwError {
  processId?: string
  constructor(code: string, message: string, opts?: { cause?: unknown; processId?: string }) {
    super(code, `${code}: ${message}`, opts?.cause === undefined ? undefined : { cause: opts.cause })
    if (opts?.processId !== undefined) this.processId = opts.processId
  }
}

/** A policy (or a grant) is malformed: `path` says where, e.g. `rows.fd_write.on`. */
export class PolicyError extends WasiError {
  constructor(readonly path: string, message: string) { super('ERR_POLICY', `${path}: ${message}`) }
}

/** The guest called `proc_exit(code)`: its process ends with `exitCode`. */
export class ProcessExit extends WasiError {
  constructor(readonly exitCode: number, processId: string) {
    super('ERR_PROC_EXIT', `process ${processId} exited with code ${exitCode}`, { processId })
  }
}

/** The layer was used wrongly by the host (no memory attached, used after close). */
export class WasiStateError extends WasiError {
  constructor(message: string, processId?: string) { super('ERR_WASI_STATE', message, processId === undefined ? undefined : { processId }) }
}

/** A bug or a failing capability inside the layer: the guest ends, the host keeps running. */
export class WasiInternalError extends WasiError {
  constructor(message: string, cause: unknown, processId: string) { super('ERR_WASI_INTERNAL', message, { cause, processId }) }
}
