// What a tarball must hold to work when installed: its README, every file its manifest
// points at (main, types, exports, bin), every file its JS imports by relative path, and
// no package its JS imports that it does not declare. No tests, no TypeScript sources.
import { builtinModules } from 'node:module'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, posix, relative } from 'node:path'
import type { Manifest } from './packages.js'

/** Every file under `dir`, as posix paths relative to it. */
export function listFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out.push(relative(dir, p).split('\\').join('/'))
    }
  }
  walk(dir)
  return out.sort()
}

/** Every string target in an exports map (conditions and subpaths, nested). */
function exportTargets(exp: unknown): string[] {
  if (typeof exp === 'string') return [exp]
  if (exp === null || typeof exp !== 'object') return []
  return Object.values(exp as Record<string, unknown>).flatMap(exportTargets)
}

const BUILTIN = new Set(builtinModules)
const SPECIFIER = [
  /^\s*(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"\s]+)['"]/gm, // import x from 'y', export * from 'y'
  /^\s*import\s*['"]([^'"\s]+)['"]/gm, // import 'y'
  /\bimport\s*\(\s*['"]([^'"\s]+)['"]\s*\)/g, // import('y')
  /\bnew URL\(\s*['"](\.{1,2}\/[^'"\s]+)['"]\s*,\s*import\.meta\.url\s*\)/g, // new URL('./w.js', import.meta.url)
]

export function importsOf(source: string): string[] {
  const out = new Set<string>()
  for (const re of SPECIFIER) for (const m of source.matchAll(re)) out.add(m[1]!)
  return [...out]
}

/** `@scope/name/deep/path` → `@scope/name`; `name/deep` → `name`. */
export function packageOf(spec: string): string {
  const parts = spec.split('/')
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
}

/** Does `subpath` ('.', './assembly/x.ts') match a key of `exports`? */
export function exportsAllow(exports: unknown, subpath: string): boolean {
  if (exports === undefined) return true // no map: every file is reachable
  if (typeof exports === 'string' || Array.isArray(exports)) return subpath === '.'
  const keys = Object.keys(exports as object)
  if (!keys.some((k) => k.startsWith('.'))) return subpath === '.' // a conditions-only map
  return keys.some((k) => {
    const star = k.indexOf('*')
    return star < 0 ? k === subpath : subpath.startsWith(k.slice(0, star)) && subpath.endsWith(k.slice(star + 1))
  })
}

/**
 * Problems with an unpacked package at `dir` (its `package/` folder). `siblings` are the
 * manifests of the other packed @ww packages, for deep imports into them.
 */
export function checkPackage(dir: string, siblings: Map<string, Manifest>): string[] {
  const m = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest
  const files = listFiles(dir)
  const has = (p: string): boolean => existsSync(join(dir, p))
  const problems: string[] = []

  if (!files.includes('README.md')) problems.push('no README.md')
  for (const f of files) {
    if (/(^|\/)(__tests__|test)\//.test(f) || /\.(test|spec)\.[cm]?[jt]s(\.map)?$/.test(f)) problems.push(`test file shipped: ${f}`)
    if (f.startsWith('src/')) problems.push(`source shipped: ${f}`)
  }
  for (const [field, deps] of Object.entries({ dependencies: m.dependencies, peerDependencies: m.peerDependencies })) {
    for (const [d, v] of Object.entries(deps ?? {})) if (v.startsWith('workspace:')) problems.push(`${field}.${d} is still ${v}`)
  }

  const pointed = [m.main, m.types, ...exportTargets(m.exports)].filter((p): p is string => p !== undefined)
  for (const p of pointed) {
    if (p.includes('*')) {
      const base = p.slice(0, p.indexOf('*'))
      if (!files.some((f) => `./${f}`.startsWith(base.startsWith('./') ? base : `./${base}`))) problems.push(`exports pattern ${p} matches no file`)
    } else if (!has(p)) problems.push(`manifest points at a missing file: ${p}`)
  }
  const bins = typeof m.bin === 'string' ? { [m.name]: m.bin } : (m.bin ?? {})
  for (const [bin, p] of Object.entries(bins)) {
    if (!has(p)) problems.push(`bin ${bin} points at a missing file: ${p}`)
    else if (!readFileSync(join(dir, p), 'utf8').startsWith('#!')) problems.push(`bin ${bin} (${p}) has no #! line`)
  }

  const declared = new Set([...Object.keys(m.dependencies ?? {}), ...Object.keys(m.peerDependencies ?? {}), ...Object.keys(m.optionalDependencies ?? {})])
  for (const f of files.filter((f) => /\.[cm]?js$/.test(f) || /\.d\.[cm]?ts$/.test(f))) {
    for (const spec of importsOf(readFileSync(join(dir, f), 'utf8'))) {
      if (spec.startsWith('.')) {
        const target = posix.join(posix.dirname(f), spec)
        if (!has(target) || statSync(join(dir, target)).isDirectory()) problems.push(`${f} imports ${spec}, not in the tarball`)
        continue
      }
      if (spec.startsWith('node:') || BUILTIN.has(spec) || BUILTIN.has(packageOf(spec))) continue
      const pkg = packageOf(spec)
      const sub = '.' + spec.slice(pkg.length)
      if (pkg === m.name) {
        if (!exportsAllow(m.exports, sub)) problems.push(`${f} imports ${spec}: not in its own exports map`)
        continue
      }
      if (!declared.has(pkg)) {
        const why = m.devDependencies?.[pkg] !== undefined ? ' (a devDependency)' : ''
        problems.push(`${f} imports ${spec}, not a dependency${why}`)
      } else if (siblings.has(pkg) && !exportsAllow(siblings.get(pkg)!.exports, sub)) {
        problems.push(`${f} imports ${spec}: ${pkg} does not export ${sub}`)
      }
    }
  }
  return problems
}
