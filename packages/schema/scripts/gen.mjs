// pnpm gen: (1) where `capnp` is installed, recompile schemas/*.capnp into the saved
// request; (2) regenerate src/gen/*.ts from the saved request. (Guests' AssemblyScript
// bindings are @ww/guest's: assembly/gen/, generated from the same request.)
//   --no-compile   skip (1) even where capnp is installed
//   --check        write nothing; exit 1 listing stale files (request or generated)

import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { findStale, generate, writeFiles } from '@ww/capnpc'
import { REQUEST_PATH, TS_OUT, compileRequest, findCapnp } from './schemas.mjs'

const args = new Set(process.argv.slice(2))
const check = args.has('--check')
let stale = []

const capnp = args.has('--no-compile') ? null : findCapnp()
if (capnp === null) {
  console.log('gen: not compiling schemas (capnp not installed or --no-compile); using the saved request')
} else {
  const fresh = compileRequest(capnp)
  let saved = null
  try { saved = readFileSync(REQUEST_PATH) } catch {}
  if (saved === null || !fresh.equals(saved)) {
    if (check) stale.push(`${REQUEST_PATH} (differs from compiling schemas/*.capnp)`)
    else { writeFileSync(REQUEST_PATH, fresh); console.log(`wrote ${REQUEST_PATH}`) }
  }
}

const request = readFileSync(REQUEST_PATH)
const ts = generate(request, { indexModule: true })

for (const [files, dir] of [[ts, TS_OUT]]) {
  // Generated files whose schema is gone are stale too.
  let present = []
  try { present = readdirSync(dir).filter((f) => f.endsWith('.ts')) } catch {}
  const orphans = present.filter((f) => !files.has(f))
  if (check) {
    stale.push(...findStale(files, dir).map((s) => `${join(dir, s.path)} (${s.reason})`))
    stale.push(...orphans.map((f) => `${join(dir, f)} (no schema generates it)`))
  } else {
    for (const f of orphans) { rmSync(join(dir, f)); console.log(`removed ${join(dir, f)}`) }
    for (const p of writeFiles(files, dir)) console.log(`wrote ${p}`)
  }
}

if (check) {
  for (const s of stale) console.log(`stale: ${s}`)
  if (stale.length > 0) {
    console.log('run: node scripts/pnpm.mjs --filter @ww/schema gen')
    process.exitCode = 1
  } else console.log('gen --check: up to date')
}
