// proc.parallel: what worker threads buy. Run: node --expose-gc dist/workers/bench.js
// (from packages/proc, after the build). Every figure is measured against the in-thread
// Scheduler in the same run, runs interleaved so that machine noise hits all alike.
//
// - proc.parallel.2-workers / .1-worker: N CPU-bound metered processes (each counts to
//   WORK in a metered loop) from spawn to exit, as processes per second;
// - proc.parallel.spawn: processes per second from spawn to exit for a process that
//   exits at once (the cost of placing work on a worker), all in flight together;
// - proc.parallel.spawn-latency: one `await spawn` at a time, until the pid is known;
// - proc.parallel.message / .message-8: ping-pong between processes on different workers
//   (1 pair: latency; 8 pairs: throughput), with the floor (two bare threads bouncing a
//   message, bench-floor.ts) in the same run; `--only=message` runs these rows alone;
// - proc.parallel.guest: composed WASI guests (spawnPoolGuest: WASI built in the worker,
//   stdout to a sink on the main thread) vs spawnGuest in-thread, spawn to exit;
// - proc.parallel.rpc: @ww/guest's echo-client (Bootstrap + 9 calls on an Echo server
//   that answers at once) on a worker, its frames served on the main thread, vs the
//   same guest in-thread over the zero-copy GuestConnection.

import { median, report } from '@ww/bench-kit'
import { guestBytes } from '@ww/guest'
import { testing } from '@ww/schema'
import { newEcho } from '@ww/schema/testing'
import { GuestConnection } from '@ww/transport'
import { Scheduler, type ProcModule } from '../scheduler.js'
import type { ProcessHandle } from '../handle.js'
import { COUNT, ECHO, PINGER, PRELUDE, wat } from '../bench/guests.js'
import { WorkerPool, type PoolModule } from './pool.js'
import { compileGuest, spawnGuest } from '../compose/spawn-guest.js'
import { spawnPoolGuest } from './guest.js'
import { MemorySink } from '@ww/wasi-restricted'
import { RemoteProcess } from './remote-process.js'
import { bareCrossing, type Crossing } from './bench-floor.js'

const N = 8
const WORK = 20_000_000
const RUNS = 7
/** `--only=message`: the message rows alone (proc.parallel.message, .message-8). */
const ONLY = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length)
const EXIT_AT_ONCE = `(module ${PRELUDE} (func (export "ww_main") (result i32) (i32.const 0)))`
const u32 = (...xs: number[]): Uint8Array => new Uint8Array(new Uint32Array(xs).buffer)
const gc = (): void => (globalThis as { gc?: () => void }).gc?.()

