// Where the schemas and the saved CodeGeneratorRequest live, and how the request is
// made. Shared by the gen script and the freshness test.

import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const SCHEMAS_DIR = fileURLToPath(new URL('../../../schemas/', import.meta.url))
/** The request for all of schemas/*.capnp, committed beside them (built without `capnp`). */
export const REQUEST_PATH = SCHEMAS_DIR + 'schemas.capnp-request.bin'
export const PACKAGE_DIR = fileURLToPath(new URL('../', import.meta.url))
export const TS_OUT = PACKAGE_DIR + 'src/gen'

/** The `capnp` binary, or null where it is not installed. */
export function findCapnp() {
  const bin = process.env.CAPNP ?? 'capnp'
  try {
    execFileSync(bin, ['--version'], { stdio: 'ignore' })
    return bin
  } catch {
    return null
  }
}

/**
 * The schemas to compile: every schemas/*.capnp that git knows (committed or staged).
 * Several engineers share one checkout, so a half-written, untracked schema must not
 * break everyone's build: `git add` a new schema to include it. Outside a git checkout,
 * every *.capnp file.
 */
export function schemaFiles() {
  const all = readdirSync(SCHEMAS_DIR).filter((f) => f.endsWith('.capnp')).sort()
  let tracked
  try {
    tracked = execFileSync('git', ['ls-files', '--', '*.capnp'], { cwd: SCHEMAS_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  } catch {
    return all
  }
  const known = new Set(tracked.split('\n').filter((l) => l !== '' && !l.includes('/')))
  return all.filter((f) => known.has(f))
}

/**
 * Compile the schemas (see schemaFiles) in one `capnp compile -o-` run; returns the request.
 * Run from SCHEMAS_DIR with bare file names so the request (file names, display names)
 * is the same on every machine.
 */
export function compileRequest(capnp) {
  return execFileSync(capnp, ['compile', '-o-', ...schemaFiles()], {
    cwd: SCHEMAS_DIR,
    env: { ...process.env, PWD: SCHEMAS_DIR },
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
}
