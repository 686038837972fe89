// @ww/proc: the ww scheduler — processes, limits, metering, messaging, supervision.
//
// - Scheduler: compile (meter) modules, spawn processes, the process table (ps), close.
// - ProcessHandle / NativeProcess: wait, kill (cascading), send, monitor, link.
// - Message: bytes copied once out of a sender, shared by every receiver.
// - Supervisor: one-for-one restarts with a restart-intensity limit.
// - Composition: compileGuest + spawnGuest give a process its restricted WASI, its
//   transport with the capability the spawner chose, and any ProcessPlugin.
// - procRuntime: @ww/host's Runtime (the Executor's pluggable part) on a Scheduler.
// - meterModule: the Binaryen metering pass on its own.
// - WorkerPool: one scheduler per worker thread, the same guest view on any; composed
//   guests on workers (spawnPoolGuest), supervisors there (pool.supervise), poolRuntime
//   for @ww/host (WORKERS.md).

export {
  Scheduler, type SchedulerOptions, type SpawnOptions, type ProcessLimits, type ProcModule,
  type ProcessContext, type ProcessExtension, type ExtensionStats, type CompileOptions,
} from './scheduler.js'
export {
  compileGuest, spawnGuest, GuestProcess, type GuestOptions, type GuestCompileOptions, type GuestStats, type GuestCompiler,
} from './compose/spawn-guest.js'
export { type ProcessPlugin, combineParts, SCHEDULER_IMPORTS } from './compose/plugin.js'
// A plugin as a module (PLUGINS.md): @ww/interface's, re-exported where spawners look.
export { loadPlugin, PluginError, type PluginSpec, type PluginFactory, type SpawnCheck, type PluginErrorCode } from '@ww/interface'
export { scratchSeedFromHost, type HostSeedLimits } from './compose/scratch-seed.js'
export {
  restrictedWasi, discardSink, WASI_MODULE, WASI_DENIED_PREFIX, type RestrictedWasiOptions, type RestrictedWasiPlugin, type WasiPart,
} from './compose/wasi.js'
export {
  hostConnection, type HostConnectionOptions, type HostConnectionPlugin, type HostPart, type Bootstrap, type BootstrapFactory,
} from './compose/host.js'
export { ProcessHandle, NativeProcess, type ProcessInfo, type ProcessState, type WaitOptions, type SendOptions } from './handle.js'
export { PROC_ERRNO, MAX_HANDLES } from './internal/handles.js'
export { Message, type MessageKind } from './message.js'
export { Supervisor, type SupervisorOptions, type ChildSpec, type RestartPolicy } from './supervisor.js'
export { procRuntime, type ProcRuntimeOptions, type ProcRuntime, type ProcRunningProcess } from './runtime.js'
export { meterModule, METER_MODULE, FUEL_EXPORT, type MeterOptions, type MeterInfo } from './meter/pass.js'
export { warmInstrumentation } from './compile/off-thread.js'
export { isNormal, describeStatus, type ExitStatus, type KilledBy, type LimitKind, type Pid } from './status.js'
export {
  ProcError, ProcessLimitError, NoSuchProcessError, MailboxFullError, SchedulerClosedError,
  BadModuleError, ModuleTooLargeError, AbortedError, ProcessExitedError, type ProcErrorCode,
} from './errors.js'
export * from './workers/index.js'
