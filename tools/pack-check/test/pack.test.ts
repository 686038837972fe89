// Every publishable package, packed as npm would publish it, installed alone into a fresh
// project (its tarball, the @ww tarballs it depends on, third-party packages from the
// registry) and used through its public exports by smoke/<package>.mjs.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { closure, manifest, NAMES, ROOT, tarballName, type Manifest, type PackageName } from '../src/packages.js'
import { checkPackage } from '../src/tarball.js'
import { diskBytes, formatBytes, installedPackages, isLibp2p, NO_BINARYEN, NO_LIBP2P } from '../src/footprint.js'
import { installProject, packAll, pool, registryReachable, run, typecheckProjects, type RunResult } from '../src/npm.js'

const SMOKE = fileURLToPath(new URL('../smoke/', import.meta.url))
// Kept between runs (and cacheable in CI): a warm cache makes the eight installs local.
const NPM_CACHE = join(ROOT, '.cache', 'pack-check', 'npm')
const CONCURRENCY = 2
const tmp = mkdtempSync(join(tmpdir(), 'ww-pack-check-'))
const tarballs = join(tmp, 'tarballs')
const short = (n: PackageName): string => n.slice('@ww/'.length)

const reachable = await registryReachable(tmp)
if (!reachable) {
  console.warn('pack-check: the npm registry did not answer `npm ping` within 5 s; the install-and-use tests are SKIPPED (the tarball checks still run)')
}

interface Outcome { install: RunResult; ww: string[]; packages: string[]; bytes: number; smoke?: RunResult }
const outcomes = new Map<PackageName, Outcome>()
const projectDir = (n: PackageName): string => join(tmp, 'projects', short(n))
let types: RunResult | undefined
const timings: string[] = []

/** Every @ww package npm placed (nested ones too) and where it came from, from its hidden lockfile. */
function wwInstalled(dir: string): string[] {
  const lock = JSON.parse(readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string }> }
  return Object.entries(lock.packages).filter(([path]) => path.includes('@ww/'))
    .map(([path, p]) => `${path} ${p.resolved?.startsWith('file:') ? 'tarball' : p.resolved}`).sort()
}

async function installAndSmoke(name: PackageName): Promise<void> {
  const dir = projectDir(name)
  const install = await installProject(name, dir, tarballs, NPM_CACHE)
  const ww = install.code === 0 ? wwInstalled(dir) : []
  // Measured before the smoke runs (it may write files).
  const packages = install.code === 0 ? installedPackages(dir) : []
  const bytes = install.code === 0 ? diskBytes(join(dir, 'node_modules')) : 0
  let smoke: RunResult | undefined
  if (install.code === 0) {
    copyFileSync(join(SMOKE, `${short(name)}.mjs`), join(dir, 'smoke.mjs'))
    if (name === '@ww/capnpc') copyFileSync(join(ROOT, 'packages/capnpc/test/fixtures/features.request.bin'), join(dir, 'features.request.bin'))
    smoke = await run(process.execPath, ['smoke.mjs'], { cwd: dir, timeoutMs: 60_000 })
  }
  const s = (r?: RunResult): string => (r ? `${(r.ms / 1000).toFixed(1)} s` : '-')
  timings.push(`${name}: install ${s(install)}, smoke ${s(smoke)}`)
  outcomes.set(name, { install, ww, packages, bytes, ...(smoke ? { smoke } : {}) })
}

const t0 = performance.now()
beforeAll(async () => {
  mkdirSync(tarballs, { recursive: true })
  await packAll(tarballs)
  for (const n of NAMES) {
    const dir = join(tmp, 'unpacked', short(n))
    mkdirSync(dir, { recursive: true })
    const r = await run('tar', ['xzf', join(tarballs, tarballName(n)), '-C', dir], { cwd: tmp })
    if (r.code !== 0) throw new Error(`tar failed on ${tarballName(n)}: ${r.stderr}`)
  }
  if (reachable) {
    await pool(NAMES, CONCURRENCY, installAndSmoke)
    const installed = NAMES.filter((n) => outcomes.get(n)?.install.code === 0)
    types = await typecheckProjects(join(tmp, 'projects'), new Map(installed.map((n) => [n, projectDir(n)])))
    timings.push(`tsc over the ${installed.length} projects: ${(types.ms / 1000).toFixed(1)} s`)
  }
})

