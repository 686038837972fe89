// The README's default table is generated from the policy (scripts/readme-table.mjs);
// this keeps the two in sync.
import { readFileSync } from 'node:fs'
import { DEFAULT_POLICY, describeMarkdown } from '../src/index.js'

test('README default table = describeMarkdown(DEFAULT_POLICY)', () => {
  const text = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const m = /<!-- default-table:begin -->\n([\s\S]*?)<!-- default-table:end -->/.exec(text)
  expect(m).not.toBeNull()
  expect(m![1]).toBe(describeMarkdown(DEFAULT_POLICY))
})
