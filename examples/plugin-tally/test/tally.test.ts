// The tally plugin, one module loaded the same way (loadPlugin) on the in-thread
// scheduler and on a worker pool: its imports, its policy, its limit (a status of its
// own), its counters in ps, and its log written when each process ends — in the thread
// that ran the process. (Runs the built dist/: build first.)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadPlugin, type ProcessPlugin } from '@ww/interface'
import { compileGuest, Scheduler, spawnGuest, spawnPoolGuest, WorkerPool } from '@ww/proc'
// The built module (what a user installs and what workers load), so errors are its classes.
import { TallyError, tallySpec, type TallyOptions, type TallyRecord } from '../dist/index.js'
import { ADDS_TWELVE, wasm } from './guests.js'

let dir: string
let pool: WorkerPool
let sched: Scheduler
let bytes: Uint8Array

const logOf = (file: string): TallyRecord[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TallyRecord)

const spec = (options: TallyOptions) => tallySpec(options)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ww-tally-'))
  pool = await WorkerPool.start({ workers: 2 })
  sched = new Scheduler()
  bytes = await wasm(ADDS_TWELVE)
})

afterAll(async () => {
  await pool.close()
  await sched.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Spawns the guest with `plugin` in-thread or on the pool; resolves with how it ended. */
async function run(where: 'in-thread' | 'pool', plugin: ProcessPlugin, limits: { memoryPages?: number } = {}) {
  if (where === 'in-thread') {
    const mod = await compileGuest(sched, bytes, { plugins: [plugin] })
    return spawnGuest(sched, mod, { plugins: [plugin], ...limits }).wait()
  }
  const mod = await compileGuest(pool, bytes, { plugins: [plugin] })
  return (await spawnPoolGuest(pool, mod, { plugins: [plugin], ...limits })).wait()
}

describe.each(['in-thread', 'pool'] as const)('%s', (where) => {
  test('the guest calls the imports; the total it reads back is its exit code, and the log holds it once it ended', async () => {
    const log = join(dir, `${where}-ok.jsonl`)
    const plugin = await loadPlugin(spec({ log }))
    expect(await run(where, plugin)).toEqual({ kind: 'exited', code: 12 })
    expect(logOf(log)).toEqual([expect.objectContaining({ total: 12, calls: 2, status: 'exited(12)' })])
  })

  test('its policy refuses a spawn asking for more memory than it allows, with its own error, before anything runs', async () => {
    const log = join(dir, `${where}-refused.jsonl`)
    const plugin = await loadPlugin(spec({ maxMemoryPages: 4, log }))
    await expect(run(where, plugin, { memoryPages: 8 })).rejects.toThrow(TallyError)
    await expect(run(where, plugin, { memoryPages: 8 })).rejects.toMatchObject({ code: 'ERR_TALLY_REFUSED' })
    // Within the limit it runs.
    expect(await run(where, plugin, { memoryPages: 4 })).toEqual({ kind: 'exited', code: 12 })
    expect(logOf(log)).toHaveLength(1)
  })

  test('an add past the limit ends the process with the plugin\'s own status, and the log says so', async () => {
    const log = join(dir, `${where}-limit.jsonl`)
    const plugin = await loadPlugin(spec({ limit: 10, log }))
    expect(await run(where, plugin)).toMatchObject({ kind: 'trapped', code: 'ERR_TALLY_LIMIT' })
    expect(logOf(log)).toEqual([expect.objectContaining({ total: 5, calls: 2 })])
  })
})

test('ps shows the plugin\'s counters (in-thread and on the pool)', async () => {
  // A guest that waits in recv after adding, so its row can be read while it lives.
  const waits = await wasm(`(module
    (import "tally" "add" (func $add (param i32) (result i32)))
    (import "ww_proc" "recv" (func $recv (param i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "_start") (drop (call $add (i32.const 3))) (drop (call $recv (i32.const 0) (i32.const 16)))))`)
  const plugin = await loadPlugin(spec({}))
  const local = spawnGuest(sched, await compileGuest(sched, waits, { plugins: [plugin] }), { plugins: [plugin] })
  const remote = await spawnPoolGuest(pool, await compileGuest(pool, waits, { plugins: [plugin] }), { plugins: [plugin] })
  const counters = { 'tally.total': 3, 'tally.calls': 1 }
  // Waiting for the state (its add done, it blocked in recv), never for a time.
  for (;;) { if (local.info().extension?.['tally.calls'] === 1) break; await new Promise((r) => setImmediate(r)) }
  expect(local.info().extension).toEqual(counters)
  for (;;) { if ((await remote.info())?.extension?.['tally.calls'] === 1) break }
  expect((await remote.info())?.extension).toEqual(counters)
  await local.kill()
  await remote.kill()
})

test('options it cannot use fail the load with ERR_PLUGIN_LOAD, the TallyError as its cause', async () => {
  const e = await loadPlugin(spec({ limit: -1 })).catch((x: unknown) => x)
  expect(e).toMatchObject({ name: 'PluginError', code: 'ERR_PLUGIN_LOAD' })
  expect((e as Error).cause).toBeInstanceOf(TallyError)
})
