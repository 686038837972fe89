// `ww host` and its clients as a user runs them: the real binary, as child processes.
// One embedded host; every client finds it through $WW_HOME/host.json.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { guestPath } from '@ww/guest'
import { connectHost } from '../src/client.js'
import { removeHome, startClient, startHost, writeGuests, ww, type HostChild } from './hosts.js'

/** A row of `ww ps --json`. */
interface PsJson {
  host: string; pid: number; parent: string; name: string; state: string; cpuMs: number; fuel: number; memoryBytes: number
  denials: Record<string, number>; worker?: number
}

let h: HostChild
let env: NodeJS.ProcessEnv
let id: string

beforeAll(async () => {
  h = startHost()
  const ready = await h.ready()
  id = String(ready.id)
  env = { WW_HOME: h.home }
  await writeGuests(h.home)
})

afterAll(async () => {
  await h.stop()
  removeHome(h)
})

test('ww host records itself in $WW_HOME/host.json, on a unix socket only its user can open', async () => {
  const ready = await h.ready()
  expect(ready).toMatchObject({ cluster: 'embedded', pid: h.child.pid, addresses: [] })
  expect(String(ready.rpc)).toMatch(/^unix:.*\/run\/\d+\.sock$/)
  const record = JSON.parse(readFileSync(join(h.home, 'host.json'), 'utf8'))
  expect(record).toMatchObject({ id, rpc: ready.rpc, pid: h.child.pid })
})

test('ww cluster ls shows the host, marked as the one connected to', async () => {
  const r = await ww(['cluster', 'ls'], env)
  expect(r.status).toBe(0)
  expect(r.stdout).toMatch(/^HOST\s+PROCS\s+UPTIME\s+VERSION\s+ADDRESSES$/m)
  expect(r.stdout).toContain(`*${id}`)
  const j = JSON.parse((await ww(['cluster', 'ls', '--json'], env)).stdout)
  expect(j).toEqual([expect.objectContaining({ id, self: true, version: '0.1.0', addresses: [] })])
})

test('ww anchors put, get, ls: relative paths are under the host, absolute from the cluster root', async () => {
  const put = await ww(['anchors', 'put', 'cfg/mode', 'fast lane'], env)
  expect(put.status).toBe(0)
  expect(put.stdout).toBe(`/${id}/cfg/mode = "fast lane" (version 1)\n`)
  expect((await ww(['anchors', 'get', 'cfg/mode'], env)).stdout).toBe('fast lane\n')
  expect(JSON.parse((await ww(['anchors', 'get', `/${id}/cfg/mode`, '--json'], env)).stdout))
    .toEqual({ path: `/${id}/cfg/mode`, version: 1, kind: 'data', value: 'fast lane', encoding: 'utf8' })
  expect(JSON.parse((await ww(['anchors', 'put', 'cfg/mode', 'slow', '--json'], env)).stdout)).toEqual({ path: `/${id}/cfg/mode`, version: 2 })
  expect(JSON.parse((await ww(['anchors', 'ls', 'cfg', '--json'], env)).stdout).children).toEqual([{ name: 'mode', value: true, children: false }])
  expect((await ww(['anchors', 'ls', '/'], env)).stdout).toContain(`${id}/`)
  const missing = await ww(['anchors', 'get', 'cfg/none'], env)
  expect(missing.status).toBe(1)
  expect(missing.stderr).toMatch(/holds no value/)
})

test('ww anchors watch prints a change made by another client', async () => {
  const watcher = await startClient(['anchors', 'watch', 'w', '--count', '1', '--json'], env, 'watching')
  expect((await ww(['anchors', 'put', 'w/k', 'v1'], env)).status).toBe(0)
  expect(await watcher.exited).toBe(0)
  const out = watcher.lines.join('\n')
  expect(JSON.parse(out)).toEqual({ path: `/${id}/w/k`, kind: 'set', version: 1, value: 'v1', encoding: 'utf8' })
})

