// The README check as jest tests, one per example, for a package's test/readme.test.ts:
//   import { testReadme } from '@ww/readme-run/jest'
//   testReadme(new URL('..', import.meta.url))
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { installLine, isRunnable, readmeBlocks, runBlock, typecheckBlocks } from './index.js'

declare const test: (name: string, fn: () => unknown, timeout?: number) => void
declare const expect: (value: unknown) => { toBe(v: unknown): void; toBeDefined(): void; toMatch(r: RegExp): void }

export interface TestReadmeOptions {
  /** check the install line (off for private tools) */
  install?: boolean
  /** where the examples run (default: the package directory) */
  cwd?: URL
  /** the markdown to check, from the package directory (default README.md): e.g. a guide the package's build serves */
  file?: string
}

export function testReadme(packageDirUrl: URL, options: TestReadmeOptions = {}): void {
  const packageDir = fileURLToPath(packageDirUrl)
  const cwd = options.cwd ? fileURLToPath(options.cwd) : packageDir
  const markdown = readFileSync(join(packageDir, options.file ?? 'README.md'), 'utf8')
  const { name } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { name: string }
  const doc = options.file === undefined ? 'the README' : options.file.split('/').at(-1)!
  const blocks = readmeBlocks(markdown)
  const runnable = blocks.filter(isRunnable)

  if (options.install !== false) {
    test(`the README opens with its install line (npm i ${name})`, () => {
      expect(installLine(markdown)).toMatch(new RegExp(`^npm i(nstall)? .*${name.replace('/', '\\/')}(\\s|$)`))
    })
  }
  test(`${doc} has a first example that runs`, () => {
    expect(runnable.length > 0).toBe(true)
  })
  test(`${doc}'s examples typecheck against the package build`, () => {
    typecheckBlocks(blocks, { packageDir })
  }, 120_000)
  for (const block of runnable) {
    test(`${doc}'s example at line ${block.line} runs${block.prints !== undefined ? ` and prints what ${doc} shows` : ''}`, async () => {
      const stdout = await runBlock(block, { packageDir, cwd })
      if (block.prints !== undefined) expect(stdout).toBe(block.prints)
    }, 120_000)
  }
}
