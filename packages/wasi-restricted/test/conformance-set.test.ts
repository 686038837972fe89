// The conformance set's README tables = what the programs do now, under node:wasi and
// under ours (test/conformance-set.ts), one table per language. WW_UPDATE_README=1
// rewrites the tables instead.
import { readFileSync, writeFileSync } from 'node:fs'
import { findClang, findRustc } from './guests.js'
import { conformanceMarkdown, NOTES, runSet, type Language } from './conformance-set.js'

const README = new URL('../README.md', import.meta.url)
const MARKERS: Record<Language, string> = { c: 'conformance-table', rust: 'conformance-table-rust' }
const have: Record<Language, boolean> = { c: (await findClang()) !== null, rust: (await findRustc()) !== null }
if (!have.c) console.warn('wasi-restricted: no clang with wasi-libc found (apt install clang-19 lld-19 wasi-libc, or set WW_CLANG/WASI_SYSROOT): the C conformance set is skipped')
if (!have.rust) console.warn('wasi-restricted: no rustc with the wasm32-wasi standard library found (apt install rustc libstd-rust-dev-wasm32 lld-14, or set WW_RUSTC): the Rust conformance set is skipped')

for (const lang of ['c', 'rust'] as const) {
  ;(have[lang] ? test : test.skip)(`README ${lang} conformance table = the programs run under node:wasi and under ww; every difference has a note`, async () => {
    const rows = (await runSet(lang))!
    const table = conformanceMarkdown(lang, rows)
    for (const r of rows) if (r.node.exit !== r.ww.exit || r.node.stdout !== r.ww.stdout) expect(NOTES[r.file]).toBeDefined()
    const text = readFileSync(README, 'utf8')
    const m = new RegExp(`<!-- ${MARKERS[lang]}:begin -->\\n([\\s\\S]*?)<!-- ${MARKERS[lang]}:end -->`).exec(text)
    expect(m).not.toBeNull()
    if (process.env.WW_UPDATE_README === '1') writeFileSync(README, text.replace(m![0], `<!-- ${MARKERS[lang]}:begin -->\n${table}<!-- ${MARKERS[lang]}:end -->`))
    else expect(m![1]).toBe(table)
  }, 300_000)
}