test('ww pub reaches ww sub, in order, with the publisher and sequence numbers', async () => {
  const subscriber = await startClient(['sub', 'chat', '--count', '3', '--json'], env, 'subscribed to chat')
  for (const m of ['one', 'two words', 'three']) expect((await ww(['pub', 'chat', m], env)).status).toBe(0)
  expect(await subscriber.exited).toBe(0)
  const lines = subscriber.lines.map((l) => JSON.parse(l) as unknown)
  expect(lines.map((l) => (l as { data: string }).data)).toEqual(['one', 'two words', 'three'])
  expect(lines[0]).toMatchObject({ topic: 'chat', from: id, pid: 0 })
  const seqs = lines.map((l) => (l as { seq: number }).seq)
  expect(seqs[1]! - seqs[0]!).toBe(1)
})

test('ww spawn, ps and kill: a process started through the host is listed, then killed', async () => {
  const spin = join(h.home, 'spin.wasm')
  const started = JSON.parse((await ww(['spawn', spin, '--name', 'spinner', '--json'], env)).stdout)
  expect(started).toEqual({ pid: expect.any(Number), host: id, name: 'spinner' })
  // The runtime's counters arrive in Debug.ps's rows once it has run a slice (waited for: a
  // spinner that never runs hangs the test).
  let row: PsJson | undefined
  do {
    row = (JSON.parse((await ww(['ps', '--json'], env)).stdout) as PsJson[]).find((p) => p.pid === started.pid)
  } while (row !== undefined && !(row.fuel > 0))
  expect(row).toMatchObject({ host: id, parent: '0', name: 'spinner', state: 'running', memoryBytes: 65536, denials: {} })
  expect(row!.fuel).toBeGreaterThan(0)
  expect(row!.cpuMs).toBeGreaterThan(0)
  expect(row!.worker).toBeUndefined()
  const listed = await ww(['ps'], env)
  expect(listed.stdout).toMatch(/^PID\s+PARENT\s+NAME\s+STATE\s+AGE\s+CPU\s+MEM$/m)
  expect(listed.stdout).toMatch(new RegExp(`^\\s*${started.pid}\\s+0\\s+spinner\\s+running\\s+\\S+\\s+[\\d.]+ms\\s+64KiB$`, 'm'))
  const killed = await ww(['kill', String(started.pid)], env)
  expect(killed).toMatchObject({ status: 0, stdout: `pid ${started.pid}: killed (requested)\n` })
  const after = JSON.parse((await ww(['ps', '--json'], env)).stdout) as Array<{ pid: number }>
  expect(after.map((p) => p.pid)).not.toContain(started.pid)
  const again = await ww(['kill', String(started.pid)], env)
  expect(again.status).toBe(1)
  expect(again.stderr).toMatch(new RegExp(`no process ${started.pid} on this host\\n  see the live ones with \`ww ps\``))
})

test('Debug.sysInfo keeps the scheduler\'s totals and no per-process counters (those are in Debug.ps)', async () => {
  const spin = join(h.home, 'spin.wasm')
  const { pid } = JSON.parse((await ww(['spawn', spin, '--name', 'counted', '--json'], env)).stdout) as { pid: number }
  try {
    await using s = await connectHost(undefined, env)
    const debug = s.host.debug().getDebug()
    let fuel = 0n // waited for: a spinner that never runs hangs the test
    while (fuel === 0n) {
      await new Promise((r) => setTimeout(r, 20))
      fuel = (await debug.ps()).getProcesses().toArray().find((p) => Number(p.getSelf().getPid()) === pid)?.getFuel() ?? 0n
    }
    expect(fuel).toBeGreaterThan(0n)
    const names = (await debug.sysInfo()).getInfo().getCounters().toArray().map((c) => c.getName())
    expect(names).toEqual(expect.arrayContaining(['sched.processes', 'sched.fuel', 'sched.memoryBytes', 'sched.workers', 'exec.live']))
    expect(names.filter((n) => n.startsWith('proc.'))).toEqual([])
    expect((await debug.counters((q) => q.setPrefix('proc.'))).getCounters().getLength()).toBe(0)
  } finally {
    expect((await ww(['kill', String(pid)], env)).status).toBe(0)
  }
})

