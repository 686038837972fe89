// `ww run --listen/--dial` as a user runs it: the real binary as a child process, serving
// HTTP from @ww/guest's AssemblyScript wasi-http-server (the raw build: `ww run` meters and
// asyncifies the module itself) on a listener ww bound and granted as fd 3.
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { guestPath } from '@ww/guest'
import wabtInit from 'wabt'

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const server = guestPath('wasi-http-server', { asyncify: false })
const CURL = '/usr/bin/curl'
if (!existsSync(CURL)) console.warn('ww run-net: /usr/bin/curl not found: the curl part is skipped')

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

function curl(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(CURL, ['-sS', '--max-time', '30', url], (err, stdout) => (err ? reject(err) : resolve(stdout)))
  })
}

/** Connects and resolves once connected, or rejects with the socket error (e.g. ECONNREFUSED). */
function dial(addr: string): Promise<Socket> {
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))]
  return new Promise((resolve, reject) => {
    const s = connect({ host, port })
    s.once('connect', () => { s.off('error', reject); resolve(s) })
    s.once('error', reject)
  })
}

// A guest that calls sock_accept(3, 0, &fd at 0) and exits with its errno.
const ACCEPTOR = `(module
  (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $exit (call $accept (i32.const 3) (i32.const 0) (i32.const 0)))))`
const EXIT0 = `(module (memory (export "memory") 1) (func (export "_start")))`

let dir: string
const path = (name: string): string => join(dir, `${name}.wasm`)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ww-run-net-'))
  const wabt = await wabtInit()
  for (const [name, source] of Object.entries({ acceptor: ACCEPTOR, exit0: EXIT0 })) {
    const m = wabt.parseWat(`${name}.wat`, source)
    try { writeFileSync(path(name), new Uint8Array(m.toBinary({}).buffer)) } finally { m.destroy() }
  }
})

afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

/** `ww run` as a child that stays up; resolves once ww printed the address it bound. */
async function serve(...args: string[]) {
  const child = spawn(process.execPath, [bin, 'run', ...args], { env: { ...process.env, NO_COLOR: '1' } })
  const out = { stdout: '', stderr: '' }
  child.stdout.on('data', (b: Buffer) => { out.stdout += b.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  try {
    // ww prints the address it bound (port 0 picked one) before the guest starts.
    const addr = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (b: Buffer) => {
        out.stderr += b.toString()
        const m = /listening on (127\.0\.0\.1:\d+) \(fd 3\)/.exec(out.stderr)
        if (m) resolve(m[1]!)
      })
      child.once('exit', () => reject(new Error(`ww exited before listening: ${out.stderr}`)))
    })
    return { child, out, exited, addr }
  } catch (e) {
    child.kill('SIGKILL')
    throw e
  }
}

test('ww run server.wasm --listen 127.0.0.1:0 serves fetch and curl; --timeout kills it, its clients see a clean close and the port is closed', async () => {
  const { child, out, exited, addr } = await serve(server, '--listen', '127.0.0.1:0', '--timeout', '6s')
  try {
    expect(addr).not.toBe('127.0.0.1:0')

    const res = await fetch(`http://${addr}/hello`)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('hello from a ww guest\npath=/hello\n')
    if (existsSync(CURL)) expect(await curl(`http://${addr}/from-curl`)).toBe('hello from a ww guest\npath=/from-curl\n')

    // A keep-alive client still connected when the process is killed.
    const kept = await dial(addr)
    const closed = new Promise<string>((resolve) => {
      kept.on('end', () => resolve('end'))
      kept.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'))
    })
    let answer = ''
    kept.on('data', (b: Buffer) => { answer += b.toString() })
    kept.write('GET /kept HTTP/1.1\r\nHost: x\r\n\r\n')

    expect(await exited).toBe(124)
    expect(out.stderr).toMatch(/timed out after 6s \(--timeout\); killed/)
    expect(out.stdout).toContain('listening on fd 3') // the guest's own line
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*path=\/kept\n$/)
    expect(await closed).toBe('end') // FIN, not a reset
    kept.destroy()
    await expect(dial(addr)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
  } finally {
    child.kill('SIGKILL')
  }
})

