// Automatic suspension: a preview1 module built elsewhere (no ww ABI, no asyncify) that
// yields, sleeps or polls runs on any engine — on Node 20/22 the scheduler asyncifies the
// paths to its waiting imports and reserves the data area itself; under JSPI it runs as
// it is. A module that arrives asyncified runs with its own instrumentation.
import { spawnSync } from 'node:child_process'
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WASI } from 'node:wasi'
import { asyncifyModule, jspiAvailable } from '@ww/transport'
import { MemorySink } from '@ww/wasi-restricted'
import { compileGuest, meterModule, ModuleTooLargeError, Scheduler, spawnGuest, spawnPoolGuest, WorkerPool } from '../src/index.js'
import { wat } from '../src/bench/guests.js'
import { fuelUsedBy } from '../src/compile/instrument.js'

const text = (s: MemorySink): string => Buffer.concat(s.records.map((r) => r.bytes)).toString('utf8')
const JSPI = jspiAvailable()

const IMPORTS = `
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))`

/** Yields and sleeps twice (nested calls), then checks its memory view and prints "ok". */
const FOREIGN = (memory: string): string => `(module ${IMPORTS}
  (memory (export "memory") ${memory})
  (data (i32.const 1100) "ok\\n")
  (data (i32.const 1024) "\\4c\\04\\00\\00\\03\\00\\00\\00")
  (func $sleep (param $ns i64)
    (i32.store8 (i32.const 8200) (i32.const 0))
    (i32.store (i32.const 8208) (i32.const 1))
    (i64.store (i32.const 8216) (local.get $ns))
    (drop (call $poll (i32.const 8192) (i32.const 8256) (i32.const 1) (i32.const 8300))))
  (func $work (param $n i32) (result i32)
    (if (call $yield) (then unreachable))
    (call $sleep (i64.const 1000000))
    (i32.add (local.get $n) (i32.const 1)))
  (func (export "_start") (local $s i32) (local $end i32)
    (local.set $s (i32.add (call $work (memory.size)) (call $work (i32.const 10))))
    (if (i32.ne (local.get $s) (i32.const 13)) (then unreachable))
    ;; the reserved data area is not in the guest's view, and what it held is gone once the guest grows over it
    (if (i32.ne (memory.size) (i32.const 1)) (then unreachable))
    (local.set $end (i32.shl (memory.size) (i32.const 16)))
    (if (i32.ne (memory.grow (i32.const 1)) (i32.const 1)) (then unreachable))
    (if (i32.ne (memory.size) (i32.const 2)) (then unreachable))
    (if (i64.ne (i64.or (i64.load (local.get $end)) (i64.load offset=8 (local.get $end))) (i64.const 0)) (then unreachable))
    (drop (call $fd_write (i32.const 1) (i32.const 1024) (i32.const 1) (i32.const 1208)))))`

test('a module without the ww ABI that yields and sleeps runs on this engine (asyncified here only without JSPI)', async () => {
  await using s = new Scheduler({ moduleCache: false })
  const mod = await compileGuest(s, await wat(FOREIGN('1')))
  expect(mod.meter).toMatchObject({ asyncified: !JSPI, preinstrumented: false, fuelYields: false })
  const stdout = new MemorySink()
  const g = spawnGuest(s, mod, { stdout })
  expect(await g.wait()).toEqual({ kind: 'exited', code: 0 })
  expect(text(stdout)).toBe('ok\n')
})

test('the same module under forced asyncify (any engine): the run is the same', async () => {
  await using s = new Scheduler({ moduleCache: false, suspension: 'asyncify' })
  const mod = await compileGuest(s, await wat(FOREIGN('1')))
  expect(mod.meter.asyncified).toBe(true)
  const stdout = new MemorySink()
  const g = spawnGuest(s, mod, { stdout })
  expect(await g.wait()).toEqual({ kind: 'exited', code: 0 })
  expect(text(stdout)).toBe('ok\n')
})

test('on a worker pool the same module runs on each worker (compiled once, on this thread)', async () => {
  const pool = await WorkerPool.start({ workers: 2, scheduler: { moduleCache: false } })
  try {
    const mod = await compileGuest(pool, await wat(FOREIGN('1')))
    const outs = [new MemorySink(), new MemorySink()]
    const gs = await Promise.all([0, 1].map((w) => spawnPoolGuest(pool, mod, { worker: w, stdout: outs[w]! })))
    expect(await Promise.all(gs.map((g) => g.wait()))).toEqual([{ kind: 'exited', code: 0 }, { kind: 'exited', code: 0 }])
    expect(outs.map(text)).toEqual(['ok\n', 'ok\n'])
  } finally {
    await pool.close()
  }
})

