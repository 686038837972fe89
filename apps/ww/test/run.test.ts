// `ww run` as a user runs it: the real binary, as a child process, on real guests — the
// @ww/guest SDK's wasi-hello-host (AssemblyScript, uses its Host over RPC) and small WAT
// guests for exit codes, denied syscalls, a grant, traps, limits and a runaway loop.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { guestPath } from '@ww/guest'
import wabtInit from 'wabt'

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

interface Result { status: number; stdout: string; stderr: string }

function ww(...args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bin, ...args], { timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      const status = err ? (err as { code?: unknown }).code : 0
      if (typeof status !== 'number') return reject(err)
      resolve({ status, stdout, stderr })
    })
  })
}

const WASI = `
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; iovecs at 0 (stdout: "out\\n" at 64) and 8 (stderr: "oops\\n" at 80); the path "notes.txt" at 96
  (data (i32.const 0) "\\40\\00\\00\\00\\04\\00\\00\\00\\50\\00\\00\\00\\05\\00\\00\\00")
  (data (i32.const 64) "out\\n")
  (data (i32.const 80) "oops\\n")
  (data (i32.const 96) "notes.txt")
  (func $out (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 32))))
  (func $err (drop (call $fd_write (i32.const 2) (i32.const 8) (i32.const 1) (i32.const 32))))
  ;; path_open($fd, 0, "notes.txt", O_CREAT, all rights, 0, 0, &fd at 40): its errno
  (func $open_at (param $fd i32) (result i32)
    (call $path_open (local.get $fd) (i32.const 0) (i32.const 96) (i32.const 9) (i32.const 1)
      (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 40)))
  (func $open (result i32) (call $open_at (i32.const 3)))
`

const GUESTS: Record<string, string> = {
  // prints on both streams, then proc_exit(3)
  exit3: `(module ${WASI} (func (export "_start") (call $out) (call $err) (call $proc_exit (i32.const 3))))`,
  // ww_main's result is the exit code
  returns7: `(module ${WASI} (func (export "ww_main") (result i32) (call $out) (i32.const 7)))`,
  // tries to open a file twice; exits with the errno of the second try
  opener: `(module ${WASI} (func (export "_start") (drop (call $open)) (call $proc_exit (call $open))))`,
  // the same, on fd 1 (open, but no path row covers it)
  stdoutOpener: `(module ${WASI} (func (export "_start") (drop (call $open_at (i32.const 1))) (call $proc_exit (call $open_at (i32.const 1)))))`,
  // prints data/in.txt of its scratch dir (fd 3); exits with the first errno, else 0
  cat: `(module ${WASI}
    (data (i32.const 112) "data/in.txt")
    (func (export "_start") (result i32) (local $e i32)
      ;; the opened fd goes to 44; one iovec at 48 (up to 1 KiB at 1024) is read into, then written out
      (local.set $e (call $path_open (i32.const 3) (i32.const 0) (i32.const 112) (i32.const 11) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 44)))
      (if (local.get $e) (then (return (local.get $e))))
      (i64.store (i32.const 48) (i64.const 0x0000040000000400))
      (local.set $e (call $fd_read (i32.load (i32.const 44)) (i32.const 48) (i32.const 1) (i32.const 56)))
      (if (local.get $e) (then (return (local.get $e))))
      (i32.store (i32.const 52) (i32.load (i32.const 56)))
      (call $fd_write (i32.const 1) (i32.const 48) (i32.const 1) (i32.const 56))))`,
  trap: `(module ${WASI} (func (export "_start") (call $out) unreachable))`,
  spin: `(module ${WASI} (func (export "_start") (call $out) (loop $l (br $l))))`,
  // grows memory by 64 pages (4 MiB)
  grow: `(module ${WASI} (func (export "_start") (drop (memory.grow (i32.const 64))) (call $out)))`,
  noentry: `(module (memory (export "memory") 1))`,
}

let dir: string
const path = (name: string): string => join(dir, `${name}.wasm`)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ww-run-'))
  const wabt = await wabtInit()
  for (const [name, source] of Object.entries(GUESTS)) {
    const m = wabt.parseWat(`${name}.wat`, source)
    try { writeFileSync(path(name), new Uint8Array(m.toBinary({}).buffer)) } finally { m.destroy() }
  }
  writeFileSync(path('text'), 'hello, not wasm\n')
})

afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

test('a guest built from source prints, uses its Host and exits 0; its output streams through untagged', async () => {
  const r = await ww('run', guestPath('wasi-hello-host', { asyncify: false }))
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
  expect(r.stdout).toMatch(/^hello from a guest on host embedded-[0-9a-f]+ \(ww 0\.1\.0\)\n/)
  expect(r.stdout).toContain('read it back: "hello, anchors"\npublished on topic demo\n')
})

test('--json tags each line with its fd and ends with a report', async () => {
  const r = await ww('run', path('exit3'), '--json')
  expect(r.status).toBe(3)
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  expect(lines.slice(0, 2)).toEqual([{ fd: 1, text: 'out' }, { fd: 2, text: 'oops' }])
  expect(lines[2]).toMatchObject({ ok: false, exitCode: 3, status: { kind: 'exited', code: 3 }, deniedSyscalls: {} })
})

test('the exit status mirrors the process: proc_exit(3), ww_main returning 7', async () => {
  const a = await ww('run', path('exit3'))
  expect([a.status, a.stdout, a.stderr]).toEqual([3, 'out\n', 'oops\n'])
  const b = await ww('run', path('returns7'))
  expect([b.status, b.stdout, b.stderr]).toEqual([7, 'out\n', ''])
})