/** Something that runs processes: the in-thread scheduler, or a pool. */
interface Runner {
  name: string
  spawn(): Promise<ProcessHandle | RemoteProcess>
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

/** CPU time of this whole process (every thread) over wall time, per runner name: how many cores it kept busy. */
const coresBusy = new Map<string, number[]>()

/** Processes per second for `count` processes from spawn to exit, each sent `first` (if any). */
async function throughput(r: Runner, count: number, first: Uint8Array | undefined): Promise<number> {
  const cpu0 = process.cpuUsage()
  const ms = await timed(async () => {
    const hs = await Promise.all(Array.from({ length: count }, () => r.spawn()))
    if (first) await Promise.all(hs.map((h) => h.send(first)))
    const st = await Promise.all(hs.map((h) => h.wait()))
    if (st.some((s) => s.kind !== 'exited' || s.code !== 0)) throw new Error(`${r.name}: a process failed: ${JSON.stringify(st)}`)
  })
  const cpu = process.cpuUsage(cpu0)
  coresBusy.set(r.name, [...(coresBusy.get(r.name) ?? []), (cpu.user + cpu.system) / 1000 / ms])
  return (count * 1000) / ms
}

/** Interleaved runs of each runner after `warmup` discarded rounds; samples per runner name. */
async function compare<R extends { readonly name: string }>(runners: R[], once: (r: R) => Promise<number>, warmup = 1): Promise<Map<string, number[]>> {
  const out = new Map(runners.map((r) => [r.name, [] as number[]]))
  for (let i = 0; i < RUNS + warmup; i++) {
    for (const r of runners) {
      const v = await once(r)
      if (i >= warmup) out.get(r.name)!.push(v)
      gc()
    }
  }
  return out
}

export async function benchParallel(): Promise<void> {
  const sched = new Scheduler({ maxProcesses: 10_000 })
  const pools = { one: await WorkerPool.start({ workers: 1 }), two: await WorkerPool.start({ workers: 2 }) }
  try {
    const count = await wat(COUNT)
    const quick = await wat(EXIT_AT_ONCE)
    const local = { count: await sched.compile(count), quick: await sched.compile(quick) }
    const remote = {
      one: { count: await pools.one.compile(count), quick: await pools.one.compile(quick) },
      two: { count: await pools.two.compile(count), quick: await pools.two.compile(quick) },
    }
    if (ONLY === 'message') { await messages(sched, pools.two); return }
    const inThread = (m: ProcModule): Runner => ({ name: 'in-thread', spawn: async () => sched.spawn(m) })
    const onPool = (name: string, p: WorkerPool, m: PoolModule): Runner => ({ name, spawn: () => p.spawn(m) })

    // CPU-bound: N metered loops, each WORK iterations.
    const cpu = await compare(
      [inThread(local.count), onPool('1 worker', pools.one, remote.one.count), onPool('2 workers', pools.two, remote.two.count)],
      (r) => throughput(r, N, u32(WORK)),
    )
    const base = { name: 'in-thread Scheduler (one thread)', samples: cpu.get('in-thread')! }
    const busy = (name: string): number => Math.round(median(coresBusy.get(name)!) * 100) / 100
    const params = {
      processes: N, workPerProcess: `count to ${WORK} (metered loop)`, cores: 2,
      // CPU time of all threads ÷ wall time: ~1 in-thread; up to 2 with 2 workers if 2 cores are free.
      coresBusy: { inThread: busy('in-thread'), oneWorker: busy('1 worker'), twoWorkers: busy('2 workers') },
    }
    report({ name: 'proc.parallel.2-workers', unit: 'procs/s', samples: cpu.get('2 workers')!, baseline: base, higherIsBetter: true, params: { ...params, oneWorkerMedian: median(cpu.get('1 worker')!) } })
    report({ name: 'proc.parallel.1-worker', unit: 'procs/s', samples: cpu.get('1 worker')!, baseline: base, higherIsBetter: true, params })

    // Spawn to exit of processes that do nothing: the price of a worker round trip.
    const M = 500
    const spawn = await compare(
      [inThread(local.quick), onPool('2 workers', pools.two, remote.two.quick)],
      (r) => throughput(r, M, undefined),
    )
    report({ name: 'proc.parallel.spawn', unit: 'procs/s', samples: spawn.get('2 workers')!, baseline: { name: 'in-thread spawn to exit', samples: spawn.get('in-thread')! }, higherIsBetter: true, params: { processes: M, inFlight: M, workers: 2 } })

    // One spawn at a time until the handle (pid) is back.
    const K = 200
    const latency = await compare(
      [inThread(local.quick), onPool('2 workers', pools.two, remote.two.quick)],
      async (r) => {
        const hs: Array<ProcessHandle | RemoteProcess> = []
        const ms = await timed(async () => { for (let i = 0; i < K; i++) hs.push(await r.spawn()) })
        await Promise.all(hs.map((h) => h.wait()))
        return (ms * 1000) / K
      },
    )
    report({ name: 'proc.parallel.spawn-latency', unit: 'µs/spawn', samples: latency.get('2 workers')!, baseline: { name: 'in-thread spawn', samples: latency.get('in-thread')! }, params: { spawns: K, until: 'the handle (pid) is back' } })

    await messages(sched, pools.two)
    await rpc(sched, pools.two)
    await composed(sched, pools.two)
  } finally {
    await Promise.all([pools.one.close(), pools.two.close(), sched.close()])
  }
}

/**
 * Ping-pong across workers vs in one scheduler: one pair (latency), 8 pairs (throughput).
 * Interleaved with two bare threads bouncing a message (bench-floor.ts): the floor any
 * cross-thread design meets on this machine, by MessagePort and by Atomics.waitAsync.
 */
async function messages(sched: Scheduler, pool: WorkerPool): Promise<void> {
  const n = 4000
  /** CPU time of every thread of this process per round trip, per runner. */
  const cpuPerRoundTrip = new Map<string, number[]>()
  const addCpu = (key: string, us: number): void => { cpuPerRoundTrip.set(key, [...(cpuPerRoundTrip.get(key) ?? []), us]) }
  const pingPong = async (pairs: number, spawnEcho: () => Promise<ProcessHandle | RemoteProcess>, spawnPinger: () => Promise<ProcessHandle | RemoteProcess>): Promise<number> => {
    const es = await Promise.all(Array.from({ length: pairs }, spawnEcho))
    const ps = await Promise.all(Array.from({ length: pairs }, spawnPinger))
    const cpu0 = process.cpuUsage()
    const ms = await timed(async () => {
      await Promise.all(ps.map((p, i) => {
        const e = es[i]! // the pinger's capability to its partner: both of one kind
        return p instanceof RemoteProcess ? p.send(u32(n), { cap: e as RemoteProcess }) : p.send(u32(n), { cap: e as ProcessHandle })
      }))
      await Promise.all([...ps, ...es].map((h) => h.wait()))
    })
    const cpu = process.cpuUsage(cpu0)
    const name = es[0] instanceof RemoteProcess ? 'workers' : 'in-thread'
    addCpu(`${name}-${pairs}`, (cpu.user + cpu.system) / (n * pairs))
    return (2 * n * pairs * 1000) / ms
  }
  const echoL = await sched.compile(await wat(ECHO))
  const pingL = await sched.compile(await wat(PINGER))
  const echoR = await pool.compile(await wat(ECHO))
  const pingR = await pool.compile(await wat(PINGER))
  const bare = async (mode: Crossing): Promise<number> => {
    const r = await bareCrossing(mode, n)
    addCpu(`bare-${mode}`, r.cpuMicrosPerRoundTrip)
    return r.msgsPerS
  }
  const cpuUs = (key: string): number => Math.round(median(cpuPerRoundTrip.get(key)!) * 10) / 10
  for (const pairs of [1, 8]) {
    const runners: Array<{ name: string; run: () => Promise<number> }> = [
      { name: 'in-thread', run: () => pingPong(pairs, async () => sched.spawn(echoL), async () => sched.spawn(pingL)) },
      { name: '2 workers', run: () => pingPong(pairs, () => pool.spawn(echoR, { worker: 0 }), () => pool.spawn(pingR, { worker: 1 })) },
      ...(pairs === 1 ? [
        { name: 'bare port', run: () => bare('port') },
        { name: 'bare atomics', run: () => bare('atomics') },
      ] : []),
    ]
    // Four rounds of warm-up: on a loaded machine V8's optimized tier for the guests (compiled
    // on background threads) arrives late, and a cold in-thread run is 10× slower than a warm one.
    const msgs = await compare(runners, (r) => r.run(), 4)
    const floor = pairs === 1
      ? { floor: { barePortMsgsPerS: median(msgs.get('bare port')!), bareAtomicsMsgsPerS: median(msgs.get('bare atomics')!), cpuMicrosPerRoundTrip: { port: cpuUs('bare-port'), atomics: cpuUs('bare-atomics') }, what: 'two bare threads bouncing 16 B: MessagePort post / SharedArrayBuffer + Atomics.notify + Atomics.waitAsync, no scheduler or guest' } }
      : {}
    // An idle pool after the conversation: parked workers cost nothing (CPU of every thread, % of one core).
    await new Promise((r) => setTimeout(r, 100))
    const idle0 = process.cpuUsage()
    const idleT0 = performance.now()
    await new Promise((r) => setTimeout(r, 1000))
    const idleCpu = process.cpuUsage(idle0)
    const idleCpuPercent = Math.round(((idleCpu.user + idleCpu.system) / 1000 / (performance.now() - idleT0)) * 1000) / 10
    report({
      name: `proc.parallel.message${pairs > 1 ? `-${pairs}` : ''}`, unit: 'msgs/s', samples: msgs.get('2 workers')!,
      baseline: { name: `${pairs} ping-pong pair(s) in one scheduler`, samples: msgs.get('in-thread')! }, higherIsBetter: true,
      params: {
        pairs, roundTripsEach: n, bytes: 16,
        between: `echo on worker 0, pinger on worker 1: a shared-memory ring per direction, copied in from the sender's memory and read by the receiving scheduler between slices (into a waiting recv buffer); run dry, a worker parks on a doorbell (Atomics.waitAsync) its peers notify`,
        idleCpuPercent,
        cpuMicrosPerRoundTrip: { inThread: cpuUs(`in-thread-${pairs}`), workers: cpuUs(`workers-${pairs}`) },
        ...floor,
      },
    })
  }
}

/** An Echo server that answers at once (the flow's cost is then the transport's). */
const echoServer = (): testing.Echo$Server => newEcho()

async function rpc(sched: Scheduler, pool: WorkerPool): Promise<void> {
  const bytes = await guestBytes('echo-client', { asyncify: false })
  const local = await sched.compile(bytes, { suspendingImports: ['ww.recv'] })
  const remote = await pool.compile(bytes, { suspendingImports: ['ww.recv'] })
  const abort = (): never => { throw new Error('guest abort') }
  const asEnv = [{ module: new URL('../../src/workers/fixtures/as-env.mjs', import.meta.url).href }]
  const K = 20
  const runners: Runner[] = [
    {
      name: 'in-thread',
      spawn: async () => sched.spawn(local, {
        extend: (ctx) => {
          const conn = new GuestConnection({ processId: ctx.pid, bootstrap: echoServer(), suspension: ctx.suspender })
          return { imports: { ...conn.imports(), env: { abort } }, attach: (i) => conn.attach(i), onExit: () => conn.close() }
        },
      }),
    },
    { name: 'worker', spawn: () => pool.spawn(remote, { worker: 0, extensions: asEnv, bootstrap: echoServer() }) },
  ]
  const flows = await compare(runners, async (r) => {
    const ms = await timed(async () => {
      for (let i = 0; i < K; i++) {
        const st = await (await r.spawn()).wait()
        if (st.kind !== 'exited' || st.code !== 0) throw new Error(`${r.name}: echo-client failed: ${JSON.stringify(st)}`)
      }
    })
    return ms / K
  })
  report({ name: 'proc.parallel.rpc', unit: 'ms/flow', samples: flows.get('worker')!, baseline: { name: 'in-thread, zero-copy GuestConnection', samples: flows.get('in-thread')! }, params: { flow: 'echo-client: Bootstrap + 9 calls (ping, echo, counter, add ×3…), spawn to exit', flows: K } })
}

/** Writes LINES records of 1001 bytes to stdout (fd_write), then exits 0. */
const LINES = 16
const WRITER = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  ${PRELUDE}
  (data (i32.const 9000) "\\00\\30\\00\\00\\e9\\03\\00\\00")
  (func (export "_start") (local $i i32)
    (memory.fill (i32.const 12288) (i32.const 97) (i32.const 1001))
    (loop $l
      (drop (call $fd_write (i32.const 1) (i32.const 9000) (i32.const 1) (i32.const 9032)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const ${LINES}))))))`

/** Composed WASI guests (restricted WASI, output to a sink on this thread), spawn to exit with all output in the sink. */
async function composed(sched: Scheduler, pool: WorkerPool): Promise<void> {
  const bytes = await wat(WRITER)
  const local = await compileGuest(sched, bytes)
  const remote = await compileGuest(pool, bytes)
  const G = 50
  const check = (sink: MemorySink, st: { kind: string }): void => {
    if (st.kind !== 'exited' || sink.records.length !== LINES) throw new Error(`a writer failed: ${JSON.stringify(st)}, ${sink.records.length} records`)
  }
  const runners: Array<{ name: string; run: () => Promise<void> }> = [
    { name: 'in-thread', run: async () => { const s = new MemorySink(); check(s, await spawnGuest(sched, local, { stdout: s }).wait()) } },
    { name: '2 workers', run: async () => { const s = new MemorySink(); check(s, await (await spawnPoolGuest(pool, remote, { stdout: s })).wait()) } },
  ]
  const rates = await compare(runners, async (r) => {
    const ms = await timed(async () => { await Promise.all(Array.from({ length: G }, r.run)) })
    return (G * 1000) / ms
  })
  report({ name: 'proc.parallel.guest', unit: 'guests/s', samples: rates.get('2 workers')!, baseline: { name: 'in-thread spawnGuest', samples: rates.get('in-thread')! }, higherIsBetter: true, params: { guests: G, inFlight: G, output: `${LINES} × 1001 B to a MemorySink on the main thread`, workers: 2 } })
}

if (import.meta.url === `file://${process.argv[1]}`) await benchParallel()
