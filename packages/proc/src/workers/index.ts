// The worker pool of @ww/proc (WORKERS.md): processes spread over worker threads, the
// same guest view on any of them. Re-exported by the package's index.
export {
  WorkerPool, type WorkerPoolOptions, type PoolSpawnOptions, type PoolModule, type PoolBootstrap, type PoolChildSpec, type PoolSupervisorOptions,
} from './pool.js'
export { RemoteProcess, type PoolProcessInfo } from './remote-process.js'
export { type WorkerCounters } from './protocol.js'
export { WorkerPoolError, WorkerCrashedError, PoolClosedError, type WorkerPoolErrorCode } from './errors.js'
export { spawnPoolGuest, PoolGuest, type PoolGuestOptions } from './guest.js'
export { type WorkerWasiOptions } from './guest-wasi.js'
export { poolRuntime, type PoolRuntime, type PoolRuntimeOptions, type PoolRunningProcess } from './runtime.js'