test('a module without the ABI data area waits in ww_proc.recv, hibernates there and wakes with the message', async () => {
  await using s = new Scheduler({ moduleCache: false, suspension: 'asyncify' })
  const mod = await s.compile(await wat(`(module
    (import "ww_proc" "recv" (func $recv (param i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "ww_main") (result i32)
      (drop (call $recv (i32.const 4096) (i32.const 256)))
      (i32.add (i32.load8_u (i32.const 4096)) (memory.size))))`))
  expect(mod.meter).toMatchObject({ asyncified: true, hibernatable: true })
  const h = s.spawn(mod)
  while (h.state !== 'waiting') await new Promise((r) => setImmediate(r))
  expect(s.hibernate(h)).toBe(true)
  await h.send(new Uint8Array([41]))
  expect(await h.wait()).toEqual({ kind: 'exited', code: 42 }) // its view of memory: 1 page
})

test('the same bytes compile once per process; Binaryen\'s -O2 build, made once the first has run enough, replaces it for later spawns', async () => {
  await using s = new Scheduler({ moduleCache: false, suspension: 'asyncify' })
  const bytes = await wat(FOREIGN('1'))
  const [a, b] = await Promise.all([compileGuest(s, bytes), compileGuest(new Scheduler({ moduleCache: false, suspension: 'asyncify' }), bytes.slice())])
  expect(b.module).toBe(a.module)
  expect(a.meter).toMatchObject({ tier: 'quick', asyncified: true })
  fuelUsedBy(a.module, 1e9) // as the scheduler reports a hot process's slices
  let c = a
  while (c.module === a.module) {
    await new Promise((r) => setTimeout(r, 10))
    c = await compileGuest(s, bytes)
  }
  // The same contract, from Binaryen's pass.
  const { tier, checks, ...rest } = a.meter
  expect(c.meter).toEqual({ ...rest, tier: 'binaryen', checks: expect.any(Number) })
  expect([tier, checks > 0]).toEqual(['quick', true])
  const stdout = new MemorySink()
  expect(await spawnGuest(s, c, { stdout }).wait()).toEqual({ kind: 'exited', code: 0 })
  expect(text(stdout)).toBe('ok\n')
})

test('a module that imports no call that may wait gets no asyncify', async () => {
  await using s = new Scheduler({ moduleCache: false, suspension: 'asyncify' })
  const mod = await compileGuest(s, await wat(`(module
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (memory (export "memory") 1)
    (func (export "_start") (call $exit (i32.const 0))))`))
  expect(mod.meter.asyncified).toBe(false)
  expect(WebAssembly.Module.exports(mod.module).map((e) => e.name)).not.toContain('asyncify_start_unwind')
})

test('a module whose memory cannot grow ends with a typed trap that says why when it first waits', async () => {
  await using s = new Scheduler({ moduleCache: false, suspension: 'asyncify' })
  const g = spawnGuest(s, await compileGuest(s, await wat(FOREIGN('1 1'))))
  expect(await g.wait()).toMatchObject({ kind: 'trapped', code: 'ERR_GUEST_ABI', reason: expect.stringMatching(/memory cannot grow/) })
})

test('a module that arrives asyncify-instrumented runs with its own asyncify (metered, not instrumented twice)', async () => {
  const waits = ['poll_oneoff', 'sched_yield'].map((f) => `wasi_snapshot_preview1.${f}`)
  const pre = await asyncifyModule(await wat(FOREIGN('1')), { imports: waits })
  await using s = new Scheduler({ moduleCache: false, suspension: 'asyncify' })
  const mod = await compileGuest(s, pre)
  expect(mod.meter).toMatchObject({ asyncified: true, preinstrumented: true, fuelYields: false, hibernatable: false })
  const stdout = new MemorySink()
  expect(await spawnGuest(s, mod, { stdout }).wait()).toEqual({ kind: 'exited', code: 0 })
  expect(text(stdout)).toBe('ok\n')
})

test('a module asyncified by its author with its own data area starts without Binaryen, and runs out of fuel safely while it rewinds', async () => {
  // Its metering comes after its asyncify, so fuel checks also run while a rewind replays
  // the stack; with a slice of 20 fuel they run out there again and again.
  const pre = await asyncifyModule(await wat(`(module
    (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
    (memory (export "memory") 1)
    (func (export "ww_asyncify_data") (result i32)
      (i32.store (i32.const 16) (i32.const 24)) (i32.store (i32.const 20) (i32.const 4096)) (i32.const 16))
    (func $deep (param $n i32)
      (if (local.get $n) (then (call $deep (i32.sub (local.get $n) (i32.const 1)))) (else (drop (call $yield)))))
    (func (export "_start") (local $i i32)
      (loop $l
        (call $deep (i32.const 5))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 200))))))`), { imports: ['wasi_snapshot_preview1.sched_yield'] })
  await using s = new Scheduler({ moduleCache: false, suspension: 'asyncify', sliceFuel: 20 })
  const mod = await compileGuest(s, pre)
  expect(mod.meter).toMatchObject({ tier: 'quick', asyncified: true, preinstrumented: true, fuelYields: false })
  expect(await spawnGuest(s, mod).wait()).toEqual({ kind: 'exited', code: 0 })
})

