// What a spawner puts in a process's scratch dir before it starts: files (as bytes),
// directories and symlinks, by paths relative to the dir. Plain data, so it can be built
// by the embedder (e.g. from a host directory it chose to copy — never by the guest),
// checked before anything starts (checkScratchSeed), cloned to a worker, and given to
// createWasi (options.scratchSeed). It counts against the scratch quota like anything
// the guest writes: a seed over the quota is refused, not truncated.

import { WasiError } from '../errors.js'
import type { ScratchGrant } from '../policy.js'

export type ScratchEntry =
  | { readonly path: string; readonly bytes: Uint8Array }
  | { readonly path: string; readonly dir: true }
  | { readonly path: string; readonly symlink: string }

/** A seed that cannot be put: a path that is not a plain relative one, a conflict, over the quota. */
export class ScratchSeedError extends WasiError {
  constructor(readonly path: string, message: string) { super('ERR_SCRATCH_SEED', path === '' ? message : `${path}: ${message}`) }
}

/** One node to make, parents before children; `parent` indexes this list (-1: the root). */
export interface PlannedNode {
  readonly name: string
  readonly parent: number
  readonly entry: ScratchEntry | { readonly dir: true }
}

export interface SeedPlan {
  readonly nodes: readonly PlannedNode[]
  /** What the seed costs on top of the empty dir (its root is one inode). */
  readonly bytes: number
  readonly inodes: number
}

const MAX_PATH = 4096
const MAX_NAME = 255

function components(path: string): string[] {
  if (typeof path !== 'string' || path === '') throw new ScratchSeedError(String(path), 'empty path')
  if (path.startsWith('/')) throw new ScratchSeedError(path, 'must be relative to the scratch dir')
  if (Buffer.byteLength(path) > MAX_PATH) throw new ScratchSeedError(path.slice(0, 64) + '…', `longer than ${MAX_PATH} bytes`)
  if (path.includes('\0')) throw new ScratchSeedError(path, 'contains NUL')
  const parts = path.split('/').filter((c) => c !== '')
  for (const c of parts) {
    if (c === '.' || c === '..') throw new ScratchSeedError(path, `'${c}' would leave or skip around the scratch dir: give plain names`)
    if (Buffer.byteLength(c) > MAX_NAME) throw new ScratchSeedError(path, `a name is longer than ${MAX_NAME} bytes`)
  }
  return parts
}

/**
 * Checks `seed` and orders it into the nodes to make, parents first; directories a path
 * needs but the seed does not name are made too (and counted). Throws ScratchSeedError.
 */
export function planSeed(seed: readonly ScratchEntry[]): SeedPlan {
  const nodes: PlannedNode[] = []
  const index = new Map<string, number>() // 'a/b' → its node
  let bytes = 0
  for (const e of seed) {
    const parts = components(e.path)
    if (parts.length === 0) {
      if ('dir' in e) continue // the scratch dir itself
      throw new ScratchSeedError(e.path, 'names the scratch dir itself')
    }
    let parent = -1
    for (let i = 0; i < parts.length; i++) {
      const key = parts.slice(0, i + 1).join('/')
      const at = index.get(key)
      const last = i === parts.length - 1
      if (at !== undefined) {
        const existing = nodes[at]!.entry
        if (last) {
          if ('dir' in e && 'dir' in existing) { parent = at; continue } // a directory named twice, or after a file in it
          throw new ScratchSeedError(e.path, 'given twice')
        }
        if (!('dir' in existing)) throw new ScratchSeedError(e.path, `${key} is not a directory`)
        parent = at
        continue
      }
      const entry = last ? e : { dir: true as const }
      if (last && !('dir' in e)) {
        if ('bytes' in e) {
          if (!(e.bytes instanceof Uint8Array)) throw new ScratchSeedError(e.path, 'bytes must be a Uint8Array')
          bytes += e.bytes.length
        } else if ('symlink' in e && typeof e.symlink === 'string' && e.symlink !== '' && !e.symlink.includes('\0')) {
          bytes += Buffer.byteLength(e.symlink)
        } else throw new ScratchSeedError(e.path, 'expected { path, bytes }, { path, dir: true } or { path, symlink }')
      }
      nodes.push({ name: parts[i]!, parent, entry })
      parent = nodes.length - 1
      index.set(key, parent)
    }
  }
  return { nodes, bytes, inodes: nodes.length }
}

/**
 * What `seed` would use of the scratch grant `g` ({ bytes, inodes }, the dir's own inode
 * included), or a ScratchSeedError when it does not fit or is malformed. A spawner calls
 * this before starting anything; createWasi checks the same again.
 */
export function checkScratchSeed(g: ScratchGrant, seed: readonly ScratchEntry[]): { bytes: number; inodes: number } {
  return fit(g, planSeed(seed))
}

export function fit(g: ScratchGrant, plan: SeedPlan): { bytes: number; inodes: number } {
  const inodes = plan.inodes + 1
  if (plan.bytes > g.maxBytes) throw new ScratchSeedError('', `the seed holds ${plan.bytes} bytes, more than the scratch quota of ${g.maxBytes}`)
  if (inodes > g.maxInodes) throw new ScratchSeedError('', `the seed makes ${inodes} files and directories (with the dir itself), more than the scratch quota of ${g.maxInodes}`)
  return { bytes: plan.bytes, inodes }
}
