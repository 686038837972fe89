#!/usr/bin/env node
// Regenerates the README's default-policy table from the policy itself (describeMarkdown
// of DEFAULT_POLICY, from dist/: build first). `--check` exits 1 when the README is stale.
import { readFileSync, writeFileSync } from 'node:fs'
import { describeMarkdown, DEFAULT_POLICY } from '../dist/index.js'

const README = new URL('../README.md', import.meta.url)
const BEGIN = '<!-- default-table:begin -->'
const END = '<!-- default-table:end -->'

const text = readFileSync(README, 'utf8')
const a = text.indexOf(BEGIN), b = text.indexOf(END)
if (a < 0 || b < a) throw new Error(`README.md lacks the ${BEGIN} … ${END} markers`)
const next = `${text.slice(0, a + BEGIN.length)}\n${describeMarkdown(DEFAULT_POLICY)}${text.slice(b)}`
if (process.argv.includes('--check')) {
  if (next !== text) { console.error('README.md default table is stale: run `node scripts/readme-table.mjs`'); process.exit(1) }
} else if (next !== text) {
  writeFileSync(README, next)
  console.log('README.md default table updated')
}
