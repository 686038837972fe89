// The committed bindings must be exactly what @ww/capnpc makes of the committed request,
// and (where capnp is installed) the request exactly what capnp makes of the schemas.
// Fix either failure with `node scripts/pnpm.mjs --filter @ww/schema gen`.

import { readFileSync, readdirSync } from 'node:fs'
import { findStale, generate } from '@ww/capnpc'
import { REQUEST_PATH, TS_OUT, compileRequest, findCapnp, schemaFiles } from '../scripts/schemas.mjs'

const FIX = 'run `node scripts/pnpm.mjs --filter @ww/schema gen` and commit the result'

describe('generated bindings are fresh', () => {
  const ts = generate(readFileSync(REQUEST_PATH), { indexModule: true })

  test('src/gen matches the saved request', () => {
    const stale = findStale(ts, TS_OUT).map((s) => `${s.path} (${s.reason})`)
    const orphans = readdirSync(TS_OUT).filter((f) => f.endsWith('.ts') && !ts.has(f)).map((f) => `${f} (no schema generates it)`)
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
