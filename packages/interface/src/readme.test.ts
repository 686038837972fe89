// The README's first example runs as written, and prints what its comments say.
import { readFileSync } from 'node:fs'
import ts from 'typescript'
import * as iface from './index.js'

test("the README's first example runs and prints what its comments promise", () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  expect(readme.indexOf('npm i @ww/interface')).toBeLessThan(readme.indexOf('```ts'))
  const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText
  // Its one import, from this package: bound to the module under test.
  const body = js.replace(/import \{([^}]*)\} from '@ww\/interface';?/, 'const {$1} = iface;')
  expect(body).not.toMatch(/\bimport\b/)
  const printed: string[] = []
  new Function('iface', 'console', body)(iface, { log: (v: unknown) => printed.push(String(v)) })
  const promised = [...code.matchAll(/console\.log\(.*\)\s*\/\/ (.*)$/gm)].map((m) => m[1]!.trim())
  expect(printed).toEqual(promised)
})