test('a real guest spawned on the host uses its Host; its output reaches the host tagged with its pid', async () => {
  // The word-count guest with no job set up: it asks its Host who it is, lists the
  // cluster, looks for wc/job under its host, says it found none and exits 5.
  const r = await ww(['spawn', guestPath('wasi-demo-wordcount', { asyncify: false }), '--wait', '--json'], env)
  expect(JSON.parse(r.stdout)).toMatchObject({ host: id, name: 'wasi-demo-wordcount', status: { kind: 'exited', code: 5 } })
  expect(r.status).toBe(5)
  const { pid } = JSON.parse(r.stdout) as { pid: number }
  const line = await h.next((e) => e.event === 'output' && e.pid === pid, 'the guest\'s output')
  expect(line).toEqual({ event: 'output', pid, fd: 1, text: 'no job found in wc/job' })
})

test('ww spawn --wait exits with the process status; a missing or non-wasm file is explained', async () => {
  const r = await ww(['spawn', join(h.home, 'exit3.wasm'), '--wait', '--json'], env)
  expect(r.status).toBe(3)
  expect(JSON.parse(r.stdout)).toMatchObject({ host: id, name: 'exit3', status: { kind: 'exited', code: 3 }, reason: 'exited 3' })
  const missing = await ww(['spawn', join(h.home, 'nope.wasm')], env)
  expect(missing.status).toBe(1)
  expect(missing.stderr).toMatch(/no such file: .*nope\.wasm/)
  const notWasm = await ww(['spawn', join(h.home, 'host.json')], env)
  expect(notWasm.status).toBe(1)
  expect(notWasm.stderr).toMatch(/not a WebAssembly module: .*host\.json/)
})

describe('without a host', () => {
  let empty: string
  beforeAll(() => { empty = mkdtempSync(join(tmpdir(), 'ww-empty-')) })
  afterAll(() => rmSync(empty, { recursive: true, force: true }))

  test('a client says to start one with `ww host`', async () => {
    const r = await ww(['cluster', 'ls'], { WW_HOME: empty })
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/no host is running/)
    expect(r.stderr).toMatch(/start one with `ww host`/)
  })

  test('a stale state file (its host died) is recognised as such', async () => {
    // A pid that is certainly not running: a child that has already exited.
    const dead = spawn(process.execPath, ['-e', '0'])
    await new Promise((r) => dead.once('exit', r))
    writeFileSync(join(empty, 'host.json'), JSON.stringify({ id: 'x', pid: dead.pid, rpc: 'unix:/nonexistent.sock', cluster: 'embedded', addresses: [], startedAt: '' }))
    const r = await ww(['pub', 'chat', 'x'], { WW_HOME: empty })
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/has exited/)
  })

  test('--host naming an endpoint where nothing listens says so', async () => {
    const r = await ww(['cluster', 'ls', '--host', '127.0.0.1:1'], { WW_HOME: empty })
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/cannot reach a host at 127\.0\.0\.1:1 \(from --host\): ECONNREFUSED/)
  })
})

test('SIGTERM stops the host cleanly: exit 0, "stopped", state file and socket removed', async () => {
  const other = startHost(['--rpc', '127.0.0.1:0'])
  const ready = await other.ready()
  expect(String(ready.rpc)).toMatch(/^127\.0\.0\.1:\d+$/)
  // A client reaches it over TCP through WW_HOST.
  expect((await ww(['cluster', 'ls', '--json'], { WW_HOME: h.home, WW_HOST: String(ready.rpc) })).stdout).toContain(String(ready.id))
  expect(await other.stop()).toBe(0)
  expect(other.events.at(-1)).toEqual({ event: 'stopped', id: ready.id })
  expect(existsSync(join(other.home, 'host.json'))).toBe(false)
  removeHome(other)
})
