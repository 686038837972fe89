// The publishable packages, where they live, and which other @ww packages each needs at
// runtime (its `dependencies`, transitively): exactly the tarballs its project installs.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export const PUBLISHABLE = {
  '@ww/interface': 'packages/interface',
  '@ww/schema': 'packages/schema',
  '@ww/transport': 'packages/transport',
  '@ww/wasi-restricted': 'packages/wasi-restricted',
  '@ww/host': 'packages/host',
  '@ww/proc': 'packages/proc',
  '@ww/guest': 'packages/guest',
  '@ww/cli': 'apps/ww',
  '@ww/capnpc': 'packages/capnpc',
} as const
export type PackageName = keyof typeof PUBLISHABLE
export const NAMES = Object.keys(PUBLISHABLE) as PackageName[]

export interface Manifest {
  name: string
  version: string
  private?: boolean
  main?: string
  types?: string
  bin?: Record<string, string> | string
  exports?: unknown
  files?: string[]
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
}

export function manifest(name: PackageName): Manifest {
  return JSON.parse(readFileSync(join(ROOT, PUBLISHABLE[name], 'package.json'), 'utf8')) as Manifest
}

const isOurs = (dep: string): dep is PackageName => dep in PUBLISHABLE

/** `name` and every @ww package its runtime dependencies reach, `name` first. */
export function closure(name: PackageName): PackageName[] {
  const out: PackageName[] = []
  const visit = (n: PackageName): void => {
    if (out.includes(n)) return
    out.push(n)
    for (const dep of Object.keys(manifest(n).dependencies ?? {})) {
      if (dep.startsWith('@ww/') && !isOurs(dep)) throw new Error(`${n} depends on ${dep}, which is not published`)
      if (isOurs(dep)) visit(dep)
    }
  }
  visit(name)
  return out
}

/** The tarball name `pnpm pack` gives a package: `@ww/cli@0.1.0` → ww-cli-0.1.0.tgz. */
export function tarballName(name: PackageName): string {
  return `${name.replace(/^@/, '').replace('/', '-')}-${manifest(name).version}.tgz`
}
