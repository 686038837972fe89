// Instrumented modules kept on disk, so a repeat start of the same bytes, in any process,
// skips metering and asyncify (seconds through Binaryen) and pays a read, a hash and
// WebAssembly.compile. One file per (content, instrumentation), under a directory named
// for the pass's version:
//   <dir>/<PASS_VERSION>/<sha256 of the module>-<sha256 of the options, 16 hex>.wwm
// holding "WWM1", a u32 header length, a JSON header { sha256, info } and the bytes.
// Writers race safely: each writes a temp file of its own and renames it into place (the
// same bytes either way). A truncated or corrupt entry fails its hash and is rebuilt.

import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { MeterInfo } from '../meter/pass.js'

const MAGIC = 0x314d5757 // "WWM1" little-endian

export interface Instrumented {
  readonly bytes: Uint8Array
  readonly info: MeterInfo
}

export interface ModuleStoreStats {
  hits: number
  misses: number
  /** Entries that failed their check (truncated, corrupt) and were dropped. */
  corrupt: number
  /** Writes that failed (a full or read-only disk): the module still runs, uncached. */
  writeErrors: number
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export class ModuleStore {
  readonly dir: string
  readonly #stats: ModuleStoreStats = { hits: 0, misses: 0, corrupt: 0, writeErrors: 0 }

  /** `root`: e.g. $WW_HOME/cache/instrumented; `version` names the instrumentation. */
  constructor(root: string, version: string) {
    this.dir = join(root, version)
  }

  /** The file for `moduleId` (sha256 of the module) instrumented with `variant`. */
  path(moduleId: string, variant: string): string {
    return join(this.dir, `${moduleId}-${sha256(variant).slice(0, 16)}.wwm`)
  }

  async get(moduleId: string, variant: string): Promise<Instrumented | undefined> {
    const file = this.path(moduleId, variant)
    let raw: Buffer
    try {
      raw = await readFile(file)
    } catch {
      this.#stats.misses++
      return undefined
    }
    const entry = decode(raw)
    if (entry === undefined) {
      this.#stats.corrupt++
      this.#stats.misses++
      await rm(file, { force: true }).catch(() => undefined)
      return undefined
    }
    this.#stats.hits++
    return entry
  }

  async put(moduleId: string, variant: string, entry: Instrumented): Promise<void> {
    const file = this.path(moduleId, variant)
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 })
      await writeFile(tmp, encode(entry), { mode: 0o600 })
      await rename(tmp, file)
    } catch {
      this.#stats.writeErrors++
      await rm(tmp, { force: true }).catch(() => undefined)
    }
  }

  stats(): ModuleStoreStats { return { ...this.#stats } }
}

function encode(e: Instrumented): Uint8Array {
  const header = Buffer.from(JSON.stringify({ sha256: sha256(e.bytes), info: e.info }))
  const out = Buffer.alloc(8 + header.byteLength + e.bytes.byteLength)
  out.writeUInt32LE(MAGIC, 0)
  out.writeUInt32LE(header.byteLength, 4)
  header.copy(out, 8)
  out.set(e.bytes, 8 + header.byteLength)
  return out
}

function decode(raw: Buffer): Instrumented | undefined {
  if (raw.byteLength < 8 || raw.readUInt32LE(0) !== MAGIC) return undefined
  const n = raw.readUInt32LE(4)
  if (8 + n > raw.byteLength) return undefined
  let header: { sha256?: unknown; info?: unknown }
  try {
    header = JSON.parse(raw.subarray(8, 8 + n).toString('utf8')) as typeof header
  } catch {
    return undefined
  }
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset + 8 + n, raw.byteLength - 8 - n)
  if (typeof header.sha256 !== 'string' || header.sha256 !== sha256(bytes)) return undefined
  if (typeof header.info !== 'object' || header.info === null) return undefined
  return { bytes, info: header.info as MeterInfo }
}