test('a denied syscall is reported after the run with its name, count and errno', async () => {
  const r = await ww('run', path('stdoutOpener'))
  expect(r.status).toBe(76) // ENOTCAPABLE, what the guest's second path_open got
  expect(r.stderr).toBe('denied: path_open ×2 (ENOTCAPABLE)\n')
})

test('a path call on an fd that is not open is EBADF, as other runtimes say, and no denial', async () => {
  const r = await ww('run', path('opener'))
  expect([r.status, r.stderr]).toEqual([8, '']) // no scratch dir: fd 3 is not open
})

test('--grant scratch lets the same guest open its file: nothing denied', async () => {
  const r = await ww('run', path('opener'), '--grant', 'scratch=1MiB')
  expect([r.status, r.stderr]).toEqual([0, ''])
})

// Issue 17: a program that needs input files gets them through --put.
describe('--put copies host files into the scratch dir before the guest starts', () => {
  let data: string
  beforeAll(() => {
    data = join(dir, 'data')
    mkdirSync(join(data, 'sub'), { recursive: true })
    writeFileSync(join(data, 'in.txt'), 'put by ww run\n')
    writeFileSync(join(data, 'sub', 'big.bin'), new Uint8Array(2000))
  })

  test('the guest reads the copied file at its path under /scratch', async () => {
    const r = await ww('run', path('cat'), '--grant', 'scratch', '--put', `${data}:/scratch/data`)
    expect([r.status, r.stdout, r.stderr]).toEqual([0, 'put by ww run\n', ''])
    const file = await ww('run', path('cat'), '--grant', 'scratch', '--put', `${join(data, 'in.txt')}:/scratch/data/in.txt`)
    expect([file.status, file.stdout]).toEqual([0, 'put by ww run\n'])
  })

  test.each([
    ['a missing source', ['<dir>/nope:/scratch/data', '--grant', 'scratch'], /--put '.*nope:\/scratch\/data': .*nope does not exist \(looked in /],
    ['a source too large for the quota', ['<data>:/scratch/data', '--grant', 'scratch=1KiB'], /more than 1024 bytes[\s\S]*give a larger --grant scratch=<size>/],
    ['a path escaping the scratch dir by ..', ['<data>:/scratch/../etc', '--grant', 'scratch'], /has '\.' or '\.\.' in it/],
    ['a path outside the scratch dir', ['<data>:/etc/data', '--grant', 'scratch'], /\/etc\/data is outside the scratch dir \/scratch/],
    ['no scratch grant', ['<data>:/scratch/data'], /--put needs a scratch dir to put into: add --grant scratch/],
    ['no destination', ['<data>', '--grant', 'scratch'], /expected SRC:\/scratch\/PATH/],
  ])('%s: a clear message, exit 2, nothing started', async (_what, [put, ...rest], message) => {
    // (The table is built before beforeAll: paths are filled in here.)
    const r = await ww('run', path('exit3'), '--put', put!.replace('<data>', data).replace('<dir>', dir), ...rest)
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(message)
    expect(r.stdout).toBe('') // the guest (which prints "out" first) never ran
    expect(r.stderr).not.toContain('oops')
  })
})

test('a trap exits 134 with its typed reason', async () => {
  const r = await ww('run', path('trap'))
  expect(r.status).toBe(134)
  expect(r.stdout).toBe('out\n')
  expect(r.stderr).toMatch(/trapped: ERR_GUEST_TRAP: unreachable/)
})

test('--timeout kills a guest spinning in a loop: 124, at the deadline', async () => {
  const r = await ww('run', path('spin'), '--timeout', '300ms')
  expect(r.status).toBe(124)
  expect(r.stdout).toBe('out\n')
  expect(r.stderr).toMatch(/timed out after 300ms/)
  // The loop never ends by itself: the timeout's status and message say the deadline ended it.
})

test('--memory caps memory: growing past it kills the process (137)', async () => {
  const capped = await ww('run', path('grow'), '--memory', '1MiB')
  expect(capped.status).toBe(137)
  expect(capped.stdout).toBe('')
  expect(capped.stderr).toMatch(/over the memory cap/)
  const roomy = await ww('run', path('grow'), '--memory', '8MiB')
  expect([roomy.status, roomy.stdout]).toEqual([0, 'out\n'])
})

test('a missing file, a file that is not wasm, a module that cannot start: 126 and what to do', async () => {
  const missing = await ww('run', join(dir, 'nope.wasm'))
  expect(missing.status).toBe(126)
  expect(missing.stderr).toMatch(/^ww run: no such file: .*nope\.wasm/)
  const text = await ww('run', path('text'))
  expect(text.status).toBe(126)
  expect(text.stderr).toContain(`not a WebAssembly module: ${path('text')} (expected \\0asm)`)
  const noentry = await ww('run', path('noentry'))
  expect(noentry.status).toBe(126)
  expect(noentry.stderr).toMatch(/exports no entry point \(_start or ww_main\)/)
  const instrumented = await ww('run', guestPath('wasi-hello-host'))
  expect(instrumented.status).toBe(126)
  expect(instrumented.stderr).toMatch(/already asyncify-instrumented/)
})

test('usage errors exit 2: a bad --grant lists the valid forms; --help is complete', async () => {
  const bad = await ww('run', path('exit3'), '--grant', 'disk=all')
  expect(bad.status).toBe(2)
  expect(bad.stderr).toMatch(/bad --grant 'disk=all'[\s\S]*scratch=<size>[\s\S]*clock=virtual[\s\S]*random=seed:<n>/)
  expect((await ww('run')).status).toBe(2)
  const help = await ww('run', '--help')
  expect(help.status).toBe(0)
  for (const o of ['--grant', '--timeout', '--memory', '--json', '124', '126', '134', '137']) expect(help.stdout).toContain(o)
})
