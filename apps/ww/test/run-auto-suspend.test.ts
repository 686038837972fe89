// `ww run` of preview1 modules built elsewhere, as a user runs them (the real binary): one
// that yields and sleeps without the ww ABI runs on any engine (ww asyncifies it where
// there is no JSPI), one its author already asyncified runs as it is, and the instrumented
// module is kept under $WW_HOME/cache/instrumented for the next run.
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { asyncifyModule } from '@ww/transport'
import wabtInit from 'wabt'

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

/** sched_yield, a 1 ms sleep (poll_oneoff on a clock), then "ok" on stdout. */
const YIELDER = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 1100) "ok\\n")
  (data (i32.const 1024) "\\4c\\04\\00\\00\\03\\00\\00\\00")
  (func (export "_start")
    (drop (call $yield))
    (i32.store8 (i32.const 8200) (i32.const 0))
    (i32.store (i32.const 8208) (i32.const 1))
    (i64.store (i32.const 8216) (i64.const 1000000))
    (drop (call $poll (i32.const 8192) (i32.const 8256) (i32.const 1) (i32.const 8300)))
    (drop (call $fd_write (i32.const 1) (i32.const 1024) (i32.const 1) (i32.const 1208)))))`

interface Result { status: number; stdout: string; stderr: string }

let dir: string
const home = (): string => join(dir, 'home')

function ww(...args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bin, ...args], { timeout: 120_000, env: { ...process.env, NO_COLOR: '1', WW_HOME: home(), WW_CACHE: '' } /* its cache under this home, checked below */ }, (err, stdout, stderr) => {
      const status = err ? (err as { code?: unknown }).code : 0
      if (typeof status !== 'number') return reject(err)
      resolve({ status, stdout, stderr })
    })
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ww-run-auto-'))
  const wabt = await wabtInit()
  const m = wabt.parseWat('yielder.wat', YIELDER)
  try {
    const bytes = new Uint8Array(m.toBinary({}).buffer)
    writeFileSync(join(dir, 'yielder.wasm'), bytes)
    const waits = ['poll_oneoff', 'sched_yield', 'fd_write'].map((f) => `wasi_snapshot_preview1.${f}`)
    writeFileSync(join(dir, 'preasyncified.wasm'), await asyncifyModule(bytes, { imports: waits }))
  } finally {
    m.destroy()
  }
})

afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

test('a module that yields and sleeps runs and exits 0; its instrumented form is kept for the next run', async () => {
  const first = await ww('run', join(dir, 'yielder.wasm'))
  expect(first).toMatchObject({ status: 0, stdout: 'ok\n' })
  const cache = join(home(), 'cache', 'instrumented')
  const [version] = readdirSync(cache)
  expect(readdirSync(join(cache, version!)).filter((f) => f.endsWith('.wwm')).length).toBeGreaterThanOrEqual(1)
  expect(await ww('run', join(dir, 'yielder.wasm'))).toMatchObject({ status: 0, stdout: 'ok\n' })
})

test('a module its author already asyncified runs as it is', async () => {
  expect(await ww('run', join(dir, 'preasyncified.wasm'))).toMatchObject({ status: 0, stdout: 'ok\n' })
})
