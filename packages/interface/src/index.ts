// @ww/interface: the types every ww package agrees on, and a few tiny helpers. No
// dependencies, nothing that runs on import.

export { WwError, isWwError, AbortedError } from './errors.js'
export type { CallOptions } from './call.js'
export {
  isNormal, describeStatus, shellStatus, trapKindOf, trapKindOfCode, trapField,
  type ExitStatus, type Pid, type TrapKind, type KillReason, type KilledBy, type LimitKind,
} from './status.js'
export type {
  CapabilityTypes, CapabilityIn, CapabilityOut, Cid, NamedCap, HostOverrideCaps, PreopenCap, ChildOptions, SpawnRequest,
  ProcessHandle, Executor, ProcessSnapshot, StartSpec, RunningProcess, Runtime, RemoteProcess, RemoteSpawner,
} from './runtime.js'
export type {
  SuspensionMode, SuspendingImport, Resume, Suspender, ProcessContext, ProcessExtension, ExtensionStats, ProcessPlugin,
  SpawnCheck, PluginSpec, PluginFactory,
} from './plugin.js'
export { loadPlugin, describePluginSpec, PluginError, type PluginErrorCode } from './plugin-load.js'
export { NODE20_WASM_FEATURES, binaryenFeatures } from './wasm-features.js'
