// Where a host's processes run, and the counters Debug.ps (`ww ps`) and the web view show for
// them: on this thread (procRuntime on one Scheduler, the default), or spread over worker
// threads (poolRuntime on a WorkerPool: `ww host --workers N`). Both runtimes name each
// process `host-pid-<tree pid>`, which is how a row of their tables is matched to the
// tree's pid. A pool's tables live on its workers, so they are sampled (SAMPLE_MS) and
// read from that sample: Debug and the status board read synchronously.
import type { Runtime, StartSpec } from '@ww/host'
import {
  poolRuntime, procRuntime, Scheduler, WorkerPool, type GuestOptions, type PoolGuestOptions, type ProcessInfo,
} from '@ww/proc'
import { WwError } from '@ww/interface'

/** One process's counters, by its tree pid: @ww/proc's row as it is (plus the worker on a pool). */
export type ProcessCounters = Readonly<Pick<ProcessInfo,
  'state' | 'cpuMs' | 'fuel' | 'memoryBytes' | 'mailbox' | 'sent' | 'received' | 'framesIn' | 'framesOut' | 'denials' | 'extension'>> & {
  /** The worker thread it runs on (absent: this thread). */
  readonly worker?: number
}

/** A process's composition as guestParts builds it for the in-thread runtime. */
export type GuestParts = Omit<GuestOptions, 'parent' | 'signal'>

export interface HostProcesses {
  readonly runtime: Runtime
  /** Worker threads running processes (0: all on this thread). */
  readonly workers: number
  /** Each live process's counters by tree pid: current on this thread; from a pool, as of its last sample. */
  counters(): ReadonlyMap<number, ProcessCounters>
  /** Totals for Debug's counters (sched.*). */
  totals(): Record<string, number>
  /** Stops sampling and ends the worker threads (after the tree has killed its processes). */
  close(): Promise<void>
}

/** How often a pool's tables are read: `ww ps` and the web view (500 ms) see counters this old at most. */
export const SAMPLE_MS = 250

export class HostWorkersError extends WwError<'ERR_NOT_ON_WORKERS'> {
  constructor(message: string) {
    super('ERR_NOT_ON_WORKERS', message)
  }
}

const HOST_PID = /^host-pid-(\d+)$/

/** A runtime's table by tree pid (rows not named by procRuntime/poolRuntime are not the tree's). */
function byTreePid(table: ReadonlyArray<ProcessInfo & { worker?: number }>): Map<number, ProcessCounters> {
  return new Map(table.flatMap(row))
}

function row(p: ProcessInfo & { worker?: number }): Array<[number, ProcessCounters]> {
  const m = HOST_PID.exec(p.name)
  return m === null ? [] : [[Number(m[1]), p]]
}

function totalsOf(rows: Iterable<ProcessCounters>, workers: number): Record<string, number> {
  let processes = 0, fuel = 0, memoryBytes = 0
  for (const r of rows) { processes++; fuel += r.fuel; memoryBytes += r.memoryBytes }
  return { 'sched.processes': processes, 'sched.fuel': fuel, 'sched.memoryBytes': memoryBytes, 'sched.workers': workers }
}

/** Every process on this thread, on one Scheduler. */
export function inThreadProcesses(guest: (spec: StartSpec) => GuestParts, moduleCache?: string): HostProcesses {
  const scheduler = new Scheduler(moduleCache !== undefined ? { moduleCache } : {})
  const counters = (): Map<number, ProcessCounters> => byTreePid(scheduler.ps())
  return {
    runtime: procRuntime(scheduler, { guest }),
    workers: 0,
    counters,
    totals: () => totalsOf(counters().values(), 0),
    close: () => scheduler.close(),
  }
}

/**
 * Every process on a pool of `workers` threads: the same composition, with its WASI built
 * on the worker, its output and Host served here (poolRuntime). Fails with
 * HostWorkersError for a composition a worker cannot run (see poolGuestParts).
 */
export async function pooledProcesses(workers: number, guest: (spec: StartSpec) => GuestParts, moduleCache?: string): Promise<HostProcesses> {
  const pool = await WorkerPool.start({ workers, ...(moduleCache !== undefined ? { scheduler: { moduleCache } } : {}) })
  const runtime = poolRuntime(pool, { guest: (spec) => poolGuestParts(guest(spec)) })
  let sample = new Map<number, ProcessCounters>()
  let reading = false
  // Sampled only while processes run here: an idle host leaves its workers asleep.
  let live = 0
  const timer = setInterval(() => {
    if (live === 0) { sample = new Map(); return }
    if (reading) return
    reading = true
    pool.ps().then((table) => { sample = byTreePid(table) })
      .catch(() => { /* the pool is closing: the last sample stands */ })
      .finally(() => { reading = false })
  }, SAMPLE_MS)
  timer.unref()
  return {
    runtime: {
      start: async (spec, call) => {
        const p = await runtime.start(spec, call)
        live++
        void p.exited.then(() => { live-- })
        return p
      },
    },
    workers,
    counters: () => sample,
    totals: () => totalsOf(sample.values(), pool.workers),
    close: async () => { clearInterval(timer); await pool.close() },
  }
}

/**
 * An in-thread composition as a worker's: policy, sinks, Host, limits, name, plugins and
 * sockets carry over unchanged (the sinks, the Host and the sockets stay on this thread,
 * sockets served to the worker over ports; each plugin is loaded again on the worker from
 * its module, as PLUGINS.md says). A live stdin cannot reach a worker: a spawn asking for
 * one fails rather than run without it.
 */
export function poolGuestParts(g: GuestParts): Omit<PoolGuestOptions, 'parent' | 'signal'> {
  const { stdin, ...rest } = g
  const live = [stdin !== undefined ? 'stdin' : ''].filter(Boolean)
  if (live.length > 0) throw new HostWorkersError(`this host runs processes on worker threads, which cannot be handed ${live.join(', ')}; start it without --workers`)
  return rest
}
