import { ReleasedError, RevokedError } from './errors.js'

/**
 * A revocation switch. Whoever holds the Revoker can cut off every handle guarded by it;
 * guarded handles then fail with ERR_REVOKED on every call.
 */
export class Revoker {
  #revoked = false
  #onRevoke: Array<() => void> = []
  get revoked(): boolean { return this.#revoked }
  revoke(): void {
    if (this.#revoked) return
    this.#revoked = true
    for (const f of this.#onRevoke.splice(0)) f()
  }
  /** Throws ERR_REVOKED once revoked. */
  check(what?: string): void { if (this.#revoked) throw new RevokedError(what) }
  onRevoke(f: () => void): void { if (this.#revoked) f(); else this.#onRevoke.push(f) }
}

/**
 * Wraps `target` so that every method call goes through `revoker.check()` first: the
 * wrapper is what is handed out, the target never is. Property reads of non-functions
 * also fail once revoked, so nothing leaks through a revoked handle.
 */
export function revocable<T extends object>(target: T, revoker: Revoker, what = 'capability'): T {
  return new Proxy(target, {
    get(t, key) {
      revoker.check(what)
      const v: unknown = Reflect.get(t, key, t)
      if (typeof v !== 'function') return v
      return (...args: unknown[]) => {
        revoker.check(what)
        return (v as (...a: unknown[]) => unknown).apply(t, args)
      }
    },
    set() { return false },
  })
}

/**
 * A reference count with a callback at zero: capabilities that share one resource each
 * retain it, and the last release frees it. Releasing more than retained is an error.
 */
export class RefCount {
  #n = 0
  readonly #free: () => void
  constructor(free: () => void) { this.#free = free }
  get count(): number { return this.#n }
  retain(): void { this.#n++ }
  release(): void {
    if (this.#n <= 0) throw new ReleasedError('reference')
    if (--this.#n === 0) this.#free()
  }
}

/** A handle that can be released once; later calls fail with ERR_RELEASED. */
export class Once {
  #released = false
  get released(): boolean { return this.#released }
  /** Returns true the first time, false after. */
  take(): boolean { if (this.#released) return false; this.#released = true; return true }
  check(what?: string): void { if (this.#released) throw new ReleasedError(what) }
}
