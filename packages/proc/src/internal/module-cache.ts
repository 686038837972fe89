// Compiled modules kept by content: spawning the same bytes again (a host's executor
// spawns by bytecode, often the same) skips metering. Least recently used dropped first.

import { createHash } from 'node:crypto'

export class ModuleCache<M> {
  readonly #max: number
  readonly #entries = new Map<string, Promise<M>>()

  constructor(max = 64) {
    this.#max = max
  }

  /** The module compiled from `bytes` under `variant` (what else changes the result: entry, waiting imports), compiled by `make` if not kept. */
  get(bytes: Uint8Array, variant: string, make: () => Promise<M>): Promise<M> {
    return this.getById(createHash('sha256').update(bytes).digest('hex'), variant, make)
  }

  /** The same, for a caller that already has the bytes' sha256 (hex). */
  getById(id: string, variant: string, make: () => Promise<M>): Promise<M> {
    const key = `${id}|${variant}`
    let m = this.#entries.get(key)
    if (m) this.#entries.delete(key)
    else m = make()
    this.#entries.set(key, m)
    m.catch(() => { if (this.#entries.get(key) === m) this.#entries.delete(key) })
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!)
    return m
  }

  /** Puts `m` in place of what is kept for (id, variant), if anything still is (a better build of the same module). */
  replace(id: string, variant: string, m: Promise<M>): void {
    const key = `${id}|${variant}`
    if (this.#entries.has(key)) this.#entries.set(key, m)
  }
}
