// Guests for the tests, compiled from source once and cached in build/guests by content
// hash (sources + flags), so a test run compiles only what changed. Parallel jest workers
// may race to build the same guest: each writes a temp file and renames it into place.
//
// C: clang with wasi-libc (Debian: clang-19, lld-19, wasi-libc; override with WW_CLANG and
// WASI_SYSROOT). Without it, @yowasp/clang (clang + wasi-libc compiled to wasm, ~100 MB,
// not a dependency: point WW_YOWASP_CLANG at its gen/bundle.js, or have it resolvable).
// When neither is found, C cases are skipped with a notice.
// Rust: Debian's rustc with its wasm32 standard library (rustc, libstd-rust-dev-wasm32,
// lld-14; override with WW_RUSTC). A rustup rustc earlier on PATH may lack the wasm32-wasi
// target, so /usr/bin/rustc is tried first. When none builds for wasm32-wasi, Rust cases are
// skipped with a notice.
// AssemblyScript: `assemblyscript` + `@assemblyscript/wasi-shim` from npm, always available.
import { createHash } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BUILD = join(ROOT, 'build', 'guests')
const require = createRequire(import.meta.url)

export type Toolchain =
  | { kind: 'native'; clang: string; sysroot: string }
  | { kind: 'yowasp'; spec: string }

