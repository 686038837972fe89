import { embeddedCluster, hostCapability, ProcessTree, type StartSpec } from '@ww/host'
import { guestBytes } from '@ww/guest'
import { MemorySink } from '@ww/wasi-restricted'
import { poolRuntime, procRuntime, Scheduler, WorkerPool } from '../src/index.js'
import * as G from '../src/bench/guests.js'
import * as W from './wasi-guests.js'

test("@ww/host's ProcessTree runs processes on the scheduler: statuses, limits, cascading kill", async () => {
  await using s = new Scheduler()
  const specs: StartSpec[] = []
  const runtime = procRuntime(s, { guest: (spec) => { specs.push(spec); return { memoryPages: 4, onMemoryLimit: 'kill' } } })
  const tree = new ProcessTree({ runtime })
  const exec = tree.executor()
  const trap = await exec.spawn({ bytecode: await G.wat(G.TRAP) })
  const bomb = await exec.spawn({ bytecode: await G.wat(G.MEMBOMB) })
  expect(await trap.wait()).toMatchObject({ kind: 'trapped', code: 'ERR_GUEST_TRAP' })
  expect(await bomb.wait()).toMatchObject({ kind: 'limit', which: 'memory' })

  const spin = await G.wat(G.SPIN)
  const parent = await exec.spawn({ bytecode: spin })
  // The child is spawned through the parent's own executor (its identity, not a claimed ppid).
  const child = await specs.find((sp) => sp.pid === parent.pid)!.executor.spawn({ bytecode: spin })
  expect(child.parent).toBe(parent.pid)
  expect(s.ps().map((r) => r.name).sort()).toEqual([`host-pid-${child.pid}`, `host-pid-${parent.pid}`].sort())
  await parent.kill()
  expect(await parent.wait()).toMatchObject({ kind: 'killed' })
  expect(await child.wait()).toMatchObject({ kind: 'killed' })
  expect(s.size).toBe(0)
  await tree.close()
})

test('processes the tree spawns are composed: restricted WASI, their own Host, an executor bound to them', async () => {
  await using s = new Scheduler()
  await using cluster = embeddedCluster()
  const specs = new Map<number, StartSpec>()
  const hosts: number[] = []
  const stdout = new MemorySink()
  const runtime = procRuntime(s, {
    guest: (spec) => {
      specs.set(spec.pid, spec)
      return {
        stdout,
        // The embedder builds each process's Host, bound to the tree's pid for it.
        host: () => { hosts.push(spec.pid); return hostCapability(cluster, { processId: spec.pid, rights: { view: true, pubSub: true, root: true } }) },
      }
    },
  })
  const tree = new ProcessTree({ runtime })
  const exec = tree.executor()
  const wasi = await exec.spawn({ bytecode: await G.wat(W.WASI_EXIT3) })
  expect(await wasi.wait()).toEqual({ kind: 'exited', code: 3 }) // proc_exit through its WASI
  // The runtime's own view of a process: our process-table row, for the host's listings.
  const direct = await runtime.start({ ...specs.get(wasi.pid)!, pid: 1000 })
  expect(await direct.exited).toEqual({ kind: 'exited', code: 3 })
  expect(direct.info()).toMatchObject({ name: 'host-pid-1000', denials: { path_open: 1 }, status: { kind: 'exited', code: 3 } })
  const hello = await exec.spawn({ bytecode: await guestBytes('wasi-hello-host', { asyncify: false }) })
  expect(await hello.wait()).toEqual({ kind: 'exited', code: 0 })
  expect(hosts).toEqual([hello.pid]) // only a module that imports `ww` gets a Host
  expect(Buffer.concat(stdout.records.map((r) => r.bytes)).toString()).toContain('hi\nhello from a guest on host')

  // A child spawned through the executor bound to the parent runs under it in the scheduler too.
  const sleeper = await G.wat(W.WASI_SLEEPER)
  const parent = await exec.spawn({ bytecode: sleeper })
  const child = await specs.get(parent.pid)!.executor.spawn({ bytecode: sleeper })
  expect(child.parent).toBe(parent.pid)
  const rows = s.ps()
  const prow = rows.find((r) => r.name === `host-pid-${parent.pid}`)!
  expect(rows.find((r) => r.name === `host-pid-${child.pid}`)).toMatchObject({ parent: prow.pid })
  await parent.kill()
  expect(await child.wait()).toMatchObject({ kind: 'killed' })
  expect(s.size).toBe(0)
  await tree.close()
})

test("@ww/host's ProcessTree on a worker pool: composed guests on workers, a child on its parent's worker, cascading kill", async () => {
  await using pool = await WorkerPool.start({ workers: 2 })
  await using cluster = embeddedCluster()
  const specs = new Map<number, StartSpec>()
  const stdout = new MemorySink()
  const runtime = poolRuntime(pool, {
    guest: (spec) => {
      specs.set(spec.pid, spec)
      return { stdout, host: () => hostCapability(cluster, { processId: spec.pid, rights: { view: true, pubSub: true, root: true } }) }
    },
  })
  const tree = new ProcessTree({ runtime })
  const exec = tree.executor()
  const wasi = await exec.spawn({ bytecode: await G.wat(W.WASI_EXIT3) })
  expect(await wasi.wait()).toEqual({ kind: 'exited', code: 3 })
  const hello = await exec.spawn({ bytecode: await guestBytes('wasi-hello-host', { asyncify: false }) })
  expect(await hello.wait()).toEqual({ kind: 'exited', code: 0 })
  expect(Buffer.concat(stdout.records.map((r) => r.bytes)).toString()).toContain('read it back: "hello, anchors"')

  const sleeper = await G.wat(W.WASI_SLEEPER)
  const parent = await exec.spawn({ bytecode: sleeper })
  const child = await specs.get(parent.pid)!.executor.spawn({ bytecode: sleeper })
  const rows = await pool.ps()
  const prow = rows.find((r) => r.name === `host-pid-${parent.pid}`)!
  expect(rows.find((r) => r.name === `host-pid-${child.pid}`)).toMatchObject({ parent: prow.pid, worker: prow.worker })
  await parent.kill()
  expect(await child.wait()).toMatchObject({ kind: 'killed' })
  expect(await pool.ps()).toEqual([])
  await tree.close()
})
