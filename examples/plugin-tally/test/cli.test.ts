// The tally plugin through the real `ww` command, as PLUGINS.md and the README show it:
// `ww run --plugin` (in-thread), `ww host --workers 2 --plugin` (a worker loads it from the
// same file), and what a module that is no plugin does to each (exit 2, nothing started).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
// The CLI's test kit (the real binary, apps/ww/dist/bin.js, built by the setup).
import { jsonOf, removeHome, startHost, ww, type HostChild } from '@ww/cli/testing'
import type { TallyRecord } from '../dist/index.js'
import { ADDS_TWELVE, wasm } from './guests.js'

const pluginFile = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const logOf = (file: string): TallyRecord[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TallyRecord)

let h: HostChild
let env: NodeJS.ProcessEnv
let guest: string
let hostLog: string

beforeAll(async () => {
  const home = mkdtempSync(join(tmpdir(), 'ww-tally-'))
  hostLog = join(home, 'tally.jsonl')
  h = startHost(['--workers', '2', '--plugin', `${pluginFile}#tally=${JSON.stringify({ log: hostLog })}`], home)
  env = { WW_HOME: home }
  guest = join(home, 'adds-twelve.wasm')
  writeFileSync(guest, await wasm(ADDS_TWELVE))
})

afterAll(async () => {
  if (h.child.exitCode === null) await h.stop()
  removeHome(h)
})

test('ww run --plugin: the guest gets the imports, exits with its total; the log has its line', async () => {
  const log = join(h.home, 'run.jsonl')
  const r = await ww(['run', guest, '--plugin', `${pluginFile}#tally=${JSON.stringify({ log })}`], env)
  expect(r).toMatchObject({ status: 12 })
  expect(logOf(log)).toEqual([expect.objectContaining({ total: 12, calls: 2, status: 'exited(12)' })])
})

test('ww run --plugin: the plugin\'s policy refuses the spawn (exit 126, its code named)', async () => {
  const r = await ww(['run', guest, '--memory', '1MiB', '--plugin', `${pluginFile}#tally={"maxMemoryPages":4}`], env)
  expect(r.status).toBe(126)
  expect(r.stderr).toContain('ERR_TALLY_REFUSED')
})

test('ww run: a module that cannot be loaded, or exports no plugin, is exit 2 with its PluginError code', async () => {
  const missing = await ww(['run', guest, '--plugin', './no-such-plugin.js'], env)
  expect(missing.status).toBe(2)
  expect(missing.stderr).toContain('ERR_PLUGIN_LOAD')
  const wrong = await ww(['run', guest, '--plugin', `${pluginFile}#TALLY_MODULE`], env)
  expect(wrong.status).toBe(2)
  expect(wrong.stderr).toContain('ERR_PLUGIN_SHAPE')
})

test('ww host --workers 2 --plugin: a process on a worker gets the same plugin, loaded there from the same file', async () => {
  expect((await h.ready()).workers).toBe(2)
  const r = await ww(['spawn', guest, '--wait', '--json'], env)
  expect(jsonOf<{ status: unknown }>(r).status).toEqual({ kind: 'exited', code: 12 })
  // Written by the worker thread as the process ended, before the host reported the exit.
  expect(logOf(hostLog)).toEqual([expect.objectContaining({ total: 12, calls: 2, status: 'exited(12)' })])
})

test('ww host with a plugin that cannot be loaded does not start (exit 2, ERR_PLUGIN_LOAD)', async () => {
  const bad = startHost(['--workers', '2', '--plugin', './no-such-plugin.js'])
  try {
    expect(await bad.exited).toBe(2)
    expect(bad.stderr).toContain('ERR_PLUGIN_LOAD')
    expect(bad.events.some((e) => e.event === 'ready')).toBe(false)
  } finally {
    removeHome(bad)
  }
})