let toolchain: Promise<Toolchain | null> | undefined
export function findClang(): Promise<Toolchain | null> {
  toolchain ??= (async () => {
    const sysroot = process.env.WASI_SYSROOT ?? '/usr'
    if (existsSync(join(sysroot, 'lib', 'wasm32-wasi', 'libc.a'))) {
      for (const c of [process.env.WW_CLANG, 'clang-19', 'clang']) {
        if (c === undefined || c === '') continue
        if (spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0) return { kind: 'native' as const, clang: c, sysroot }
      }
    }
    const spec = process.env.WW_YOWASP_CLANG ?? '@yowasp/clang'
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(spec)})`], { cwd: ROOT, stdio: 'ignore' })
    return probe.status === 0 ? { kind: 'yowasp' as const, spec } : null
  })()
  return toolchain
}

async function compileC(tc: Toolchain, name: string, src: string, flags: string[]): Promise<Uint8Array> {
  const out = join(BUILD, `${name}.${process.pid}.raw.wasm`)
  mkdirSync(BUILD, { recursive: true })
  const r = tc.kind === 'yowasp'
    ? spawnSync(process.execPath, [join(ROOT, 'scripts', 'yowasp-cc.mjs'), tc.spec, src, out, ...flags], { cwd: ROOT, encoding: 'utf8' })
    : spawnSync(tc.clang, ['--target=wasm32-wasi', `--sysroot=${tc.sysroot}`, ...flags, src, '-o', out], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`clang failed for ${name}: ${r.stderr}`)
  const bytes = readFileSync(out)
  unlinkSync(out)
  return bytes
}

async function cached(key: string, name: string, build: () => Uint8Array | Promise<Uint8Array>): Promise<Uint8Array> {
  const file = join(BUILD, `${name}-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.wasm`)
  if (existsSync(file)) return readFileSync(file)
  mkdirSync(BUILD, { recursive: true })
  const bytes = await build()
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, bytes)
  renameSync(tmp, file)
  return bytes
}

/** guests/c/<name>.c compiled with wasi-libc, or null when no toolchain is installed. */
export async function cGuest(name: string, opts: { asyncify?: readonly string[]; exports?: readonly string[] } = {}): Promise<Uint8Array | null> {
  const tc = await findClang()
  if (tc === null) return null
  const src = join(ROOT, 'guests', 'c', `${name}.c`)
  const flags = ['-O2', ...(opts.exports ?? []).map((e) => `-Wl,--export=${e}`)]
  const binaryen = opts.asyncify ? (await import('binaryen')).default : undefined
  const key = JSON.stringify([readFileSync(src, 'utf8'), tc.kind === 'native' ? [tc.clang, tc.sysroot] : 'yowasp', flags, opts.asyncify ?? null])
  return cached(key, name, async () => {
    let bytes = await compileC(tc, name, src, flags)
    if (binaryen !== undefined) {
      const mod = binaryen.readBinary(bytes)
      try {
        binaryen.setOptimizeLevel(2)
        binaryen.setPassArgument('asyncify-imports', opts.asyncify!.join(','))
        mod.runPasses(['asyncify'])
        if (!mod.validate()) throw new Error(`asyncify produced an invalid module for ${name}`)
        bytes = mod.emitBinary()
      } finally {
        mod.dispose()
        binaryen.setPassArgument('asyncify-imports', null)
      }
    }
    return bytes
  })
}

let rustc: Promise<string | null> | undefined
/** A rustc whose standard library has the wasm32-wasi target, or null. */
export function findRustc(): Promise<string | null> {
  rustc ??= (async () => {
    for (const c of [process.env.WW_RUSTC, '/usr/bin/rustc', 'rustc']) {
      if (c === undefined || c === '') continue
      const sysroot = spawnSync(c, ['--print', 'sysroot'], { encoding: 'utf8' })
      if (sysroot.status === 0 && existsSync(join(sysroot.stdout.trim(), 'lib', 'rustlib', 'wasm32-wasi', 'lib'))) return c
    }
    return null
  })()
  return rustc
}

/** guests/rust/<name>.rs compiled for wasm32-wasi, or null when no such rustc is installed. */
export async function rustGuest(name: string): Promise<Uint8Array | null> {
  const rc = await findRustc()
  if (rc === null) return null
  const src = join(ROOT, 'guests', 'rust', `${name}.rs`)
  const flags = ['--edition', '2021', '--target', 'wasm32-wasi', '-C', 'opt-level=2', '-C', 'strip=debuginfo']
  const version = spawnSync(rc, ['--version'], { encoding: 'utf8' }).stdout
  return cached(JSON.stringify([readFileSync(src, 'utf8'), version, flags]), `rust-${name}`, () => {
    mkdirSync(BUILD, { recursive: true })
    const out = join(BUILD, `rust-${name}.${process.pid}.raw.wasm`)
    const r = spawnSync(rc, [...flags, src, '-o', out], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`rustc failed for ${name}: ${r.stderr}`)
    const bytes = readFileSync(out)
    unlinkSync(out)
    return bytes
  })
}

/** guests/as/<name>.ts compiled by AssemblyScript with the WASI shim. */
export async function asGuest(name: string): Promise<Uint8Array> {
  const src = join(ROOT, 'guests', 'as', `${name}.ts`)
  const shim = dirname(require.resolve('@assemblyscript/wasi-shim/asconfig.json'))
  const argv = [relative(ROOT, src), '--outFile', `${name}.wasm`, '--optimizeLevel', '2', '--runtime', 'stub', '--exportStart', '_start',
    '--lib', relative(ROOT, join(shim, 'assembly'))]
  for (const u of ['ASC_WASI=1', 'abort=wasi_abort', 'trace=wasi_trace', 'seed=wasi_seed', 'console=wasi_console',
    'crypto=wasi_crypto', 'performance=wasi_performance', 'process=wasi_process', 'Date=wasi_Date']) argv.push('--use', u)
  let bytes: Uint8Array | undefined
  const key = JSON.stringify([readFileSync(src, 'utf8'), argv])
  const file = join(BUILD, `as-${name}-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.wasm`)
  if (existsSync(file)) return readFileSync(file)
  const asc = (await import('assemblyscript/asc')).default
  let stderr = ''
  // baseDir is honoured by asc but missing from its APIOptions type.
  const { error } = await asc.main(argv, {
    stdout: { write: () => true } as never,
    stderr: { write: (s: string) => { stderr += s; return true } } as never,
    baseDir: ROOT,
    writeFile: (f: string, contents: string | Uint8Array) => { if (f.endsWith('.wasm') && typeof contents !== 'string') bytes = contents },
  } as Parameters<typeof asc.main>[1])
  if (error || bytes === undefined) throw new Error(`asc failed for ${name}: ${error?.message}\n${stderr}`)
  return cached(key, `as-${name}`, () => bytes!)
}
