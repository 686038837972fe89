// Every published package's public surface matches its committed report (api/<name>.api.md).
// A change to a surface is fine; an unreviewed one is not: `npm run api:update` rewrites the
// reports, and the diff shows in review.
import { fileURLToPath } from 'node:url'
import { apiReport, ApiReportError, publishedPackages } from '../src/index.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))

test('the published packages are found (and only those)', () => {
  const names = publishedPackages(root).map((d) => d.slice(root.length))
  expect(names).toEqual(expect.arrayContaining(['packages/transport', 'packages/host', 'packages/proc', 'apps/ww']))
  expect(names.some((n) => n.startsWith('tools/') || n.startsWith('examples/'))).toBe(false)
})

describe.each(publishedPackages(root).map((d) => [d.slice(root.length), d]))('%s', (_name, dir) => {
  test('its public surface is the committed API report', () => {
    const r = apiReport(dir, { update: false })
    expect(r.errors).toEqual([])
    if (r.changed) throw new ApiReportError(`${r.packageName}'s surface differs from ${r.reportPath}: run \`npm run api:update\`, review and commit the report`, dir)
  }, 120_000)
})
