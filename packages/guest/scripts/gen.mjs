#!/usr/bin/env node
// The SDK's clients and server bases for schemas/*.capnp: `ww-capnpc --as-rpc` output,
// from the compile request @ww/schema keeps beside the schemas (no `capnp` binary needed),
// to assembly/gen/<schema>.ts. Run by `pnpm build` before the guests are compiled.
//   --check   write nothing; exit 1 listing stale or orphaned files
import { readFileSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findStale, generate, writeFiles } from '@ww/capnpc'

export const REQUEST_PATH = fileURLToPath(new URL('../../../schemas/schemas.capnp-request.bin', import.meta.url))
export const GEN_DIR = fileURLToPath(new URL('../assembly/gen', import.meta.url))

/** The generated modules: file name → source. They import the SDK runtime, not its index. */
export function generateStubs() {
  const all = generate(readFileSync(REQUEST_PATH), { typescript: false, assemblyscript: true, asRpc: true, asSdk: '../runtime' })
  return new Map([...all].map(([path, src]) => [path.replace(/^assembly\//, ''), src]))
}

/** Files in GEN_DIR that are missing, differ, or that no schema generates. */
export function staleStubs(files = generateStubs()) {
  let present = []
  try { present = readdirSync(GEN_DIR).filter((f) => f.endsWith('.ts')) } catch {}
  return [
    ...findStale(files, GEN_DIR).map((s) => `${s.path} (${s.reason})`),
    ...present.filter((f) => !files.has(f)).map((f) => `${f} (no schema generates it)`),
  ]
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check')
  const quiet = process.argv.includes('--quiet')
  const files = generateStubs()
  const stale = staleStubs(files)
  if (check) {
    for (const s of stale) console.log(`stale: assembly/gen/${s}`)
    if (stale.length > 0) {
      console.log('run: node scripts/gen.mjs (in packages/guest)')
      process.exitCode = 1
    } else if (!quiet) console.log('gen --check: up to date')
  } else {
    let present = []
    try { present = readdirSync(GEN_DIR).filter((f) => f.endsWith('.ts')) } catch {}
    for (const f of present.filter((f) => !files.has(f))) { rmSync(join(GEN_DIR, f)); console.log(`removed assembly/gen/${f}`) }
    const changed = new Map([...files].filter(([p]) => stale.some((s) => s.startsWith(p + ' '))))
    for (const p of writeFiles(changed, GEN_DIR)) if (!quiet) console.log(`wrote ${p}`)
  }
}
