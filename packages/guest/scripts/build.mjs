#!/usr/bin/env node
// Builds every example guest from source: guests/<name>.ts → AssemblyScript (optimised)
// → Binaryen asyncify → build/<name>.wasm. The un-instrumented module goes to
// build/raw/<name>.wasm (for JSPI, and to measure what asyncify costs).
//
// Flavours, by file name: `wasi-*.ts` guests are WASI guests (through
// @assemblyscript/wasi-shim: abort/trace/console go to fd_write); every other guest is
// plain and imports only `ww.*` and `env.abort`.
//
// Options (flags or environment):
//   --asyncify-imports=a.b,c.d   WW_ASYNCIFY_IMPORTS   imports that may suspend
//                                (default: ww.recv; WASI guests add every call
//                                @ww/wasi-restricted may suspend in: SUSPENDING_IMPORTS)
//   --only=<name>                build one guest
//   --quiet
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import asc from 'assemblyscript/asc'
import binaryen from 'binaryen'
import { SUSPENDING_IMPORTS } from '@ww/wasi-restricted'
import { binaryenFeatures } from '@ww/interface'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const [k, v] = a.replace(/^--/, '').split('=')
  return [k, v ?? 'true']
}))

export const PLAIN_ASYNCIFY_IMPORTS = ['ww.recv']
// Every WASI call the restricted layer may suspend in (sleeps, yields, full sinks, empty
// streams, sockets): a call that waits without being listed would end the guest.
export const WASI_ASYNCIFY_IMPORTS = ['ww.recv', ...SUSPENDING_IMPORTS.map((f) => `wasi_snapshot_preview1.${f}`)] // = asyncifyImports.wasi in src/index.ts

// Named, never Features.All: Node 20 rejects modules that declare features it lacks. The
// one list every Binaryen pass of ww uses (AssemblyScript 0.28's defaults are within it).
const FEATURES = binaryenFeatures(binaryen.Features)

function asyncifyImports(wasi) {
  const given = args['asyncify-imports'] ?? process.env.WW_ASYNCIFY_IMPORTS
  if (given) return given.split(',').map((s) => s.trim()).filter(Boolean)
  return wasi ? WASI_ASYNCIFY_IMPORTS : PLAIN_ASYNCIFY_IMPORTS
}

async function compile(name, wasi) {
  const outputs = new Map()
  const argv = [
    join('guests', `${name}.ts`), '--outFile', `${name}.wasm`,
    '--optimizeLevel', '3', '--shrinkLevel', '0', '--noAssert',
    '--runtime', 'incremental',
    // Function names: asyncify-removelist needs them (below), and a trap's stack names the guest's functions.
    '--debug',
  ]
  if (wasi) {
    // The shim's asconfig, as flags: its library plus the global aliases it defines.
    const shim = dirname(require.resolve('@assemblyscript/wasi-shim/asconfig.json'))
    argv.push('--lib', relative(root, join(shim, 'assembly')))
    for (const u of ['ASC_WASI=1', 'abort=wasi_abort', 'trace=wasi_trace', 'seed=wasi_seed', 'console=wasi_console',
      'crypto=wasi_crypto', 'performance=wasi_performance', 'process=wasi_process', 'Date=wasi_Date']) argv.push('--use', u)
  }
  let stderr = ''
  const { error } = await asc.main(argv, {
    stdout: { write: () => true },
    stderr: { write: (s) => { stderr += s; return true } },
    baseDir: root,
    writeFile: (file, contents) => { outputs.set(file, contents) },
  })
  if (error) throw new Error(`${name}: AssemblyScript failed: ${error.message}\n${stderr}`)
  const wasm = outputs.get(`${name}.wasm`)
  if (!wasm) throw new Error(`${name}: no output`)
  return wasm
}

// The shim's abort writes its message with fd_write, which may suspend: left in, every
// function with a bounds check could unwind, so asyncify instrumented nearly all of them
// (wasi-http-server: +65% size, StaticArray#__get out of line and 12% of a busy server's
// CPU). An abort never resumes, so it is not instrumented; if its write would wait (a full
// stderr sink) the message is lost and the process still exits 255.
const WASI_NEVER_UNWIND = ['~lib/wasi_internal/wasi_abort']

function instrument(bytes, imports, wasi) {
  const mod = binaryen.readBinary(bytes)
  try {
    mod.setFeatures(FEATURES)
    binaryen.setOptimizeLevel(3)
    binaryen.setShrinkLevel(0)
    binaryen.setDebugInfo(true) // keep the names
    binaryen.setPassArgument('asyncify-imports', imports.join(','))
    if (wasi) binaryen.setPassArgument('asyncify-removelist', WASI_NEVER_UNWIND.join(','))
    // asyncify honours the optimize level (flattens then re-optimises); one more -O3 after.
    mod.runPasses(['asyncify'])
    mod.optimize()
    if (!mod.validate()) throw new Error('asyncify produced an invalid module')
    return mod.emitBinary()
  } finally {
    mod.dispose()
    binaryen.setPassArgument('asyncify-imports', null)
    binaryen.setPassArgument('asyncify-removelist', null)
    binaryen.setDebugInfo(false)
  }
}

export async function build() {
  const started = performance.now()
  const files = (await readdir(join(root, 'guests'))).filter((f) => f.endsWith('.ts')).sort()
  const only = args.only
  await mkdir(join(root, 'build', 'raw'), { recursive: true })
  const report = []
  for (const f of files) {
    const name = f.slice(0, -3)
    if (only && only !== name) continue
    const wasi = name.startsWith('wasi-')
    const t0 = performance.now()
    const raw = await compile(name, wasi)
    const t1 = performance.now()
    const out = instrument(raw, asyncifyImports(wasi), wasi)
    const t2 = performance.now()
    await writeFile(join(root, 'build', 'raw', `${name}.wasm`), raw)
    await writeFile(join(root, 'build', `${name}.wasm`), out)
    report.push({ name, flavour: wasi ? 'wasi' : 'plain', raw: raw.byteLength, asyncified: out.byteLength,
      ascMs: Math.round(t1 - t0), asyncifyMs: Math.round(t2 - t1) })
  }
  const total = Math.round(performance.now() - started)
  await writeFile(join(root, 'build', 'sizes.json'), JSON.stringify({ totalMs: total, guests: report }, null, 2) + '\n')
  if (!args.quiet) {
    for (const r of report) {
      console.log(`guest ${r.name} (${r.flavour}): ${r.raw} B → ${r.asyncified} B asyncified (+${((r.asyncified / r.raw - 1) * 100).toFixed(0)}%), asc ${r.ascMs} ms, asyncify ${r.asyncifyMs} ms`)
    }
    console.log(`built ${report.length} guests in ${total} ms`)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  build().catch((e) => { console.error(e.message ?? e); process.exit(1) })
}
