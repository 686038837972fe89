// Real guests compiled from source, under the default policy and under grants.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createSuspender } from '@ww/transport'
import { createWasi, DEFAULT_POLICY, grant, MemorySink, ProcessExit, type Policy, type WasiOptions } from '../src/index.js'
import { asGuest, cGuest, findClang } from './guests.js'

const ERRNO_ENOTCAPABLE = 76, ERRNO_ENOSPC = 51
// A path under no preopen is refused by wasi-libc itself: ENOTCAPABLE (Debian's wasi-libc)
// or ENOENT (newer ones, e.g. @yowasp/clang's). Either way the host never sees the call.
const NO_PREOPEN = /^failed errno=(76|44)$/

async function run(bytes: Uint8Array, policy: Policy = DEFAULT_POLICY, opts: Partial<WasiOptions> = {}) {
  const stdout = new MemorySink(), stderr = new MemorySink()
  const wasi = createWasi(policy, { processId: 'guest-1', sinks: { stdout, stderr }, ...opts })
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes as BufferSource), { wasi_snapshot_preview1: wasi.imports as unknown as WebAssembly.ModuleImports })
  wasi.attach(instance)
  let exitCode = 0
  try { (instance.exports._start as () => void)() } catch (e) {
    if (!(e instanceof ProcessExit)) throw e
    exitCode = e.exitCode
  }
  return { exitCode, out: stdout.text(), err: stderr.text(), wasi, stdout }
}

const clang = await findClang()
if (clang === null) console.warn('wasi-restricted: no clang with wasi-libc found (apt install clang-19 lld-19 wasi-libc, set WW_CLANG/WASI_SYSROOT, or WW_YOWASP_CLANG): C guest tests skipped')
const withClang = clang === null ? describe.skip : describe

withClang('C guest (clang + wasi-libc), default policy', () => {
  test('libc start-up, printf, clock, random, no env, stdin EOF, fopen failing cleanly', async () => {
    const r = await run((await cGuest('startup'))!)
    expect(r.exitCode).toBe(0)
    const lines = r.out.split('\n')
    expect(lines.slice(0, 3)).toEqual(['argc=0 home=(none)', 'clock monotonic_ok=1 realtime_after_2020=1', 'random rc=0 nonzero=1'])
    expect(lines[3]).toMatch(/^fopen \/etc\/passwd: /)
    expect(lines[3]!.replace('fopen /etc/passwd: ', '')).toMatch(NO_PREOPEN)
    expect(lines[4]!.replace('fopen data.txt: ', '')).toMatch(NO_PREOPEN)
    expect(lines.slice(5)).toEqual(['stdin: eof', ''])
    expect(r.err).toBe('to stderr\n')
    expect(r.stdout.records.every((x) => x.processId === 'guest-1')).toBe(true)
    expect(r.wasi.audit().denials).toBe(0) // libc never even asked: no preopen matched
  })
})

withClang('C guest with a scratch dir', () => {
  const passwd = existsSync('/etc/passwd') ? { text: readFileSync('/etc/passwd', 'utf8'), mtime: statSync('/etc/passwd').mtimeMs } : null

  test('creates, writes, reads, renames, deletes; hits ENOSPC at its quota; cannot get out; proc_exit(3)', async () => {
    const policy = grant(DEFAULT_POLICY, { scratch: { maxBytes: 10_000, maxInodes: 16 } })
    const r = await run((await cGuest('scratch'))!, policy)
    expect(r.exitCode).toBe(3)
    const lines = r.out.trim().split('\n')
    expect(lines.slice(0, 4)).toEqual(['read back: first line', 'stat dir: 1', 'unlink: 0 exists_after=0', `quota: wrote 10000 bytes then errno=${ERRNO_ENOSPC} (ENOSPC)`])
    expect(lines.slice(4)).toEqual([
      expect.stringMatching(/^escape \/etc\/passwd: refused errno=(76|44)$/),
      `escape dotdot: refused errno=${ERRNO_ENOTCAPABLE}`,
      `escape dotdot-create: refused errno=${ERRNO_ENOTCAPABLE}`,
      `escape abs-symlink: refused errno=${ERRNO_ENOTCAPABLE}`,
      `escape rel-symlink: refused errno=${ERRNO_ENOTCAPABLE}`,
    ])
    expect(r.wasi.audit().byErrno.ENOTCAPABLE).toBeGreaterThanOrEqual(3)
    // The host is untouched: nothing escaped onto its disk, /etc/passwd unchanged.
    for (const p of ['/escaped.txt', '/tmp/escaped.txt', `${process.cwd()}/escaped.txt`]) expect(existsSync(p)).toBe(false)
    if (passwd !== null) {
      expect(readFileSync('/etc/passwd', 'utf8')).toBe(passwd.text)
      expect(statSync('/etc/passwd').mtimeMs).toBe(passwd.mtime)
    }
    r.wasi.close()
    expect(r.wasi.scratchUsage()).toEqual({ bytes: 0, inodes: 0 })
  })
})

