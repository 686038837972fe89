// Packing with pnpm (it rewrites workspace:* to versions), and one npm project per package
// holding that package's tarball, the @ww tarballs it depends on, and nothing else.
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { closure, NAMES, ROOT, tarballName, type PackageName } from './packages.js'

export interface RunResult { code: number | null; stdout: string; stderr: string; ms: number }

/** Run a command to its end, capturing its output (never throws; read `code`). */
export function run(cmd: string, args: string[], opts: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  const t0 = performance.now()
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, npm_config_update_notifier: 'false', ...opts.env }, timeout: opts.timeoutMs ?? 120_000 })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.on('error', (e) => { stderr += String(e) })
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }))
  })
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

/** Is the npm registry answering? `npm ping`, 5 s at most. */
export async function registryReachable(cwd: string): Promise<boolean> {
  const r = await run(npm, ['ping', '--fetch-retries=0', '--fetch-timeout=5000'], { cwd, timeoutMs: 5_000 })
  return r.code === 0
}

/** Packs every publishable package into `dest` with one `pnpm -r pack`. */
export async function packAll(dest: string): Promise<void> {
  const filters = NAMES.flatMap((n) => ['--filter', n])
  const r = await run(process.execPath, [join(ROOT, 'scripts/pnpm.mjs'), '-r', ...filters, 'pack', '--pack-destination', dest], { cwd: ROOT })
  if (r.code !== 0) throw new Error(`pnpm pack failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`)
}

/**
 * A fresh ESM project at `dir` with `name` and its @ww dependencies installed from
 * tarballs in `tarballs`; third-party packages come from the registry through `cache`.
 */
export async function installProject(name: PackageName, dir: string, tarballs: string, cache: string): Promise<RunResult> {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'pack-check-project', version: '0.0.0', private: true, type: 'module' }, null, 2))
  const files = closure(name).map((n) => join(tarballs, tarballName(n)))
  return run(npm, ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline', '--no-package-lock', '--cache', cache, '--loglevel=error', ...files], { cwd: dir, timeoutMs: 240_000 })
}

/**
 * The projects compiled as a TypeScript user would compile them, in one tsc run (each
 * types.ts resolves from its own project's node_modules): an import of the package's
 * types, strict, NodeNext, skipLibCheck off so the shipped .d.ts files are checked too.
 * The repository's tsc and @types/node are used; nothing is installed into the projects.
 */
export async function typecheckProjects(root: string, projects: ReadonlyMap<PackageName, string>): Promise<RunResult> {
  for (const [name, dir] of projects) {
    writeFileSync(join(dir, 'types.ts'), `import * as pkg from '${name}'\nexport const names: string[] = Object.keys(pkg)\n`)
  }
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
      skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')],
    },
    files: [...projects.values()].map((d) => join(d, 'types.ts')),
  }, null, 2))
  return run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', root, '--pretty', 'false'], { cwd: root, timeoutMs: 120_000 })
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}
