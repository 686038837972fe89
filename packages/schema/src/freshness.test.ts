// The committed bindings must be exactly what @ww/capnpc makes of the committed request,
// and (where capnp is installed) the request exactly what capnp makes of the schemas.
// Fix either failure with `node scripts/pnpm.mjs --filter @ww/schema gen`.

import { readFileSync, readdirSync } from 'node:fs'
import { findStale, generate } from '@ww/capnpc'
import { AS_OUT, REQUEST_PATH, TS_OUT, compileRequest, findCapnp, schemaFiles } from '../scripts/schemas.mjs'

const FIX = 'run `node scripts/pnpm.mjs --filter @ww/schema gen` and commit the result'

function split(all: Map<string, string>): { ts: Map<string, string>; as: Map<string, string> } {
  const ts = new Map<string, string>()
  const as = new Map<string, string>()
  for (const [p, s] of all) {
    if (p.startsWith('assembly/')) as.set(p.slice('assembly/'.length), s)
    else ts.set(p, s)
  }
  return { ts, as }
}

describe('generated bindings are fresh', () => {
  const { ts, as } = split(generate(readFileSync(REQUEST_PATH), { assemblyscript: true, indexModule: true }))

  test.each([['src/gen', TS_OUT, ts], ['assembly', AS_OUT, as]] as const)('%s matches the saved request', (_name, dir, files) => {
    const stale = findStale(files, dir).map((s) => `${s.path} (${s.reason})`)
    const orphans = readdirSync(dir).filter((f) => f.endsWith('.ts') && !files.has(f)).map((f) => `${f} (no schema generates it)`)
    expect({ stale: [...stale, ...orphans], fix: FIX }).toEqual({ stale: [], fix: FIX })
  })

  const capnp = findCapnp()
  if (capnp === null) console.warn('freshness.test.ts: `capnp` is not installed; not checking the saved request against schemas/*.capnp')
  const maybe = capnp === null ? test.skip : test

  maybe('the saved request is what capnp compiles from the schemas', () => {
    const fresh = compileRequest(capnp ?? 'capnp')
    const saved = readFileSync(REQUEST_PATH)
    expect({ files: schemaFiles(), upToDate: fresh.equals(saved), fix: FIX }).toEqual({ files: schemaFiles(), upToDate: true, fix: FIX })
  })
})
