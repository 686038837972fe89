#!/usr/bin/env node
// The README's test command: set up (install, build, generate, compile guests), typecheck
// and test every package on this Node, run the suites again on Node 24 (JSPI), then print
// one closing line with the totals.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const results = fileURLToPath(new URL('../.cache/test-results/', import.meta.url))
const step = (file, args) => spawnSync(process.execPath, [fileURLToPath(new URL(file, import.meta.url)), ...args], { stdio: 'inherit', cwd: root }).status

rmSync(results, { recursive: true, force: true })
// One instrumented-module cache for every `ww` the suites start (each test host has a
// $WW_HOME of its own): a guest is metered and asyncified once per run, not once per host.
// Tests of the cache itself give theirs explicitly. Emptied per run, so each run starts cold
// (a WW_CACHE of the user's own is used as it is, never emptied).
if (!process.env.WW_CACHE) {
  process.env.WW_CACHE = join(root, '.cache', 'ww-test-cache')
  rmSync(process.env.WW_CACHE, { recursive: true, force: true })
}
// Programs a test compiles (a C++ interop client) are kept here for the run, so the Node 24
// pass does not compile them again; emptied per run like the cache above.
process.env.WW_TEST_BUILDS = join(root, '.cache', 'test-builds')
rmSync(process.env.WW_TEST_BUILDS, { recursive: true, force: true })
let status = step('setup.mjs', [])
if (status === 0) status = step('pnpm.mjs', ['exec', 'turbo', 'run', 'typecheck', 'test', '--output-logs=new-only', '--concurrency=2', '--continue'])
const node24 = process.env.WW_SKIP_NODE24 ? 0 : step('node24.mjs', [])

let passed = 0, failed = 0, skipped = 0
const slow = []
if (existsSync(results)) {
  for (const f of readdirSync(results)) {
    const r = JSON.parse(readFileSync(results + f, 'utf8'))
    passed += r.passed
    failed += r.failed
    skipped += r.skipped
    for (const s of r.slowest ?? []) slow.push({ ...s, where: `${f.replace(/\.json$/, '')}: ${s.file}` })
  }
}
// The slowest test files, so a suite creeping toward CI's limit is seen before it reaches it.
slow.sort((a, b) => b.seconds - a.seconds)
if (slow.length) console.log(`\nslowest test files:\n${slow.slice(0, 8).map((s) => `  ${String(s.seconds).padStart(6)} s  ${s.where}`).join('\n')}`)
if (status !== 0 && failed === 0) failed = 1 // a build or typecheck failure counts too
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(status !== 0 || node24 !== 0 || failed > 0 ? 1 : 0)