withClang('C guest sleeping through the transport\'s asyncify Suspender', () => {
  test('usleep/nanosleep suspend the guest; the event loop keeps running', async () => {
    const bytes = (await cGuest('sleep', { asyncify: ['wasi_snapshot_preview1.poll_oneoff'], exports: ['ww_asyncify_area'] }))!
    const suspender = createSuspender('asyncify')
    const stdout = new MemorySink(), stderr = new MemorySink()
    const wasi = createWasi(DEFAULT_POLICY, { processId: 'sleeper', sinks: { stdout, stderr }, suspend: (fn) => suspender.wrapImport(fn) })
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes as BufferSource), { wasi_snapshot_preview1: wasi.imports as unknown as WebAssembly.ModuleImports })
    wasi.attach(instance)
    // The ABI's ww_asyncify_data, from the exported data address (see guests/c/sleep.c).
    const area = (instance.exports.ww_asyncify_area as WebAssembly.Global).value as number
    suspender.attach({ exports: { ...instance.exports, ww_asyncify_data: () => area } } as unknown as WebAssembly.Instance)
    // Event-loop turns until the guest ends. JS is single-threaded: any turn that runs while
    // the guest is alive ran while it was suspended (at the latest, the check phase after the
    // first sleep's timer comes before the second sleep's timer can fire).
    let turns = 0, running = true
    const turn = (): void => { if (running) { turns++; setImmediate(turn) } }
    setImmediate(turn)
    await suspender.run(instance.exports._start as () => void)
    running = false
    const ms = Number(/slept_ms=(\d+)/.exec(stdout.text())![1])
    expect(ms).toBeGreaterThanOrEqual(29) // it really slept (20 + 10 ms): load only adds
    // A sleep whose deadline has already passed when poll_oneoff looks (the process descheduled
    // for 10 ms in between, seen at load 20) returns without waiting: so not always 2, but a
    // blocking sleep would make it 0, and no turn could run while the guest is alive.
    expect(suspender.suspensions).toBeGreaterThanOrEqual(1)
    expect(suspender.suspensions).toBeLessThanOrEqual(2)
    expect(turns).toBeGreaterThan(0)
  })

  test('without a hook the same guest is not blocked: the sleep fails at once', async () => {
    const bytes = (await cGuest('sleep', { asyncify: ['wasi_snapshot_preview1.poll_oneoff'], exports: ['ww_asyncify_area'] }))!
    const r = await run(bytes)
    // Both sleeps were refused with ENOTSUP, which poll_oneoff returns instead of waiting
    // (how soon is calls/poll.test.ts's). A blocking poll would have slept and succeeded.
    expect(r.wasi.audit().byFunction.poll_oneoff).toBe(2)
    expect(r.wasi.audit().byErrno.ENOTSUP).toBe(2)
    expect(r.exitCode).toBe(0)
  })
})

// Issue 17: a program that needs input files finds them in its scratch dir at start.
withClang('C guest reading a seeded scratch dir', () => {
  test('reads the seeded file, lists the seeded dir, writes its result next to them', async () => {
    const policy = grant(DEFAULT_POLICY, { scratch: { maxBytes: 4096, maxInodes: 16 } })
    const scratchSeed = [
      { path: 'data/in.txt', bytes: new TextEncoder().encode('one two\nthree\n') },
      { path: 'data/sub/deep.bin', bytes: new Uint8Array(300) },
      { path: 'data/b.txt', bytes: new Uint8Array(0) },
    ]
    const r = await run((await cGuest('scratch-seed'))!, policy, { scratchSeed })
    expect(r.exitCode).toBe(0)
    expect(r.out).toBe('in: one two\nin: three\nls data: b.txt in.txt sub\nnested: yes\ndeep.bin size=300\nwords=3\n')
    // The seed (314 bytes, root + data + sub + 3 files) plus the guest's out.txt (8 bytes, 1 inode).
    expect(r.wasi.scratchUsage()).toEqual({ bytes: 314 + 8, inodes: 7 })
    expect(r.wasi.audit().denials).toBe(0)
  })
})

// Issue 17: a C program polling its stdio, and the errnos of fds that are not open.
withClang('C guest polling stdio and calling closed fds, default policy', () => {
  test('stdout/stderr writable, stdin readable at end of file (with HUP): no ENOTCAPABLE; closed fds EBADF, stdout as a socket ENOTCAPABLE', async () => {
    const r = await run((await cGuest('stdio-poll'))!)
    expect(r.exitCode).toBe(0)
    expect(r.out.split('\n')).toEqual([
      'stdout+stderr: rc=2 fd1=OUT fd2=OUT errno=0',
      'stdin: rc=1 fd0=INHUP errno=0',
      'all, 5 s timeout: rc=3 fd0=INHUP fd1=OUT fd2=OUT errno=0',
      'shutdown(7): rc=-1 errno=EBADF',
      'shutdown(1): rc=-1 errno=ENOTCAPABLE',
      'close(9): rc=-1 errno=EBADF',
      'read(12): rc=-1 errno=EBADF',
      '',
    ])
    // Only the one call on an fd that exists but is outside the policy is a denial.
    expect(r.wasi.audit().byFunction).toEqual({ sock_shutdown: 1 })
  })
})

describe('AssemblyScript guest (wasi-shim), default policy', () => {
  test('console, clocks, random, stderr, process.exit(3)', async () => {
    const r = await run(await asGuest('startup'))
    expect(r.out).toBe('as hello\nas clock ok ok\nas random ok\n')
    expect(r.err).toBe('as stderr\n')
    expect(r.exitCode).toBe(3)
  })
})
