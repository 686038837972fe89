#!/usr/bin/env node
// ww-api-report [--update] [package-dir…]: checks (or, with --update, rewrites) the
// committed API reports of the given packages, by default every published one.
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { apiReport, publishedPackages } from './index.js'

const args = process.argv.slice(2)
const update = args.includes('--update')
const root = fileURLToPath(new URL('../../..', import.meta.url))
const dirs = args.filter((a) => !a.startsWith('--'))
let failed = 0
for (const dir of dirs.length ? dirs.map((d) => resolve(d)) : publishedPackages(root)) {
  const r = apiReport(dir, { update })
  for (const e of r.errors) console.error(`${r.packageName}: ${e}`)
  if (r.errors.length) failed++
  if (r.changed) {
    if (update) console.log(`${r.packageName}: report updated (${r.reportPath})`)
    else { console.error(`${r.packageName}: the public surface differs from ${r.reportPath}; run \`ww-api-report --update\` and commit it`); failed++ }
  } else console.log(`${r.packageName}: unchanged`)
}
process.exit(failed ? 1 : 0)
