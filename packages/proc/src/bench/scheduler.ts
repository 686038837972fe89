// proc.spawn, proc.spawn-memory, proc.message, proc.fairness, proc.deadline.

import { median, report } from '@ww/bench-kit'
import { jspiAvailable } from '@ww/transport'
import { Scheduler, type ProcessHandle } from '../index.js'
import { ECHO, PINGER, SPIN, SPIN_NO_YIELD, wat } from './guests.js'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const gc = (): void => (globalThis as { gc?: () => void }).gc?.()
const u32s = (...xs: number[]): Uint8Array => new Uint8Array(new Uint32Array(xs).buffer)

async function idle(hs: ProcessHandle[]): Promise<void> {
  while (hs.some((h) => h.state !== 'waiting')) await new Promise((r) => setImmediate(r))
}

/** Spawn rate (until every process is parked in recv) vs bare instantiation of the same module. */
async function spawn(): Promise<void> {
  const N = 1000
  const runs = 7
  const raw = await wat(ECHO)
  const s = new Scheduler({ maxProcesses: N })
  const mod = await s.compile(raw)
  const bareMod = await WebAssembly.compile(raw as Uint8Array<ArrayBuffer>)
  const noop = (): number => 0
  const bareImports = { ww_proc: { self: noop, send: noop, send_cap: noop, recv: noop, sender: noop, kind: noop, cap: noop, parent: noop, drop: noop, exit: noop } }
  const procs: number[] = []
  const bare: number[] = []
  for (let r = 0; r < runs + 1; r++) {
    let t0 = performance.now()
    const hs = Array.from({ length: N }, () => s.spawn(mod))
    await idle(hs)
    const tp = performance.now() - t0
    await Promise.all(hs.map((h) => h.kill()))
    t0 = performance.now()
    const keep = Array.from({ length: N }, () => new WebAssembly.Instance(bareMod, bareImports))
    const tb = performance.now() - t0
    if (keep.length !== N) throw new Error('unreachable')
    if (r > 0) { procs.push((N * 1000) / tp); bare.push((N * 1000) / tb) }
    gc()
  }
  report({ name: 'proc.spawn', unit: 'procs/s', samples: procs, baseline: { name: 'new WebAssembly.Instance (bare module)', samples: bare }, higherIsBetter: true, params: { processes: N, until: 'parked in recv' } })

  // Bytes per idle process: RSS + external growth over N idle processes (1 page of memory each).
  const M = 5000
  const big = new Scheduler({ maxProcesses: M })
  const bmod = await big.compile(raw)
  const perProc: number[] = []
  const perBare: number[] = []
  for (let r = 0; r < 3; r++) {
    gc(); await sleep(20)
    let m0 = process.memoryUsage()
    const hs = Array.from({ length: M }, () => big.spawn(bmod))
    await idle(hs)
    gc()
    let m1 = process.memoryUsage()
    perProc.push((m1.rss - m0.rss) / M)
    await Promise.all(hs.map((h) => h.kill()))
    hs.length = 0
    gc(); await sleep(20)
    m0 = process.memoryUsage()
    const keep = Array.from({ length: M }, () => new WebAssembly.Instance(bareMod, bareImports))
    gc()
    m1 = process.memoryUsage()
    perBare.push((m1.rss - m0.rss) / M)
    keep.length = 0
  }
  report({ name: 'proc.spawn-memory', unit: 'bytes/proc (RSS)', samples: perProc, baseline: { name: 'bare instance', samples: perBare }, params: { processes: M, memoryPagesEach: 1, note: 'excludes the 64 KiB page until touched; V8 reserves ~8 GiB virtual per memory' } })
  await s.close()
  await big.close()
}

/**
 * Messages per second between two guest processes (ping-pong, 16-byte messages). Also per
 * CPU-second of this process (process.cpuUsage, all threads): on a shared, loaded machine
 * wall time counts other processes' turns, CPU time much less so.
 */
async function message(): Promise<void> {
  const s = new Scheduler()
  // The optimized build: the steady state (the quick first tier's code is slower).
  const echo = await s.compile(await wat(ECHO), { optimized: true })
  const pinger = await s.compile(await wat(PINGER), { optimized: true })
  const n = 100_000
  const samples: number[] = []
  const perCpuSecond: number[] = []
  for (let r = 0; r < 7; r++) {
    const e = s.spawn(echo)
    const p = s.spawn(pinger)
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    p.trySend(u32s(n), { cap: e }) // the pinger's only capability: echo's mailbox
    await p.wait()
    await e.wait()
    const dt = performance.now() - t0
    const cpu = process.cpuUsage(c0)
    if (r > 0) {
      samples.push((2 * n * 1000) / dt)
      perCpuSecond.push((2 * n * 1e6) / (cpu.user + cpu.system))
    }
  }
  const cpuMsgsPerSec = Math.round(median(perCpuSecond))
  report({ name: 'proc.message', unit: 'msgs/s', samples, higherIsBetter: true, params: { roundTrips: n, bytes: 16, between: 'two wasm processes', cpuMsgsPerSec, suspension: jspiAvailable() ? 'jspi' : 'asyncify' } })
  await s.close()
}

/** p99 latency of a ping (host → echo process → host) while 10 busy loops run, vs idle. */
async function fairness(): Promise<void> {
  const s = new Scheduler()
  const echo = await s.compile(await wat(ECHO))
  const spin = await s.compile(await wat(SPIN))
  const probe = s.spawnNative({ name: 'probe' })
  const e = s.spawn(echo, { parent: probe })
  const pings = async (k: number): Promise<number[]> => {
    const lat: number[] = []
    for (let i = 0; i < k; i++) {
      const t0 = performance.now()
      await probe.sendTo(e, new Uint8Array(8))
      await probe.receive()
      lat.push(performance.now() - t0)
      await sleep(1)
    }
    return lat
  }
  const p99 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)]!
  const busySamples: number[] = []
  const idleSamples: number[] = []
  for (let r = 0; r < 5; r++) {
    idleSamples.push(p99(await pings(200)))
    const busy = Array.from({ length: 10 }, () => s.spawn(spin))
    await sleep(20)
    busySamples.push(p99(await pings(200)))
    await Promise.all(busy.map((b) => b.kill()))
  }
  report({ name: 'proc.fairness', unit: 'ms (p99 ping)', samples: busySamples, baseline: { name: 'p99 ping with no busy loops', samples: idleSamples }, params: { busyLoops: 10, pings: 200, sliceFuel: 100_000, quantumMs: 4 } })
  await s.close()
}

/** How late after its deadline a runaway loop is dead (exit observed), yielding or not. */
async function deadline(): Promise<void> {
  const s = new Scheduler()
  for (const [label, src] of [['yielding', SPIN], ['non-yielding', SPIN_NO_YIELD]] as const) {
    const mod = await s.compile(await wat(src))
    const late: number[] = []
    for (let r = 0; r < 15; r++) {
      const t0 = performance.now()
      await s.spawn(mod, { deadlineMs: 50 }).wait()
      late.push(performance.now() - t0 - 50)
      await sleep(5)
    }
    report({ name: `proc.deadline.${label}`, unit: 'ms past deadline', samples: late, params: { deadlineMs: 50, max: Math.max(...late), median: median(late), idleHost: true } })
  }
  await s.close()
}

export async function benchScheduler(only?: string): Promise<void> {
  const all: Record<string, () => Promise<void>> = { spawn, message, fairness, deadline }
  for (const [name, fn] of Object.entries(all)) if (!only || only === name) await fn()
}
