// What installing a package brings with it: the packages npm placed (from its hidden
// lockfile) and the bytes they take on disk. Light packages must stay light: installing
// the scheduler, the transport or the WASI layer must not pull js-libp2p.
import { lstatSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { PackageName } from './packages.js'

/** Packages that must not reach these: a user of them never needs a libp2p stack. */
export const NO_LIBP2P: readonly PackageName[] = ['@ww/interface', '@ww/transport', '@ww/wasi-restricted', '@ww/proc']

/** Packages that must not install Binaryen (~100 MB): @ww/proc, which instruments guests, owns it. */
export const NO_BINARYEN: readonly PackageName[] = ['@ww/interface', '@ww/transport', '@ww/wasi-restricted']

/** Is this an npm package of the libp2p stack? (`libp2p`, `@libp2p/*`, `@chainsafe/libp2p-*`.) */
export function isLibp2p(pkg: string): boolean {
  return pkg === 'libp2p' || pkg.startsWith('@libp2p/') || /^@chainsafe\/libp2p-/.test(pkg)
}

/** Every package npm installed under `dir` (nested ones too), by name, sorted and unique. */
export function installedPackages(dir: string): string[] {
  const lock = JSON.parse(readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, unknown> }
  const names = Object.keys(lock.packages).map((path) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length))
  return [...new Set(names.filter((n) => n !== ''))].sort()
}

/** Bytes of the files under `dir` (symlinks counted as links, not followed). */
export function diskBytes(dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) total += diskBytes(path)
    else total += lstatSync(path).size
  }
  return total
}

/** `28 kB`, `1.2 MB`, `108 MB`: install sizes as a person reads them. */
export function formatBytes(n: number): string {
  if (n < 1e6) return `${Math.round(n / 1e3)} kB`
  const mb = n / 1e6
  return mb >= 10 ? `${Math.round(mb)} MB` : `${mb.toFixed(1)} MB`
}
