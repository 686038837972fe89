import { InvalidPathError } from '../errors.js'

/** Anchor names: what is safe in a URL segment and a file name, no dot-only names. */
const NAME = /^[A-Za-z0-9_~.-]{1,255}$/
export const MAX_DEPTH = 64

/**
 * Splits a relative anchor path into validated names. `''` is the anchor itself. There
 * is no way up: no leading `/`, no `.` or `..`, no empty segment — a handle reaches only
 * its own subtree.
 */
export function parsePath(path: string): string[] {
  if (typeof path !== 'string') throw new InvalidPathError(String(path), 'not a string')
  if (path === '') return []
  if (path.startsWith('/')) throw new InvalidPathError(path, 'absolute paths are not allowed')
  const names = path.split('/')
  if (names.length > MAX_DEPTH) throw new InvalidPathError(path, `deeper than ${MAX_DEPTH}`)
  for (const n of names) {
    if (n === '') throw new InvalidPathError(path, 'empty segment')
    if (n === '.' || n === '..') throw new InvalidPathError(path, 'no parent or self segments')
    if (!NAME.test(n)) throw new InvalidPathError(path, `bad name ${JSON.stringify(n)}`)
  }
  return names
}

export function joinPath(a: string, b: string): string {
  return a === '' ? b : b === '' ? a : `${a}/${b}`
}
