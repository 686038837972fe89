// The README's "two hosts, one call" example, run as written (as a separate Node process,
// with '@ww/host' pointed at this package's build), so the example cannot rot.
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const README = fileURLToPath(new URL('../README.md', import.meta.url))
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url))

test('the README example starts two hosts and calls one from the other', async () => {
  const md = readFileSync(README, 'utf8')
  const m = /<!-- readme-example -->\n```ts\n([\s\S]*?)```/.exec(md)
  expect(m).not.toBeNull()
  const code = m![1]!
  expect(code.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('import')).length).toBeLessThanOrEqual(10)
  const dir = mkdtempSync(join(tmpdir(), 'ww-readme-'))
  const file = join(dir, 'example.mjs')
  writeFileSync(file, code.replace(`from '@ww/host'`, `from '${pathToFileURL(DIST).href}'`))
  try {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [file], { timeout: 30_000 }, (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout)))
    })
    expect(out.trim().split('\n')).toEqual(['true', 'hi from b'])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}, 40_000)
