// The conformance set's README table = what the programs do now, under node:wasi and
// under ours (test/conformance-set.ts). WW_UPDATE_README=1 rewrites the table instead.
import { readFileSync, writeFileSync } from 'node:fs'
import { findClang } from './guests.js'
import { conformanceMarkdown, NOTES, runSet } from './conformance-set.js'

const README = new URL('../README.md', import.meta.url)
const clang = await findClang()
if (clang === null) console.warn('wasi-restricted: no clang with wasi-libc found (apt install clang-19 lld-19 wasi-libc, or set WW_CLANG/WASI_SYSROOT): the conformance set is skipped')
const withClang = clang === null ? test.skip : test

withClang('README conformance table = the programs run under node:wasi and under ww; every difference has a note', async () => {
  const rows = (await runSet())!
  const table = conformanceMarkdown(rows)
  for (const r of rows) if (r.node.exit !== r.ww.exit || r.node.stdout !== r.ww.stdout) expect(NOTES[r.program.name]).toBeDefined()
  const text = readFileSync(README, 'utf8')
  const m = /<!-- conformance-table:begin -->\n([\s\S]*?)<!-- conformance-table:end -->/.exec(text)
  expect(m).not.toBeNull()
  if (process.env.WW_UPDATE_README === '1') writeFileSync(README, text.replace(m![0], `<!-- conformance-table:begin -->\n${table}<!-- conformance-table:end -->`))
  else expect(m![1]).toBe(table)
}, 120_000)
