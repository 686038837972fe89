// Revocation and accounting for everything one Host hands out. A Scope is revoked as a
// whole (its Revoker, or the process exiting), and revoking it revokes every scope made
// under it (attenuations of attenuations). Core handles a scope holds are registered with
// `hold`, freed on revocation, and counted so tests and `stats()` can see leaks.

import { revoked } from './errors.js'

/** Live core handles held by one Host's capabilities, by kind. */
export interface LiveCounts {
  anchors: number
  topics: number
  subscriptions: number
  watches: number
  provisions: number
}

export type HeldKind = keyof LiveCounts

export class Scope {
  #reason: string | undefined
  readonly #children = new Set<Scope>()
  readonly #held = new Set<() => void>()
  readonly counts: LiveCounts

  constructor(readonly parent?: Scope) {
    this.counts = parent?.counts ?? { anchors: 0, topics: 0, subscriptions: 0, watches: 0, provisions: 0 }
    if (parent !== undefined) {
      parent.#children.add(this)
      if (parent.#reason !== undefined) this.#reason = parent.#reason
    }
  }

  get revoked(): boolean { return this.#reason !== undefined }
  get reason(): string | undefined { return this.#reason }

  /** Throws ERR_REVOKED once revoked (the RPC exception the caller sees). */
  check(what: string): void {
    if (this.#reason !== undefined) throw revoked(`${what}: ${this.#reason}`)
  }

  child(): Scope { return new Scope(this) }

  /**
   * Registers a core resource; `free` runs once, on `release()` of the returned function
   * or on revocation, whichever comes first.
   */
  hold(kind: HeldKind, free: (reason: string | undefined) => void): (reason?: string) => void {
    const counts = this.counts
    let done = false
    const release = (reason?: string): void => {
      if (done) return
      done = true
      this.#held.delete(onRevoke)
      counts[kind]--
      free(reason)
    }
    const onRevoke = (): void => release(this.#reason)
    if (this.#reason !== undefined) {
      // Already revoked: never take the resource.
      counts[kind]++
      release(this.#reason)
      return release
    }
    counts[kind]++
    this.#held.add(onRevoke)
    return release
  }

  /** Calls `f` once if this scope is revoked; returns a function that unregisters it. */
  onRevoke(f: () => void): () => void {
    const g = (): void => f()
    this.#held.add(g)
    return () => { this.#held.delete(g) }
  }

  revoke(reason: string): void {
    if (this.#reason !== undefined) return
    this.#reason = reason || 'revoked'
    for (const c of [...this.#children]) c.revoke(this.#reason)
    this.#children.clear()
    for (const f of [...this.#held]) f()
    this.#held.clear()
    if (this.parent !== undefined) this.parent.#children.delete(this)
  }
}