test('a module over the size limit is refused with ERR_MODULE_TOO_LARGE before Binaryen reads it', async () => {
  const bytes = await wat(FOREIGN('1'))
  const e = await meterModule(bytes, { maxBytes: 100 }).catch((x: unknown) => x)
  expect(e).toBeInstanceOf(ModuleTooLargeError)
  expect(e).toMatchObject({ code: 'ERR_MODULE_TOO_LARGE', bytes: bytes.byteLength, limit: 100 })
})

// C and Rust, as a user builds them elsewhere: clang-19 with Debian's wasi-libc; Debian's
// rustc with libstd-rust-dev-wasm32 (/usr/bin/rustc first: a rustup one may lack the target).
const SYSROOT = process.env.WASI_SYSROOT ?? '/usr'
const CLANG = process.env.WW_CLANG ?? 'clang-19'
const haveClang = existsSync(join(SYSROOT, 'lib', 'wasm32-wasi', 'libc.a')) && spawnSync(CLANG, ['--version'], { stdio: 'ignore' }).status === 0
const RUSTC = [process.env.WW_RUSTC, '/usr/bin/rustc', 'rustc'].find((c) => {
  if (c === undefined || c === '') return false
  const r = spawnSync(c, ['--print', 'sysroot'], { encoding: 'utf8' })
  return r.status === 0 && existsSync(join(r.stdout.trim(), 'lib', 'rustlib', 'wasm32-wasi', 'lib'))
})

function build(file: string, compile: (src: string, out: string) => string[], tool: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'ww-guest-'))
  try {
    const out = join(dir, 'guest.wasm')
    const r = spawnSync(tool, compile(fileURLToPath(new URL(`./${file}`, import.meta.url)), out), { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`${tool} failed: ${r.stderr}`)
    return new Uint8Array(readFileSync(out))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
const buildC = (name: string): Uint8Array => build(`c/${name}.c`, (src, out) => ['--target=wasm32-wasi', `--sysroot=${SYSROOT}`, '-O2', src, '-o', out], CLANG)
const buildRust = (name: string): Uint8Array => build(`rust/${name}.rs`, (src, out) => ['--edition', '2021', '--target', 'wasm32-wasi', '-C', 'opt-level=2', '-C', 'strip=debuginfo', src, '-o', out], RUSTC!)

/** The same bytes under node:wasi (which blocks the thread in its sleeps): exit status and stdout. */
async function underNodeWasi(bytes: Uint8Array): Promise<{ exit: number; stdout: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ww-nodewasi-'))
  const out = join(dir, 'stdout')
  const fd = openSync(out, 'w')
  try {
    const wasi = new WASI({ version: 'preview1', args: ['guest'], env: {}, stdout: fd, returnOnExit: true })
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes as BufferSource), wasi.getImportObject() as WebAssembly.Imports)
    return { exit: wasi.start(instance), stdout: readFileSync(out, 'utf8') }
  } finally {
    closeSync(fd)
    rmSync(dir, { recursive: true, force: true })
  }
}

async function underWw(bytes: Uint8Array, suspension: 'auto' | 'asyncify'): Promise<{ exit: number; stdout: string }> {
  await using s = new Scheduler({ moduleCache: false, suspension })
  const stdout = new MemorySink()
  const status = await spawnGuest(s, await compileGuest(s, bytes), { stdout }).wait()
  if (status.kind !== 'exited') throw new Error(`the guest ended ${JSON.stringify(status)}`)
  return { exit: status.code, stdout: text(stdout) }
}

;(haveClang ? test : test.skip)('a C program (wasi-libc) that calls sched_yield and nanosleep runs; calloc after a wait reads zeros', async () => {
  const bytes = buildC('yield-sleep')
  for (const suspension of ['auto', 'asyncify'] as const) {
    expect(await underWw(bytes, suspension)).toEqual({ exit: 0, stdout: 'yields=3 slept=1 dirty=0\n' })
  }
})
if (!haveClang) console.warn(`auto-suspend.test: C case skipped (no ${CLANG} with wasi-libc under ${SYSROOT})`)

;(RUSTC !== undefined ? test : test.skip)('a Rust program (std) that yields and sleeps ends as it does under node:wasi', async () => {
  const bytes = buildRust('yield-sleep')
  const expected = { exit: 0, stdout: 'yields=3 slept_at_least_30ms=true\n' }
  expect(await underNodeWasi(bytes)).toEqual(expected)
  for (const suspension of ['auto', 'asyncify'] as const) expect(await underWw(bytes, suspension)).toEqual(expected)
}, 120_000)
if (RUSTC === undefined) console.warn('auto-suspend.test: Rust case skipped (no rustc with the wasm32-wasi standard library: apt install rustc libstd-rust-dev-wasm32 lld-14, or set WW_RUSTC)')
