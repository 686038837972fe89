// Compile AssemblyScript against generated stubs and the guest SDK, for tests: a
// temporary directory with the generated modules, `sdk.ts` / `sdk-exports.ts` re-exporting
// the guest SDK, and the test's own AS entry.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import asc from 'assemblyscript/asc'
import { generate } from '../src/generate.js'

export const HERE = fileURLToPath(new URL('.', import.meta.url))
export const GUEST = join(HERE, '../../guest')

/** A build directory holding the stubs of `requests` (imported as "./<schema>"). */
export function stubsDir(requests: Uint8Array[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'capnpc-as-'))
  const opts = { typescript: false, assemblyscript: true, asRpc: true, asSdk: './sdk' }
  for (const req of requests) {
    for (const [path, src] of generate(req, opts)) writeFileSync(join(dir, path.replace(/^assembly\//, '')), src)
  }
  const sdk = (m: string): string => JSON.stringify(relative(dir, join(GUEST, 'assembly', m)))
  writeFileSync(join(dir, 'sdk.ts'), `export * from ${sdk('index')};\n`)
  writeFileSync(join(dir, 'sdk-exports.ts'), `export * from ${sdk('exports')};\n`)
  return dir
}

/** Compile test/as/<entry>.ts in `dir` (default AssemblyScript features); the wasm bytes. */
export async function compileAs(dir: string, entry: string, flags: string[] = []): Promise<Uint8Array<ArrayBuffer>> {
  writeFileSync(join(dir, `${entry}.ts`), readFileSync(join(HERE, 'as', `${entry}.ts`)))
  const outputs = new Map<string, Uint8Array>()
  let stderr = ''
  const { error } = await asc.main([`${entry}.ts`, '--outFile', `${entry}.wasm`, '--runtime', 'incremental', ...flags], {
    stdout: { write: () => true },
    stderr: { write: (s: string) => { stderr += s; return true } },
    writeFile: (file: string, contents: Uint8Array) => { outputs.set(file, contents) },
    // Relative to the build directory (asc passes "." for it here); packages (the SDK
    // imports @ww/schema's constants) resolve as they do for the guest package.
    readFile: (name: string, base: string) => {
      const path = name.startsWith('node_modules/') ? join(GUEST, name) : resolve(dir, base, name)
      try { return readFileSync(path, 'utf8') } catch { return null }
    },
  } as Parameters<typeof asc.main>[1])
  if (error) throw new Error(`AssemblyScript failed: ${error.message}\n${stderr}`)
  const wasm = outputs.get(`${entry}.wasm`)
  if (wasm === undefined) throw new Error('no wasm output')
  return new Uint8Array(wasm)
}

/** An AssemblyScript string (UTF-16, length before it) out of `memory`. */
export function asString(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return ''
  const len = new Uint32Array(memory.buffer, ptr - 4, 1)[0] ?? 0
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, len / 2))
}
