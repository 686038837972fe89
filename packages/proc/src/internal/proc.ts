// The scheduler's record of one process (internal). Public code sees ProcessHandle.

import type { AsyncifySuspender, Suspender } from '@ww/transport'
import { Mailbox, type Waiter } from '../mailbox.js'
import { HandleTable } from './handles.js'
import type { ExitStatus, Pid } from '../status.js'

export type ProcessState = 'starting' | 'running' | 'waiting' | 'exited'

/** Thrown through a guest's stack to end it with `status`. */
export class Termination extends Error {
  readonly status: ExitStatus
  constructor(status: ExitStatus) {
    super(`process ended: ${status.kind}`)
    this.status = status
  }
}

export interface ResolvedLimits {
  memoryPages: number
  onMemoryLimit: 'fail' | 'kill'
  fuel: number
  deadlineMs: number
  mailbox: number
}

export class Proc {
  readonly pid: Pid
  readonly parent: Proc | undefined
  readonly kind: 'wasm' | 'native'
  readonly name: string
  readonly children = new Set<Proc>()
  readonly mailbox: Mailbox
  /** The mailboxes it may send to (wasm processes; host code holds ProcessHandles instead). */
  readonly handles = new HandleTable()
  readonly limits: ResolvedLimits
  readonly monitors = new Set<Proc>()
  readonly links = new Set<Proc>()
  readonly trapExits: boolean
  readonly startedAt = performance.now()
  /** Wall-clock start (ms since the Unix epoch), for listings. */
  readonly startedAtMs = Date.now()
  state: ProcessState = 'starting'
  status: ExitStatus | undefined
  readonly exited: Promise<ExitStatus>
  settle!: (s: ExitStatus) => void

  // Counters for ps.
  cpuMs = 0
  fuelUsed = 0
  sent = 0
  slices = 0

  // wasm execution state.
  instance: WebAssembly.Instance | undefined
  memory: WebAssembly.Memory | undefined
  fuel: WebAssembly.Global | undefined
  suspender: Suspender | undefined
  /**
   * Its suspender when the dispatcher steps it (asyncify: start/suspend/resume, no
   * promise per wait); undefined under JSPI, where every wait is a promise.
   */
  stepped: AsyncifySuspender | undefined
  canWait = false
  /** Running out of fuel may park it (JSPI, or asyncify covering out_of_fuel). */
  fuelYields = false
  started = false
  onCpu = false
  /** Fuel handed to the guest at its last refill (used = granted - current). */
  granted = 0
  /** Ends the slice the dispatcher awaits (JSPI guests only: stepped slices return). */
  sliceDone: (() => void) | undefined
  /** Off the CPU in a wait (recv, a full mailbox, a yield, an extension's wait) until continued. */
  parked = false
  /** Set once a parked process may go on (it is queued): computes its wait's value, or throws. */
  cont: (() => number) | undefined
  /** JSPI only, set while parked: settle the promise the guest's stack waits on. */
  waitResolve: ((v: number) => void) | undefined
  abort: ((e: unknown) => void) | undefined
  /** Parked in recv, its mailbox empty: a sender may write into its buffer (handOver). */
  inRecv = false
  /** Where the recv it is parked in writes its message (the continuation reads them). */
  recvPtr = 0
  recvCap = 0
  /** The length of a message handed over into that buffer: what the recv returns. */
  recvLen = 0
  /** Made once, reused by every recv that parks: no allocation per message. */
  recvWaiter: Waiter<void> | undefined
  /** The continuation of a recv that was handed its message (returns recvLen). */
  recvHanded: (() => number) | undefined
  /** A view of all of its memory, made again only when the buffer changes (a grow). */
  view: Uint8Array | undefined
  deadlineTimer: ReturnType<typeof setTimeout> | undefined
  /** What it was spawned from and with (to instantiate again after hibernation). */
  module: WebAssembly.Module | undefined
  meter: import('../meter/pass.js').MeterInfo | undefined
  imports: WebAssembly.Imports | undefined
  /** Its plugged-in part, if any (asked before a hibernation, told after a restore). */
  ext: import('@ww/interface').ProcessExtension | undefined
  /** Set while hibernated: the saved state; the instance is gone. */
  snapshot: import('./hibernate.js').Snapshot | undefined
  hibernateTimer: ReturnType<typeof setTimeout> | undefined
  extStats: (() => import('../scheduler.js').ExtensionStats) | undefined
  /** An extension's reading of the error that ended the guest. */
  extStatus: ((e: unknown) => ExitStatus | undefined) | undefined
  /** The export to run; undefined: ww_main, else _start. */
  entry: string | undefined
  /** An extension's cleanup, run once at exit. */
  onExit: ((s: ExitStatus) => void) | undefined
  /** Sender pid, kind and carried capability (a pid, 0: none) of the message the guest received last. */
  lastFrom = 0
  lastKind = 0
  lastCap = 0
  /** ww_proc calls refused (no capability), per function, for ps. */
  denials: Record<string, number> | undefined

  constructor(init: { pid: Pid; parent: Proc | undefined; kind: 'wasm' | 'native'; name: string; limits: ResolvedLimits; trapExits: boolean }) {
    this.pid = init.pid
    this.parent = init.parent
    this.kind = init.kind
    this.name = init.name
    this.limits = init.limits
    this.trapExits = init.trapExits
    this.mailbox = new Mailbox(init.limits.mailbox)
    this.exited = new Promise((r) => { this.settle = r })
  }

  /** Fuel used so far, including the current slice. */
  fuelNow(): number {
    const cur = this.fuel?.value as number | undefined
    return this.fuelUsed + (cur === undefined ? 0 : Math.max(0, this.granted - cur))
  }
}
