// The on-disk cache of instrumented modules: a later process starting the same bytes
// skips the pass; racing writers leave one whole entry; a truncated or corrupt entry is
// detected by its hash and rebuilt.
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ModuleStore } from '../src/compile/module-store.js'
import { meterModule } from '../src/index.js'
import { wat } from '../src/bench/guests.js'

const MODULE = `(module (memory (export "memory") 1) (func (export "_start") (loop $l (br_if $l (i32.const 0)))))`
let dir: string
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'ww-store-')) })
afterEach(() => rmSync(dir, { recursive: true, force: true }))

test('an entry written by one store is read back whole by another', async () => {
  const entry = await meterModule(await wat(MODULE))
  await new ModuleStore(dir, 'v1').put('id', 'variant', entry)
  const other = new ModuleStore(dir, 'v1')
  const got = await other.get('id', 'variant')
  expect(Buffer.from(got!.bytes).equals(Buffer.from(entry.bytes))).toBe(true)
  expect(got!.info).toEqual(entry.info)
  expect(await other.get('id', 'another variant')).toBeUndefined()
  expect(await new ModuleStore(dir, 'v2').get('id', 'variant')).toBeUndefined() // another instrumentation version
  expect(other.stats()).toMatchObject({ hits: 1, misses: 1, corrupt: 0 })
})

test('racing writers of the same entry leave one valid file and no temp files', async () => {
  const entry = await meterModule(await wat(MODULE))
  const stores = Array.from({ length: 8 }, () => new ModuleStore(dir, 'v1'))
  await Promise.all(stores.map((s) => s.put('id', 'variant', entry)))
  expect(readdirSync(join(dir, 'v1'))).toEqual([expect.stringMatching(/^id-[0-9a-f]{16}\.wwm$/)])
  expect(await stores[0]!.get('id', 'variant')).toBeDefined()
})

test.each([
  ['truncated', (f: string) => truncateSync(f, readFileSync(f).byteLength - 10)],
  ['a flipped byte', (f: string) => { const b = readFileSync(f); b[b.byteLength - 1]! ^= 1; writeFileSync(f, b) }],
  ['not an entry', (f: string) => writeFileSync(f, 'hello')],
])('an entry %s is detected, dropped and reported as a miss', async (_what, damage) => {
  const entry = await meterModule(await wat(MODULE))
  const store = new ModuleStore(dir, 'v1')
  await store.put('id', 'variant', entry)
  const file = store.path('id', 'variant')
  damage(file)
  expect(await store.get('id', 'variant')).toBeUndefined()
  expect(store.stats()).toMatchObject({ corrupt: 1, hits: 0 })
  expect(readdirSync(join(dir, 'v1'))).toEqual([])
  await store.put('id', 'variant', entry) // rebuilt
  expect(await store.get('id', 'variant')).toBeDefined()
})

// Each child process compiles the same guest with the cache in `dir` and says whether its
// store had it (the in-process cache is per process, so only the disk can answer). With
// `upgrade`, it stays until the -O2 build made behind the first start is on disk too.
const CHILD = `
  const [dist, dir, path, upgrade] = process.argv.slice(1)
  const { Scheduler, compileGuest } = await import(dist + '/index.js')
  const { moduleStore } = await import(dist + '/compile/instrument.js')
  const { readFileSync, readdirSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { PASS_VERSION } = await import(dist + '/meter/pass.js')
  const s = new Scheduler({ moduleCache: dir, suspension: 'asyncify' })
  const mod = await compileGuest(s, new Uint8Array(readFileSync(path)))
  await s.close()
  const st = moduleStore(dir).stats()
  if (upgrade === '1') while (readdirSync(join(dir, PASS_VERSION)).filter((f) => f.endsWith('.wwm')).length < 2) await new Promise((r) => setTimeout(r, 20))
  console.log(JSON.stringify({ hits: st.hits, writeErrors: st.writeErrors, asyncified: mod.meter.asyncified, version: PASS_VERSION }))
`

test('a later process starting the same bytes finds them instrumented on disk (the quick build, then the -O2 one made behind it)', async () => {
  const dist = fileURLToPath(new URL('../dist', import.meta.url))
  const guest = join(dir, 'guest.wasm')
  writeFileSync(guest, await wat(`(module
    (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
    (memory (export "memory") 1) (func (export "_start") (drop (call $yield))))`))
  const cache = join(dir, 'cache')
  const run = async (upgrade: boolean): Promise<{ hits: number; writeErrors: number; asyncified: boolean; version: string }> => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', CHILD, dist, cache, guest, upgrade ? '1' : '0'])
    return JSON.parse(stdout) as never
  }
  const first = await run(false)
  expect(first).toMatchObject({ hits: 0, writeErrors: 0, asyncified: true })
  expect(readdirSync(join(cache, first.version)).length).toBeGreaterThanOrEqual(1) // the quick build (the upgrade may not have finished)
  expect(await run(true)).toMatchObject({ hits: 1, asyncified: true }) // the quick one; it waits for the upgrade
  expect(readdirSync(join(cache, first.version))).toHaveLength(2)
  expect(await run(false)).toMatchObject({ hits: 1, asyncified: true }) // the -O2 one
})
