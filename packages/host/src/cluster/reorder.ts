/**
 * Restores per-publisher order for one (publisher, topic): gossipsub may deliver a
 * message relayed by a third host before the publisher's own copy of an earlier one.
 * Out-of-order messages wait up to `windowMs` for the gap to fill; then the gap is
 * skipped and counted, so a lost message never stalls a stream.
 */
export class Reorder {
  #expected: number | undefined
  readonly #held = new Map<number, Uint8Array>()
  #timer: ReturnType<typeof setTimeout> | undefined
  gaps = 0
  constructor(
    private readonly deliver: (seq: number, data: Uint8Array) => void,
    private readonly windowMs: number,
    private readonly maxHeld = 4096,
  ) {}

  accept(seq: number, data: Uint8Array): void {
    if (this.#expected === undefined) this.#expected = seq
    if (seq < this.#expected) return // duplicate, or too late
    if (seq === this.#expected) {
      this.deliver(seq, data)
      this.#expected++
      this.#flush()
      return
    }
    this.#held.set(seq, data)
    if (this.#held.size > this.maxHeld) this.#skip()
    else this.#timer ??= setTimeout(() => { this.#timer = undefined; this.#skip() }, this.windowMs)
  }

  #flush(): void {
    let d: Uint8Array | undefined
    while ((d = this.#held.get(this.#expected!)) !== undefined) {
      this.#held.delete(this.#expected!)
      this.deliver(this.#expected!, d)
      this.#expected!++
    }
    if (this.#held.size === 0 && this.#timer) { clearTimeout(this.#timer); this.#timer = undefined }
  }

  #skip(): void {
    if (this.#held.size === 0) return
    this.#expected = Math.min(...this.#held.keys())
    this.gaps++
    this.#flush()
    if (this.#held.size > 0) this.#timer ??= setTimeout(() => { this.#timer = undefined; this.#skip() }, this.windowMs)
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#held.clear()
  }
}
