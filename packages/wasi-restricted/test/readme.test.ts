// The README's tables are generated (scripts/readme-table.mjs); this keeps them in sync
// with the policy and with what the imports answer.
import { readFileSync } from 'node:fs'
import { DEFAULT_POLICY, describeMarkdown } from '../src/index.js'
import { closedFdMarkdown } from '../src/closed-fd.js'

const text = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
function section(name: string): string | undefined {
  return new RegExp(`<!-- ${name}:begin -->\\n([\\s\\S]*?)<!-- ${name}:end -->`).exec(text)?.[1]
}

test('README default table = describeMarkdown(DEFAULT_POLICY)', () => {
  expect(section('default-table')).toBe(describeMarkdown(DEFAULT_POLICY))
})

test('README closed-fd table = what the imports answer (node scripts/readme-table.mjs regenerates it)', () => {
  expect(section('closed-fd-table')).toBe(closedFdMarkdown())
})
