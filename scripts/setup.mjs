#!/usr/bin/env node
// Everything a fresh clone needs before the demo or the tests: dependencies from the
// lockfile, then every package built (generated code checked, guests compiled).
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const pnpm = fileURLToPath(new URL('pnpm.mjs', import.meta.url))

function run(args) {
  const result = spawnSync(process.execPath, [pnpm, ...args], { stdio: 'inherit', cwd: root })
  if (result.status !== 0) {
    console.error(`setup: \`pnpm ${args.join(' ')}\` failed (exit ${result.status})`)
    process.exit(result.status ?? 1)
  }
}

const [major] = process.versions.node.split('.').map(Number)
if (major < 20) {
  console.error(`ww needs Node.js >= 20; this is ${process.version}`)
  process.exit(1)
}
run(['install', '--frozen-lockfile', '--reporter=append-only'])
run(['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'])
