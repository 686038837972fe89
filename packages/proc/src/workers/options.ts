// The options of a WorkerPool and of what it starts. Everything that goes to a worker
// must be structured-clonable (plain values); what stays on the main thread (a bootstrap
// capability) is marked so.

import type { MessagePort } from 'node:worker_threads'
import type { RpcConnectionOptions } from '@ww/transport'
import type { MeterInfo } from '../meter/pass.js'
import type { ProcessLimits, SchedulerOptions } from '../scheduler.js'
import type { Pid } from '../status.js'
import type { RestartPolicy } from '../supervisor.js'
import type { PluginSpec } from '@ww/interface'
import type { RemoteProcess } from './remote-process.js'
import type { OutputSink, Policy, ScratchEntry, SocketGrant } from '@ww/wasi-restricted'

export interface WorkerPoolOptions {
  /** Worker threads (default: the machine's available parallelism). */
  workers?: number
  /** Each worker's scheduler (structured-clonable: plain values only; pids are the pool's). */
  scheduler?: Omit<SchedulerOptions, 'pids'>
  /**
   * Start a new worker in place of one that crashed (default false: the pool goes on
   * with the workers left). The new one hands out only pids above any the crashed one
   * may have used, so a pid still never names two processes.
   */
  replaceCrashed?: boolean
}

/** A capability a worker's guest bootstraps, served on this thread. */
export type PoolBootstrap = NonNullable<RpcConnectionOptions['bootstrap']>

export interface PoolSpawnOptions extends ProcessLimits {
  name?: string
  /** The export to run (default ww_main, else _start). */
  entry?: string
  /** Run on this worker instead of the least-loaded one. */
  worker?: number
  /** The parent (a handle, never a pid): the child runs on its worker and dies when it does. */
  parent?: RemoteProcess
  /** Link the child to its parent (with a parent; `pool.link` links any two processes). */
  link?: boolean
  /** Turn link signals (from its parent or through `pool.link`) into `exit` messages instead of dying. */
  trapExits?: boolean
  /** Plugins loaded and built in the worker (imports, WASI…), named by module: see PluginSpec (PLUGINS.md). */
  extensions?: readonly PluginSpec[]
  /**
   * The capability the guest's `ww` Bootstrap gets (or a factory given the pid), served
   * on this thread: its RPC frames cross to here and back (rpc-port-*.ts).
   */
  bootstrap?: PoolBootstrap | ((pid: Pid) => PoolBootstrap)
  /** MessagePorts inside `extensions`' options: moved to the worker with the spawn (a port cannot be cloned). */
  transfer?: readonly MessagePort[]
  /** @internal spawnPoolGuest's restricted WASI, built by the worker (its ports go in `transfer`). */
  wasi?: {
    readonly policy?: Policy
    readonly fds: readonly (1 | 2)[]
    /** Where its stdout/stderr records go (to the spawner's sinks). */
    readonly output?: MessagePort
    readonly scratchSeed?: readonly ScratchEntry[]
    /** Sockets the worker opens before the process starts: its fds from 3; the bound addresses go to `report` (a SocketReport). */
    readonly sockets?: { readonly grants: readonly SocketGrant[]; readonly report: MessagePort }
    /** Listeners and connections of the spawner's thread, each served on a port (socket-port.ts): fds after those. */
    readonly served?: { readonly listeners: readonly MessagePort[]; readonly conns: readonly MessagePort[] }
  }
}

/** A child of a pool supervisor: spawned, and restarted, on the supervisor's worker. */
export interface PoolChildSpec {
  readonly id: string
  readonly module: PoolModule
  /** Default permanent (see RestartPolicy). */
  readonly restart?: RestartPolicy
  /** How each start spawns it: limits, name (default its id), entry, extensions, trapExits. */
  readonly options?: Omit<PoolSpawnOptions, 'parent' | 'worker' | 'bootstrap' | 'transfer' | 'link' | 'wasi'>
  /**
   * The capability each start's guest bootstraps, built on this thread for its pid (as
   * PoolSpawnOptions.bootstrap): every restart gets a fresh one. A throw ends that start
   * (the guest's RPC is aborted), which its supervisor sees as a crash.
   */
  readonly bootstrap?: (pid: Pid) => PoolBootstrap
  /**
   * For a module that imports WASI: its policy (cloned to the worker) and where its
   * stdout/stderr go on this thread, for every start (each opens its own output port).
   * Without them, the default restricted WASI and no output.
   */
  readonly policy?: Policy
  readonly stdout?: OutputSink
  readonly stderr?: OutputSink
}

export interface PoolSupervisorOptions {
  readonly children: readonly PoolChildSpec[]
  /** Restart intensity: at most this many restarts within `withinMs` (defaults 3 and 5000, as Supervisor). */
  readonly maxRestarts?: number
  readonly withinMs?: number
  readonly name?: string
  /** Run on this worker instead of the least-loaded one. */
  readonly worker?: number
  /** Its parent (the supervisor dies with it; it runs on the parent's worker). */
  readonly parent?: RemoteProcess
}

/** A module metered once on this thread; each worker holds the same compiled code. */
export interface PoolModule {
  readonly id: number
  readonly meter: MeterInfo
  /** The compiled code (what every worker holds), for inspection (imports, exports). */
  readonly module: WebAssembly.Module
}
