#!/usr/bin/env node
// Runs chosen test files N times each while CPU hogs keep every core busy, and reports
// failures per file: the check that a test does not flake on a loaded machine.
// Usage: node scripts/stress.mjs [--runs N] [--hogs H] [--node24] [-t name] file…
//   file: a test file path from the repo root (packages/proc/test/many.test.ts …)
//   --runs N   runs per file (default 10)
//   --hogs H   busy-loop processes beside the tests (default: one per core)
//   --node24   run under the Node 24 of scripts/node24.mjs (JSPI) instead of this Node
//   -t name    passed to jest: only the tests whose name matches
// Exits 1 if any run failed; the output of each failed run is kept under .cache/stress/.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
let runs = 10, hogs = availableParallelism(), node24 = false, name
const files = []
for (let i = 0; i < args.length; i++) {
  const a = args[i]
  if (a === '--runs') runs = Number(args[++i])
  else if (a === '--hogs') hogs = Number(args[++i])
  else if (a === '--node24') node24 = true
  else if (a === '-t') name = args[++i]
  else files.push(resolve(a))
}
if (files.length === 0 || !(runs > 0) || !(hogs >= 0)) {
  console.error('usage: node scripts/stress.mjs [--runs N] [--hogs H] [--node24] [-t name] file…')
  process.exit(2)
}

let node = process.execPath
if (node24) {
  // The same pinned build and cache as scripts/node24.mjs.
  const VERSION = '24.21.0'
  const pkg = `node-${process.platform}-${process.arch}`
  const prefix = join(root, '.cache', `node-${VERSION}`)
  node = join(prefix, 'node_modules', pkg, 'bin', 'node')
  if (!existsSync(node)) {
    const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, `${pkg}@${VERSION}`], { stdio: 'inherit' })
    if (r.status !== 0 || !existsSync(node)) { console.error('stress: no Node 24 (see scripts/node24.mjs)'); process.exit(2) }
  }
}

// The package of a test file: the nearest parent with a jest.config.mjs.
const packageOf = (file) => {
  for (let d = dirname(file); d.startsWith(root); d = dirname(d)) if (existsSync(join(d, 'jest.config.mjs'))) return d
  throw new Error(`no jest.config.mjs above ${file}`)
}

const hogProcs = Array.from({ length: hogs }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }))
const stopHogs = () => { for (const h of hogProcs) h.kill('SIGKILL') }
process.on('exit', stopHogs)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stopHogs(); process.exit(130) })

const run = (file) => new Promise((done) => {
  const cwd = packageOf(file)
  const jestArgs = ['--experimental-vm-modules', '--no-warnings', join(root, 'node_modules/jest/bin/jest.js'), '--ci', relative(cwd, file)]
  if (name) jestArgs.push('-t', name)
  const child = spawn(node, jestArgs, { cwd, env: { ...process.env, FORCE_COLOR: '0' } })
  let out = ''
  child.stdout.on('data', (d) => { out += d })
  child.stderr.on('data', (d) => { out += d })
  child.on('close', (code) => done({ code, out }))
})

const outDir = join(root, '.cache', 'stress')
mkdirSync(outDir, { recursive: true })
console.log(`stress: ${runs} run(s) of ${files.length} file(s) on Node ${node24 ? '24' : process.versions.node} beside ${hogs} CPU hog(s)`)
const failures = new Map(files.map((f) => [f, 0]))
for (let i = 1; i <= runs; i++) {
  for (const file of files) {
    const { code, out } = await run(file)
    const rel = relative(root, file)
    if (code !== 0) {
      failures.set(file, failures.get(file) + 1)
      const log = join(outDir, `${rel.replaceAll('/', '_')}.${i}.log`)
      writeFileSync(log, out)
      const failed = [...out.matchAll(/^\s+● (.+)$/gm)].map((m) => m[1]).filter((t) => !t.startsWith('Console'))
      console.log(`  run ${i} ${rel}: FAILED (${[...new Set(failed)].join('; ') || `exit ${code}`}) → ${relative(root, log)}`)
    } else console.log(`  run ${i} ${rel}: ok`)
  }
}
stopHogs()
console.log('\nfailures per file')
for (const [file, n] of failures) console.log(`  ${n}/${runs}  ${relative(root, file)}`)
process.exit([...failures.values()].some((n) => n > 0) ? 1 : 0)
