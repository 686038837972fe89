// What crosses threads between the pool (main thread) and its workers, and between two
// workers. Everything here is structured-clonable: numbers, strings, plain objects,
// WebAssembly.Module (shared code, not copied), message bytes (moved when transferred,
// shared when over a SharedArrayBuffer) and MessagePorts (transferred).

import type { MessagePort } from 'node:worker_threads'
import type { ProcessInfo } from '../handle.js'
import type { MessageKind } from '../message.js'
import type { MeterInfo } from '../meter/pass.js'
import type { ProcessLimits, SchedulerOptions } from '../scheduler.js'
import type { ExitStatus, Pid } from '../status.js'
import type { RestartPolicy } from '../supervisor.js'
import type { PoolSpawnOptions } from './options.js'
import type { PeerRings } from './peer-link.js'
import type { PluginSpec } from '@ww/interface'

/** What crossed a worker's edge: messages out to / in from other threads, and how they went out. */
export interface WorkerCounters {
  remoteOut: number
  remoteIn: number
  /**
   * Of remoteOut: copied into the shared ring to the receiver's worker (small messages;
   * straight from the sender's memory when its outbox was empty), and, by port, moved (a
   * buffer of its own, transferred), shared (SharedArrayBuffer), copied (neither was possible).
   */
  ring: number
  moved: number
  shared: number
  copied: number
}

/** How a worker starts (its `workerData`). */
export interface WorkerInit {
  /** This worker's index: it owns the pids `index + 1 + k * workers`. */
  readonly index: number
  readonly workers: number
  /** Its first pid: `index + 1`, or above every pid a crashed predecessor may have used. */
  readonly firstPid: number
  readonly scheduler: Omit<SchedulerOptions, 'suspension'> & { suspension?: SchedulerOptions['suspension'] }
  /** Its doorbell (one Int32): peers notify it after writing to its rings while it is parked. */
  readonly bell: SharedArrayBuffer
}

/** One message between threads: its bytes plus who sent it and what it is. */
export interface WireMessage {
  readonly to: Pid
  readonly from: Pid
  readonly kind: MessageKind
  readonly bytes: Uint8Array
  readonly status?: ExitStatus
  /** The mailbox capability it carries (a pid the sender's table held, or a host handle's). */
  readonly cap?: Pid
  /** Answer with `delivered` under this id once the receiver's mailbox took it (or -1). */
  readonly ack?: number
}

export interface SpawnRequest {
  readonly module: number
  readonly limits: ProcessLimits
  readonly name?: string
  readonly entry?: string
  /** Plugins the worker loads (their modules, cloneable options) and builds into the process. */
  readonly extensions: readonly PluginSpec[]
  /** A process on the same worker: the child dies with it (and is linked to it, if asked). */
  readonly parent?: Pid
  readonly link?: boolean
  readonly trapExits?: boolean
  /** The guest's `ww` RPC frames go through this port to the Host capability on the main thread. */
  readonly rpc?: MessagePort
  /**
   * For a process started on the worker (a supervisor's child): its Host is served on the
   * main thread under this key; each start opens a port there (`rpc-open`).
   */
  readonly hostKey?: number
  /**
   * Its restricted WASI, built by the worker: spawnPoolGuest's (an `output` port, sockets
   * to open first), or a supervisor child's, built per start (with `outputKey`, each start
   * opens an output port to the main thread, `output-open`, for `fds`).
   */
  readonly wasi?: NonNullable<PoolSpawnOptions['wasi']> & { readonly outputKey?: number }
}

/** What a worker tells the spawner on `wasi.sockets.report` once the guest's sockets are open. */
export interface SocketReport {
  /** Each listener's bound address ("host:port", the real port for port 0), in fd order. */
  readonly listening: readonly string[]
}

/** A Supervisor to start on a worker: its children as spawn requests (started, and restarted, there). */
export interface SuperviseRequest {
  readonly children: ReadonlyArray<{ readonly id: string; readonly restart?: RestartPolicy; readonly spawn: SpawnRequest }>
  readonly maxRestarts?: number
  readonly withinMs?: number
  readonly name?: string
  readonly parent?: Pid
}

export interface SerializedError { readonly code?: string; readonly message: string }

/** Main thread → worker. */
export type ToWorker =
  | { t: 'module'; id: number; module: WebAssembly.Module; meter: MeterInfo }
  /** A direct link to worker `index` (a port, a ring each way, its doorbell); with `fence`, a replacement whose pids start there. */
  | { t: 'peer'; index: number; port: MessagePort; rings: PeerRings; fence?: Pid }
  | { t: 'peer-down'; index: number }
  | { t: 'spawn'; req: number; spawn: SpawnRequest }
  | { t: 'supervise'; req: number; supervise: SuperviseRequest }
  | { t: 'kill'; pid: Pid }
  | { t: 'ps'; req: number; pid?: Pid }
  | { t: 'peek'; req: number; pid: Pid }
  | { t: 'stats'; req: number }
  | { t: 'close'; req: number }
  | { t: 'deliver'; m: WireMessage }
  /** A process linked to `pid` (through the pool) ended with `status`. */
  | { t: 'link-signal'; pid: Pid; from: Pid; status: ExitStatus }

/** Worker → main thread. */
export type FromWorker =
  | { t: 'ready' }
  /** `next`: the pid the worker hands out next (every pid it used is below it). */
  | { t: 'spawned'; req: number; pid: Pid; next: Pid }
  | { t: 'failed'; req: number; error: SerializedError }
  | { t: 'exit'; pid: Pid; status: ExitStatus }
  | { t: 'ps'; req: number; rows: ProcessInfo[] }
  | { t: 'peek'; req: number; bytes: Uint8Array | undefined }
  | { t: 'stats'; req: number; counters: WorkerCounters }
  | { t: 'closed'; req: number }
  | { t: 'delivered'; ack: number; r: number }
  /** Fuel the worker's processes of module `module` used since the last report (its tier upgrade counts it). */
  | { t: 'fuel'; module: number; fuel: number }
  /** A process started on the worker wants its Host (registered under `key`) on this port. */
  | { t: 'rpc-open'; key: number; pid: Pid; port: MessagePort }
  /** A process started on the worker sends its stdout/stderr (to the sinks under `key`) on this port. */
  | { t: 'output-open'; key: number; pid: Pid; port: MessagePort }

/** The worker that owns `pid` in a pool of `workers` (pids are never 0 or negative). */
export function ownerOf(pid: Pid, workers: number): number {
  return (pid - 1) % workers
}

export function serializeError(e: unknown): SerializedError {
  const code = typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : undefined
  const message = e instanceof Error ? e.message : String(e)
  return code === undefined ? { message } : { code, message }
}
