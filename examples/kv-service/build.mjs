#!/usr/bin/env node
// Builds the example: (1) stubs from kv.capnp — AssemblyScript clients and servers with
// `ww-capnpc --as-rpc` (from the compile request saved next to the schema, so no capnp
// binary is needed; refresh it with `capnp compile -o- kv.capnp > kv.capnp-request.bin`);
// (2) each guest in guests/ with AssemblyScript and the WASI shim, to build/<name>.wasm.
// No asyncify here: `ww run` and `ww spawn` instrument what they run themselves.
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import asc from 'assemblyscript/asc'
import { generate, writeFiles } from '@ww/capnpc'
import { readFileSync } from 'node:fs'

const root = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)

// (1) Stubs: gen/kv.ts (AssemblyScript). The TypeScript side is not needed here.
const files = generate(readFileSync(join(root, "kv.capnp-request.bin")), { typescript: false, assemblyscript: true, asRpc: true })
const as = new Map([...files].filter(([p]) => p.startsWith('assembly/')).map(([p, src]) => [p.slice('assembly/'.length), src]))
writeFiles(as, join(root, 'gen'))

// (2) Guests.
const shim = dirname(require.resolve('@assemblyscript/wasi-shim/asconfig.json'))
await mkdir(join(root, 'build'), { recursive: true })
for (const file of (await readdir(join(root, 'guests'))).filter((f) => f.endsWith('.ts'))) {
  const name = file.slice(0, -3)
  const argv = [
    join('guests', file), '--outFile', `${name}.wasm`, '--optimizeLevel', '3', '--runtime', 'incremental', '--debug',
    '--lib', relative(root, join(shim, 'assembly')),
  ]
  // The shim's asconfig, as flags: its globals for abort, console, process…
  for (const u of ['ASC_WASI=1', 'abort=wasi_abort', 'trace=wasi_trace', 'seed=wasi_seed', 'console=wasi_console',
    'crypto=wasi_crypto', 'performance=wasi_performance', 'process=wasi_process', 'Date=wasi_Date']) argv.push('--use', u)
  let out
  let stderr = ''
  const { error } = await asc.main(argv, {
    baseDir: root,
    stdout: { write: () => true },
    stderr: { write: (s) => { stderr += s; return true } },
    writeFile: (f, contents) => { if (f === `${name}.wasm`) out = contents },
  })
  if (error || out === undefined) throw new Error(`${file}: AssemblyScript failed: ${error?.message ?? 'no output'}\n${stderr}`)
  await writeFile(join(root, 'build', `${name}.wasm`), out)
  console.log(`built build/${name}.wasm (${out.byteLength} B)`)
}