test('killed by a signal (SIGTERM, as Ctrl-C): exit 137, and the port is closed', async () => {
  const { child, out, exited, addr } = await serve(server, '--listen', '127.0.0.1:0', '--timeout', '60s')
  try {
    expect(await (await fetch(`http://${addr}/before`)).text()).toBe('hello from a ww guest\npath=/before\n')
    child.kill('SIGTERM')
    expect(await exited).toBe(137)
    expect(out.stderr).toMatch(/killed \(by host\)/)
    await expect(dial(addr)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
  } finally {
    child.kill('SIGKILL')
  }
})

test('without --listen the guest has no socket: sock_accept on fd 3 is EBADF (not open), not a denial; the server guest says so and exits 2', async () => {
  const [acceptor, httpServer] = await Promise.all([ww('run', path('acceptor')), ww('run', server, '--timeout', '30s')])
  expect(acceptor.status).toBe(8) // EBADF, the errno the guest exited with (issue 17: as other runtimes say)
  expect(acceptor.stderr).toBe('')
  expect([httpServer.status, httpServer.stdout]).toEqual([2, 'no listener granted\n'])
})

test('an address in use is exit 126 with the reason; a malformed --listen or --dial is a usage error (2)', async () => {
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  const port = (taken.address() as AddressInfo).port
  try {
    const [inUse, bad, badDial] = await Promise.all([
      ww('run', path('exit0'), '--listen', `127.0.0.1:${port}`),
      ww('run', path('exit0'), '--listen', '127.0.0.1:99999'),
      ww('run', path('exit0'), '--dial', 'db'),
    ])
    expect(inUse.status).toBe(126)
    expect(inUse.stderr).toBe(`ww run: cannot listen on 127.0.0.1:${port}: the address is in use (another program listens there; pick another port, or port 0 for a free one)\n`)
    expect(bad.status).toBe(2)
    expect(bad.stderr).toMatch(/--listen: '127\.0\.0\.1:99999' is not host:port/)
    expect(badDial.status).toBe(2)
    expect(badDial.stderr).toMatch(/--dial: 'db' is not host:port/)
    const help = await ww('run', '--help')
    for (const o of ['--listen', '--dial', 'port 0']) expect(help.stdout).toContain(o)
  } finally {
    taken.close()
  }
})

test('--json: the bound address first, then the report naming what was granted; the listener is closed when the guest exits', async () => {
  const r = await ww('run', path('exit0'), '--listen', '127.0.0.1:0', '--dial', '127.0.0.1:9', '--json')
  expect(r.status).toBe(0)
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  expect(lines[0]).toEqual({ listening: expect.stringMatching(/^127\.0\.0\.1:\d+$/), fd: 3 })
  expect(lines[1]).toMatchObject({ ok: true, exitCode: 0, listened: [lines[0]!.listening], dialer: ['127.0.0.1:9'] })
  await expect(dial(lines[0]!.listening as string)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
})

test('--grant connections=N: N clients holding connections at once are all answered (the default, 64 fds, serves about 60 at a time); without --listen it is a usage error', async () => {
  const { child, exited, addr } = await serve(server, '--listen', '127.0.0.1:0', '--grant', 'connections=120', '--timeout', '30s')
  try {
    const clients = await Promise.all(Array.from({ length: 100 }, () => dial(addr)))
    const answers = await Promise.all(clients.map((c, i) => new Promise<string>((resolve) => {
      let got = ''
      c.on('data', (b: Buffer) => { got += b.toString(); if (got.endsWith(`path=/c${i}\n`)) resolve(got) })
      c.write(`GET /c${i} HTTP/1.1\r\nHost: x\r\n\r\n`) // keep-alive: every connection stays open
    })))
    expect(answers.every((a, i) => a.startsWith('HTTP/1.1 200 OK\r\n') && a.endsWith(`path=/c${i}\n`))).toBe(true)
    for (const c of clients) c.destroy()
    child.kill('SIGTERM')
    expect(await exited).toBe(137)
  } finally {
    child.kill('SIGKILL')
  }
  const alone = await ww('run', path('exit0'), '--grant', 'connections=10')
  expect(alone.status).toBe(2)
  expect(alone.stderr).toMatch(/connections=<n> sizes the connections of the listeners --listen binds/)
})
