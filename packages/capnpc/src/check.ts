// Compare generated sources with what is on disk, and write them.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

export interface StaleFile {
  path: string
  reason: 'missing' | 'differs'
}

/** Files under `outDir` that are missing or differ from `files`. */
export function findStale(files: Map<string, string>, outDir: string): StaleFile[] {
  const stale: StaleFile[] = []
  for (const [path, source] of files) {
    let disk: string
    try {
      disk = readFileSync(join(outDir, path), 'utf8')
    } catch {
      stale.push({ path, reason: 'missing' })
      continue
    }
    if (disk !== source) stale.push({ path, reason: 'differs' })
  }
  return stale
}

/** Write `files` under `outDir`, creating directories; returns the paths written. */
export function writeFiles(files: Map<string, string>, outDir: string): string[] {
  const written: string[] = []
  for (const [path, source] of files) {
    const full = join(outDir, path)
    mkdirSync(dirname(full), { recursive: true })
    writeFileSync(full, source)
    written.push(full)
  }
  return written
}
