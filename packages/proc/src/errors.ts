// Typed errors of @ww/proc: each class has a stable `code`.

import { AbortedError, WwError } from '@ww/interface'

export type ProcErrorCode =
  | 'ERR_PROC_LIMIT' | 'ERR_NO_SUCH_PROCESS' | 'ERR_MAILBOX_FULL' | 'ERR_SCHEDULER_CLOSED'
  | 'ERR_BAD_MODULE' | 'ERR_MODULE_TOO_LARGE' | 'ERR_METER' | 'ERR_ABORTED' | 'ERR_PROC_EXITED'

export class ProcError extends WwError<ProcErrorCode> {}

/** The scheduler already runs its maximum number of processes. */
export class ProcessLimitError extends ProcError {
  constructor(max: number) { super('ERR_PROC_LIMIT', `process limit reached (${max})`) }
}

export class NoSuchProcessError extends ProcError {
  constructor(pid: number) { super('ERR_NO_SUCH_PROCESS', `no such process: ${pid}`) }
}

export class MailboxFullError extends ProcError {
  constructor(pid: number) { super('ERR_MAILBOX_FULL', `mailbox of process ${pid} is full`) }
}

export class SchedulerClosedError extends ProcError {
  constructor() { super('ERR_SCHEDULER_CLOSED', 'the scheduler is closed') }
}

/** The module cannot be metered or run (invalid, uses a feature a guest could escape with). */
export class BadModuleError extends ProcError {
  constructor(message: string, options?: ErrorOptions, code: 'ERR_BAD_MODULE' | 'ERR_MODULE_TOO_LARGE' = 'ERR_BAD_MODULE') { super(code, message, options) }
}

/** The module is larger than the metering and asyncify passes take (refused before they run). */
export class ModuleTooLargeError extends BadModuleError {
  /** `bytes`: the module's size; `limit`: the most the passes take. */
  constructor(readonly bytes: number, readonly limit: number) {
    super(`the module is ${bytes} bytes, over the ${limit}-byte limit for instrumenting (metering and asyncify)`, undefined, 'ERR_MODULE_TOO_LARGE')
  }
}

// One AbortedError for every package (its code is ERR_ABORTED), re-exported where callers look.
export { AbortedError }

/** A process that already ended was asked to do something only a live one can. */
export class ProcessExitedError extends ProcError {
  constructor(pid: number) { super('ERR_PROC_EXITED', `process ${pid} has exited`) }
}
