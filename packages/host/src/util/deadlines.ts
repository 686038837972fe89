// One timer for the timeouts of many calls that share the same bound.
//
// Why: a PeerLink call armed and cleared its own setTimeout (plus a Promise.race and an
// error-message string) per call — measured ~5 µs CPU of a ~60 µs host-to-host null call.
// With one fixed timeout, deadlines fall in the order calls started, so the earliest
// pending deadline is the first entry of an insertion-ordered Set: one timer, re-armed
// for that entry when it fires, expires everything due. A call still never outlives its
// bound; it may end up to one timer period later only if the event loop itself is late.

export interface Deadline {
  readonly at: number
  readonly expire: () => void
}

export class Deadlines {
  readonly timeoutMs: number
  readonly #pending = new Set<Deadline>()
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs
  }

  /** Tracks a call that must end within `timeoutMs`; `expire` runs if it has not by then. */
  add(expire: () => void): Deadline {
    const d = { at: performance.now() + this.timeoutMs, expire }
    this.#pending.add(d)
    if (this.#timer === undefined) this.#arm(this.timeoutMs)
    return d
  }

  /** The call ended: true if it was still pending (had not expired). */
  settle(d: Deadline): boolean {
    return this.#pending.delete(d)
  }

  /** Calls pending. */
  get size(): number { return this.#pending.size }

  /** Forgets every pending call (their `expire` will not run) and stops the timer. */
  clear(): void {
    this.#pending.clear()
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #arm(ms: number): void {
    // Unref'd: a pending call is kept alive by its connection, not by its timeout.
    this.#timer = setTimeout(this.#fire, Math.max(0, ms))
    this.#timer.unref?.()
  }

  readonly #fire = (): void => {
    this.#timer = undefined
    const now = performance.now()
    for (const d of this.#pending) {
      if (d.at > now) { this.#arm(d.at - now); return }
      this.#pending.delete(d)
      d.expire()
    }
  }
}