afterAll(() => {
  console.log(`pack-check: ${((performance.now() - t0) / 1000).toFixed(1)} s in all, installs ${CONCURRENCY} at a time\n  ${timings.join('\n  ')}`)
  // What `npm i <package>` puts on a user's disk, dependencies included.
  const sizes = NAMES.filter((n) => outcomes.get(n)?.install.code === 0)
    .map((n) => { const o = outcomes.get(n)!; return `${n}: ${formatBytes(o.bytes)} in ${o.packages.length} package${o.packages.length === 1 ? '' : 's'}` })
  if (sizes.length > 0) console.log(`pack-check: install sizes (node_modules of a project with only that package)\n  ${sizes.join('\n  ')}`)
  rmSync(tmp, { recursive: true, force: true })
})

describe('tarball contents', () => {
  test('every workspace package that is not private is checked here', () => {
    const manifests = ['packages', 'apps', 'tools'].flatMap((d) => readdirSync(join(ROOT, d)).map((p) => join(ROOT, d, p, 'package.json')))
      .filter((f) => existsSync(f)).map((f) => JSON.parse(readFileSync(f, 'utf8')) as Manifest)
    expect(manifests.filter((m) => m.private !== true).map((m) => m.name).sort()).toEqual([...NAMES].sort())
  })

  const siblings = new Map<string, Manifest>(NAMES.map((n) => [n, manifest(n)]))
  test.each(NAMES)('%s: README, every file its manifest and imports name, no tests or sources, no undeclared imports', (name) => {
    expect(checkPackage(join(tmp, 'unpacked', short(name), 'package'), siblings)).toEqual([])
  })
})

describe('installed alone from npm', () => {
  const maybe = reachable ? test : test.skip
  maybe.each(NAMES)('%s installs with only its own @ww dependencies and its smoke script passes', (name) => {
    const o = outcomes.get(name)!
    expect({ code: o.install.code, stderr: o.install.code === 0 ? '' : o.install.stderr }).toEqual({ code: 0, stderr: '' })
    // the tarballs given, once each, and no @ww package fetched from the registry
    expect(o.ww).toEqual(closure(name).map((n) => `node_modules/${n} tarball`).sort())
    expect({ code: o.smoke?.code, stderr: o.smoke?.code === 0 ? '' : o.smoke?.stderr }).toEqual({ code: 0, stderr: '' })
    expect(o.smoke?.stdout).toContain(`ok ${name}\n`)
  })
  maybe.each(NO_LIBP2P)('%s does not install libp2p (only @ww/host needs it)', (name) => {
    expect(outcomes.get(name)?.install.code).toBe(0)
    expect(outcomes.get(name)!.packages.filter(isLibp2p)).toEqual([])
  })
  maybe.each(NO_BINARYEN)('%s does not install Binaryen (only @ww/proc, which instruments guests, needs it)', (name) => {
    expect(outcomes.get(name)?.install.code).toBe(0)
    expect(outcomes.get(name)!.packages.filter((p) => p === 'binaryen')).toEqual([])
  })
  maybe.each(NAMES)('%s types compile for a strict NodeNext user, its .d.ts files checked', (name) => {
    expect(outcomes.get(name)?.install.code).toBe(0)
    const errors = (types?.stdout ?? '').split('\n').filter((l) => l.startsWith(`${short(name)}/`))
    expect(errors).toEqual([])
  })
  maybe('tsc over every project exits 0 (no error outside the projects either)', () => {
    expect({ code: types?.code, out: types?.stdout }).toEqual({ code: 0, out: '' })
  })
})
