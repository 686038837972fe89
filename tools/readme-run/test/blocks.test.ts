import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { installLine, isRunnable, ReadmeExampleError, readmeBlocks, runBlock, typecheckBlocks } from '../src/index.js'

const md = [
  '# @ww/x',
  '',
  'npm i @ww/x',
  '',
  '```ts',
  'const n: number = 1 + 1',
  'console.log(n)',
  '```',
  '',
  '```text',
  '2',
  '```',
  '',
  '<!-- fragment: AssemblyScript -->',
  '```ts',
  'export function f(): i32 { return 1 }',
  '```',
  '',
  '```sh',
  'ww run x.wasm',
  '```',
].join('\n')

test('blocks carry their language, line, fragment reason and expected output', () => {
  const blocks = readmeBlocks(md)
  expect(blocks.map((b) => [b.lang, b.line, b.fragment, b.prints])).toEqual([
    ['ts', 5, undefined, '2\n'],
    ['text', 10, undefined, undefined],
    ['ts', 15, 'AssemblyScript', undefined],
    ['sh', 19, undefined, undefined],
  ])
  expect(blocks.filter(isRunnable).map((b) => b.line)).toEqual([5])
  expect(installLine(md)).toBe('npm i @ww/x')
})

test('an unclosed fence is a typed error naming its line', () => {
  expect(() => readmeBlocks('# x\n```ts\nconst a = 1\n')).toThrow(ReadmeExampleError)
  expect(() => readmeBlocks('# x\n```ts\nconst a = 1\n')).toThrow(/line 2/)
})

describe('in a package directory', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'readme-run-'))
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', type: 'module' }))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('a block runs and its stdout comes back', async () => {
    const [block] = readmeBlocks(md)
    expect(await runBlock(block!, { packageDir: dir })).toBe('2\n')
  })

  test('a type error is reported with the README line it is on', () => {
    const blocks = readmeBlocks('# x\n\n```ts\nconst a = 1\nconst b: string = a\n```\n')
    expect(() => typecheckBlocks(blocks, { packageDir: dir })).toThrow(/README line 5: Type 'number' is not assignable to type 'string'/)
  })

  test('a failing example is a typed error with its stderr', async () => {
    const [block] = readmeBlocks('# x\n\n```js\nthrow new Error("boom")\n```\n')
    await expect(runBlock(block!, { packageDir: dir })).rejects.toThrow(/line 3 failed[\s\S]*boom/)
  })
})
