// @ww/proc: the ww scheduler — processes, limits, metering, messaging, supervision.
//
// - Scheduler: compile (meter) modules, spawn processes, the process table (ps), close.
// - ProcessHandle / NativeProcess: wait, kill (cascading), send, monitor, link.
// - Message: bytes copied once out of a sender, shared by every receiver.
// - Supervisor: one-for-one restarts with a restart-intensity limit.
// - procRuntime: @ww/host's Runtime (the Executor's pluggable part) on a Scheduler.
// - meterModule: the Binaryen metering pass on its own.

export {
  Scheduler, type SchedulerOptions, type SpawnOptions, type ProcessLimits, type ProcModule,
  type ProcessContext, type ProcessExtension, type CompileOptions,
} from './scheduler.js'
export { ProcessHandle, NativeProcess, type ProcessInfo, type ProcessState, type WaitOptions } from './handle.js'
export { Message, type MessageKind } from './message.js'
export { Supervisor, type SupervisorOptions, type ChildSpec, type RestartPolicy } from './supervisor.js'
export { procRuntime, type ProcRuntimeOptions } from './runtime.js'
export { meterModule, METER_MODULE, FUEL_EXPORT, type MeterOptions, type MeterInfo } from './meter/pass.js'
export { isNormal, describeStatus, type ExitStatus, type KilledBy, type LimitKind, type Pid } from './status.js'
export {
  ProcError, ProcessLimitError, NoSuchProcessError, MailboxFullError, SchedulerClosedError,
  BadModuleError, AbortedError, ProcessExitedError, type ProcErrorCode,
} from './errors.js'
