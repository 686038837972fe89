#!/usr/bin/env node
// Regenerates the README's generated tables (from dist/: build first): the default policy
// (describeMarkdown of DEFAULT_POLICY) and each function's answer to a closed fd
// (closedFdMarkdown, measured by calling the imports). `--check` exits 1 when the README is stale.
import { readFileSync, writeFileSync } from 'node:fs'
import { describeMarkdown, DEFAULT_POLICY } from '../dist/index.js'
import { closedFdMarkdown } from '../dist/closed-fd.js'

const README = new URL('../README.md', import.meta.url)

function replace(text, name, table) {
  const begin = `<!-- ${name}:begin -->`, end = `<!-- ${name}:end -->`
  const a = text.indexOf(begin), b = text.indexOf(end)
  if (a < 0 || b < a) throw new Error(`README.md lacks the ${begin} … ${end} markers`)
  return `${text.slice(0, a + begin.length)}\n${table}${text.slice(b)}`
}

const text = readFileSync(README, 'utf8')
const next = replace(replace(text, 'default-table', describeMarkdown(DEFAULT_POLICY)), 'closed-fd-table', closedFdMarkdown())
if (process.argv.includes('--check')) {
  if (next !== text) { console.error('README.md generated tables are stale: run `node scripts/readme-table.mjs`'); process.exit(1) }
} else if (next !== text) {
  writeFileSync(README, next)
  console.log('README.md tables updated')
}
