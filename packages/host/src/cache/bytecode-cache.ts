import { blake3 } from '@noble/hashes/blake3.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { InvalidArgumentError, NotFoundError, TooLargeError } from '../errors.js'

/** A content id: `blake3:` and the 64 hex digits of the BLAKE3-256 digest of the bytes. */
import type { Cid } from '@ww/interface'

export type { Cid }

export interface BytecodeCacheOptions {
  /** Total bytes kept; least recently used entries go first. Default 256 MiB. */
  maxBytes?: number
  /** Entries kept. Default 1024. */
  maxEntries?: number
}

export interface BytecodeCacheStats {
  entries: number
  bytes: number
  hits: number
  misses: number
  evictions: number
}

const CID = /^blake3:[0-9a-f]{64}$/

export function cidOf(bytes: Uint8Array): Cid {
  return `blake3:${bytesToHex(blake3(bytes))}`
}

/**
 * Content-addressed module bytes, bounded by bytes and entries with LRU eviction. `put`
 * copies once into host memory (custody: the caller may reuse its buffer); what `get`
 * returns is that shared copy and must be treated as immutable.
 */
export class BytecodeCache {
  readonly maxBytes: number
  readonly maxEntries: number
  // A Map iterates in insertion order: re-inserting on use keeps the LRU at the front.
  #entries = new Map<Cid, Uint8Array>()
  #bytes = 0
  #hits = 0
  #misses = 0
  #evictions = 0

  constructor(opts: BytecodeCacheOptions = {}) {
    this.maxBytes = opts.maxBytes ?? 256 * 1024 * 1024
    this.maxEntries = opts.maxEntries ?? 1024
    if (!(this.maxBytes > 0) || !(this.maxEntries > 0)) throw new InvalidArgumentError('cache bounds must be positive')
  }

  put(bytes: Uint8Array): Cid {
    if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('bytecode must be a Uint8Array')
    if (bytes.byteLength > this.maxBytes) throw new TooLargeError('bytecode', bytes.byteLength, this.maxBytes)
    const cid = cidOf(bytes)
    const had = this.#entries.get(cid)
    if (had) {
      this.#touch(cid, had)
      return cid
    }
    this.#entries.set(cid, bytes.slice())
    this.#bytes += bytes.byteLength
    this.#evict()
    return cid
  }

  /** The bytes for `cid`; ERR_NOT_FOUND when absent, ERR_INVALID_ARGUMENT when malformed. */
  get(cid: Cid): Uint8Array {
    checkCid(cid)
    const b = this.#entries.get(cid)
    if (!b) {
      this.#misses++
      throw new NotFoundError(`bytecode ${cid}`)
    }
    this.#hits++
    this.#touch(cid, b)
    return b
  }

  has(cid: Cid): boolean {
    checkCid(cid)
    return this.#entries.has(cid)
  }

  delete(cid: Cid): boolean {
    const b = this.#entries.get(cid)
    if (!b) return false
    this.#entries.delete(cid)
    this.#bytes -= b.byteLength
    return true
  }

  stats(): BytecodeCacheStats {
    return { entries: this.#entries.size, bytes: this.#bytes, hits: this.#hits, misses: this.#misses, evictions: this.#evictions }
  }

  #touch(cid: Cid, b: Uint8Array): void {
    this.#entries.delete(cid)
    this.#entries.set(cid, b)
  }

  #evict(): void {
    for (const [cid, b] of this.#entries) {
      if (this.#bytes <= this.maxBytes && this.#entries.size <= this.maxEntries) return
      this.#entries.delete(cid)
      this.#bytes -= b.byteLength
      this.#evictions++
    }
  }
}

function checkCid(cid: string): void {
  if (typeof cid !== 'string' || !CID.test(cid)) throw new InvalidArgumentError(`not a cid: ${JSON.stringify(cid)}`)
}
