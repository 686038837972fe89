// `ww host --workers 2` as a user runs it: the real binary, its processes on two worker
// threads. What a client sees must not change (pids, output tagged with them, kill), and
// ps, the web view and the host record say where each process runs.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { guestPath } from '@ww/guest'
import { removeHome, startHost, writeGuests, ww, type HostChild } from './hosts.js'

/** A WASI guest that writes one line on stdout and returns (exit 0). */
const HELLO = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\\10\\00\\00\\00\\14\\00\\00\\00")
  (data (i32.const 16) "hello from a worker\\n")
  (func (export "_start") (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`

interface PsJson { pid: number; name: string; state: string; cpuMs: number; fuel: number; memoryBytes: number; worker?: number; status?: string }

let h: HostChild
let env: NodeJS.ProcessEnv
let id: string
let ui: string

const ps = async (): Promise<PsJson[]> => {
  const r = await ww(['ps', '--json'], env)
  expect(r.status).toBe(0)
  return JSON.parse(r.stdout) as PsJson[]
}

beforeAll(async () => {
  h = startHost(['--workers', '2', '--ui'])
  const ready = await h.ready()
  id = String(ready.id)
  ui = String(ready.ui)
  env = { WW_HOME: h.home }
  await writeGuests(h.home)
  const { default: init } = await import('wabt')
  const m = (await init()).parseWat('hello.wat', HELLO)
  writeFileSync(join(h.home, 'hello.wasm'), m.toBinary({}).buffer)
  m.destroy()
})

afterAll(async () => {
  if (h.child.exitCode === null) await h.stop()
  removeHome(h)
})

test('the host says it runs processes on 2 worker threads (ready event, host.json)', async () => {
  expect((await h.ready()).workers).toBe(2)
  expect(JSON.parse(readFileSync(join(h.home, 'host.json'), 'utf8'))).toMatchObject({ id, workers: 2 })
})

test('a WASI guest on a worker prints; its line reaches the host tagged with its pid', async () => {
  const r = await ww(['spawn', join(h.home, 'hello.wasm'), '--wait', '--json'], env)
  expect(r.status).toBe(0)
  const { pid } = JSON.parse(r.stdout) as { pid: number }
  expect(await h.next((e) => e.event === 'output' && e.pid === pid, 'the guest\'s line')).toEqual({ event: 'output', pid, fd: 1, text: 'hello from a worker' })
})

test('a guest on a worker uses its Host (served on the main thread) and its output is tagged', async () => {
  // The word-count guest with no job: it asks its Host who it is, looks for wc/job, says so, exits 5.
  const r = await ww(['spawn', guestPath('wasi-demo-wordcount', { asyncify: false }), '--wait', '--json'], env)
  expect(JSON.parse(r.stdout)).toMatchObject({ host: id, status: { kind: 'exited', code: 5 } })
  const { pid } = JSON.parse(r.stdout) as { pid: number }
  expect(await h.next((e) => e.event === 'output' && e.pid === pid, 'the guest\'s output')).toEqual({ event: 'output', pid, fd: 1, text: 'no job found in wc/job' })
})

test('two spinning guests run at once on different workers; ps shows where, CPU and fuel grow; kill ends one', async () => {
  const spin = join(h.home, 'spin.wasm')
  const a = JSON.parse((await ww(['spawn', spin, '--name', 'spin-a', '--json'], env)).stdout) as { pid: number }
  const b = JSON.parse((await ww(['spawn', spin, '--name', 'spin-b', '--json'], env)).stdout) as { pid: number }
  const rows = async (): Promise<[PsJson, PsJson]> => {
    const all = await ps()
    const ra = all.find((p) => p.pid === a.pid)
    const rb = all.find((p) => p.pid === b.pid)
    if (ra === undefined || rb === undefined) throw new Error(`ps lacks ${a.pid} or ${b.pid}: ${JSON.stringify(all)}`)
    return [ra, rb]
  }
  // Counters come from a sample of the workers' tables: wait until both have been seen running.
  let first = await rows()
  while (!(first[0].fuel > 0 && first[1].fuel > 0)) { await new Promise((r) => setTimeout(r, 100)); first = await rows() }
  expect(first.map((p) => p.state)).toEqual(['running', 'running'])
  // Least-loaded placement: the second spinner goes to the worker the first is not on.
  expect(new Set(first.map((p) => p.worker))).toEqual(new Set([0, 1]))
  // Both advance while the other spins, each on a thread of its own: sampled again until both
  // have (a fixed 800 ms wait could see no new sample on a busy machine). Two spinners sharing
  // one thread without preemption would leave one at its first figure for ever.
  let later = await rows()
  while (!(later[0].fuel > first[0].fuel && later[1].fuel > first[1].fuel)) { await new Promise((r) => setTimeout(r, 100)); later = await rows() }
  for (const i of [0, 1] as const) {
    expect(later[i].cpuMs).toBeGreaterThan(first[i].cpuMs)
    expect(later[i].worker).toBe(first[i].worker)
  }
  expect(later[0].memoryBytes).toBe(65536)

  const table = await ww(['ps'], env)
  expect(table.stdout).toMatch(/^PID\s+PARENT\s+NAME\s+STATE\s+AGE\s+WORKER\s+CPU\s+MEM$/m)
  expect(table.stdout).toMatch(new RegExp(`^\\s*${a.pid}\\s+0\\s+spin-a\\s+running\\s+\\S+\\s+${first[0].worker}\\s`, 'm'))

  // The web view's snapshot carries the same placement.
  const snap = await (await fetch(new URL('/api/snapshot', ui))).json() as { hosts: Array<{ id: string; processes: Array<{ pid: number; worker?: number }> | null }> }
  const mine = snap.hosts.find((x) => x.id === id)?.processes ?? []
  expect(mine.filter((p) => p.pid === a.pid || p.pid === b.pid).map((p) => p.worker).sort()).toEqual([0, 1])

  const killed = await ww(['kill', String(a.pid)], env)
  expect(killed).toMatchObject({ status: 0, stdout: `pid ${a.pid}: killed (requested)\n` })
  const after = await ps()
  expect(after.map((p) => p.pid)).not.toContain(a.pid)
  expect(after.find((p) => p.pid === b.pid)?.state).toBe('running')
})

test('ww host --workers rejects what is not a worker count', async () => {
  const r = await ww(['host', '--workers', 'many'], env)
  expect(r.status).toBe(2)
  expect(r.stderr).toMatch(/--workers must be a whole number from 1 to 256, or auto, not 'many'/)
})

test('SIGTERM with a guest still spinning on a worker: the pool closes, the host exits 0', async () => {
  expect((await ps()).some((p) => p.state === 'running')).toBe(true)
  // bin.ts never calls process.exit on this path: a worker thread left running would keep
  // the OS process alive, so an exit at all means every thread is gone.
  expect(await h.stop()).toBe(0)
  expect(h.events.at(-1)).toEqual({ event: 'stopped', id })
})

test('without --workers: everything on the host\'s thread, ps has the same counters and no worker', async () => {
  const plain = startHost([], h.home + '-plain')
  try {
    expect((await plain.ready()).workers).toBe(0)
    const penv = { WW_HOME: plain.home }
    const { pid } = JSON.parse((await ww(['spawn', join(h.home, 'spin.wasm'), '--json'], penv)).stdout) as { pid: number }
    let row: PsJson | undefined
    do {
      row = (JSON.parse((await ww(['ps', '--json'], penv)).stdout) as PsJson[]).find((p) => p.pid === pid)
    } while (row !== undefined && !(row.fuel > 0))
    expect(row).toMatchObject({ state: 'running', memoryBytes: 65536 })
    expect(row!.cpuMs).toBeGreaterThan(0)
    expect(row!.worker).toBeUndefined()
  } finally {
    expect(await plain.stop()).toBe(0)
    removeHome(plain)
  }
})
