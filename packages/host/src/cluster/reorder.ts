import type { SeqRange } from '../pubsub/repair.js'

/** What a publisher answered to a repair: its entries asked for, and how far that answers. */
export interface RepairReply {
  /** The asked seqs it still had, in order. */
  entries: ReadonlyArray<{ seq: number; data: Uint8Array }>
  /** Asked seqs up to here it sent no entry for are gone. */
  through: number
  /** The publisher's last seq on the topic (0: not known). */
  head: number
}

/** Asks the publisher for `ranges`; undefined when it could not be asked or its answer was refused. */
export type RepairFetch = (ranges: SeqRange[]) => Promise<RepairReply | undefined>

/**
 * Asks the publisher for what it published before `first` (the first seq this stream saw)
 * since this host subscribed: the opening of a stream whose first messages were lost.
 */
export type OpeningFetch = (first: number) => Promise<RepairReply | undefined>

/**
 * Windows a stream waits for one repair before it stops waiting: the fetch bounds itself
 * (10 s: cluster/pubsub-repair.ts), so this is only the stream's own guarantee that a fetch
 * that never settles cannot hold it for good.
 */
const MAX_WINDOWS_PER_REPAIR = 10

/** Ranges one repair asks for at most (the request's bound: pubsub/repair.ts). */
const MAX_RANGES = 32

/**
 * Restores per-publisher order for one (publisher, topic) stream within one epoch of the
 * publisher: gossipsub may deliver a relayed copy before the publisher's own copy of an
 * earlier message, or lose one (at-most-once). The stream starts at the first message or
 * head it sees — or, with `open`, at the first of the messages the publisher says it
 * published since this host subscribed: what gossipsub lost before the first copy arrived
 * (a subscription not yet known to the publisher, a stream down) is not history. Until that
 * answer, what arrives is held.
 *
 * A seq known to be missing — a hole before a held message, or a head (batch.ts) past the
 * last delivered — is asked for from the publisher at once (`fetch`, when given); an answer
 * delivers what it still had and says what is gone, which is skipped and counted. Held
 * messages wait up to `windowMs` for a hole to fill; a repair in flight is waited for, a
 * failed one is tried again up to `maxAttempts` times, then the gap is skipped and counted,
 * so a lost message never stalls a stream. Each message is delivered once, in order.
 */
export class Reorder {
  #expected: number | undefined
  #head = 0 // the highest seq the publisher is known to have published
  readonly #held = new Map<number, Uint8Array>()
  /** Asked and answered as gone: skipped when reached. Bounded by one answer's ranges. */
  #gone: SeqRange[] = []
  #timer: ReturnType<typeof setTimeout> | undefined
  #fetching = false
  /** Windows passed while the current repair was out. */
  #waited = 0
  /** Bumped when a repair is given up on, so its late answer is ignored. */
  #generation = 0
  #failures = 0
  #closed = false
  /** The first seq seen while the opening request is out (undefined: not opening). */
  #opening: number | undefined
  /** Gaps skipped (one per run of missing seqs). */
  gaps = 0
  /** Messages delivered from a repair. */
  repaired = 0

  constructor(
    private readonly deliver: (seq: number, data: Uint8Array) => void,
    private readonly windowMs: number,
    private readonly maxHeld = 4096,
    private readonly fetch?: RepairFetch,
    private readonly maxAttempts = 3,
    private readonly open?: OpeningFetch,
  ) {}

  /** The seq to be delivered next (undefined before the first). */
  get expected(): number | undefined { return this.#expected }

  accept(seq: number, data: Uint8Array): void {
    if (this.#closed) return
    if (this.#expected === undefined) {
      if (this.#opening === undefined) this.#begin(seq)
      if (this.#opening !== undefined) {
        if (seq > this.#head) this.#head = seq
        this.#held.set(seq, data)
        if (this.#held.size > this.maxHeld) this.#opened(undefined) // no longer worth waiting for
        return
      }
    }
    if (seq < this.#expected!) return // duplicate, or too late
    if (seq > this.#head) this.#head = seq
    if (seq === this.#expected) {
      this.deliver(seq, data)
      this.#expected++
    } else {
      this.#held.set(seq, data)
      if (this.#held.size > this.maxHeld) this.#skip()
    }
    this.#advance()
  }

  /** The publisher had published up to `seq`: a tail not seen yet is missing. */
  head(seq: number): void {
    if (this.#closed) return
    if (this.#expected === undefined && this.#opening === undefined) this.#begin(seq + 1) // start after what is first seen
    if (seq > this.#head) this.#head = seq
    if (this.#opening === undefined) this.#advance()
  }

  /** The first seq this stream sees: start there, or ask what came before it since we subscribed. */
  #begin(first: number): void {
    if (this.open === undefined || first <= 1) { this.#expected = first; return }
    this.#opening = first
    this.open(first).then((reply) => this.#opened(reply), () => this.#opened(undefined))
    this.#timer = setTimeout(() => { this.#timer = undefined; this.#opened(undefined) }, this.windowMs * MAX_WINDOWS_PER_REPAIR)
  }

  /** The opening's answer (undefined: none): start at its first entry, or at the first seen. */
  #opened(reply: RepairReply | undefined): void {
    const first = this.#opening
    if (this.#closed || first === undefined || this.#expected !== undefined) return
    this.#opening = undefined
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined }
    let start = first
    for (const { seq, data } of reply?.entries ?? []) {
      if (seq >= first || this.#held.has(seq)) continue
      this.#held.set(seq, data)
      this.repaired++
      if (seq < start) start = seq
    }
    // A copy of an earlier message that gossipsub brought while we asked starts it too.
    for (const s of this.#held.keys()) if (s < start) start = s
    if (reply !== undefined && reply.head > this.#head) this.#head = reply.head
    this.#expected = start
    this.#advance()
  }

  /**
   * Asks the publisher for everything after what was delivered (its head comes back with
   * it): after a reconnect, when the last messages may have been lost with no later one to
   * show it. Nothing when a repair is already under way or nothing was seen yet.
   */
  probe(): void {
    if (this.#closed || this.#fetching || this.#expected === undefined || this.fetch === undefined) return // opening: its answer comes
    this.#repair([[this.#expected, Number.MAX_SAFE_INTEGER]])
  }

  /** Delivers what is next in order, skipping what was answered as gone; then waits or asks for what is missing. */
  #advance(): void {
    for (;;) {
      const e = this.#expected!
      const d = this.#held.get(e)
      if (d !== undefined) {
        this.#held.delete(e)
        this.deliver(e, d)
        this.#expected = e + 1
        continue
      }
      const g = this.#gone.find(([from, to]) => from <= e && e <= to)
      if (g === undefined || e > this.#head) break
      // To the end of the run answered as gone, or to a copy that arrived after all.
      let next = Math.min(g[1], this.#head) + 1
      for (const s of this.#held.keys()) if (s < next) next = s
      this.#skipTo(next)
    }
    this.#gone = this.#gone.filter(([, to]) => to >= this.#expected!)
    if (this.#expected! > this.#head) { // nothing missing
      if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined }
      this.#failures = 0
      return
    }
    if (this.fetch && !this.#fetching && this.#failures === 0) this.#repair(this.#missing())
    this.#timer ??= setTimeout(this.#onWindow, this.windowMs)
  }

  readonly #onWindow = (): void => {
    this.#timer = undefined
    if (this.#closed || this.#expected! > this.#head) return
    if (this.#fetching) { // its answer decides, unless it never comes
      if (++this.#waited < MAX_WINDOWS_PER_REPAIR) { this.#timer = setTimeout(this.#onWindow, this.windowMs); return }
      this.#fetching = false
      this.#generation++
      this.#failures++
    }
    if (this.fetch && this.#failures < this.maxAttempts) this.#repair(this.#missing())
    else { this.#failures = 0; this.#skip() }
    if (this.#expected! <= this.#head) this.#timer ??= setTimeout(this.#onWindow, this.windowMs)
  }

  /** The runs of missing seqs from the next expected up to the head, at most MAX_RANGES. */
  #missing(): SeqRange[] {
    const held = [...this.#held.keys()].sort((a, b) => a - b)
    const out: SeqRange[] = []
    let from = this.#expected!
    for (const s of held) {
      if (s > from) out.push([from, s - 1])
      from = s + 1
      if (out.length === MAX_RANGES) return out
    }
    if (from <= this.#head) out.push([from, this.#head])
    return out
  }

  #repair(ranges: SeqRange[]): void {
    if (ranges.length === 0) return
    this.#fetching = true
    this.#waited = 0
    const generation = this.#generation
    this.fetch!(ranges).then((reply) => {
      if (generation !== this.#generation) return // given up on
      this.#fetching = false
      if (this.#closed) return
      if (reply === undefined) { this.#failed(); return }
      const before = this.#expected
      if (reply.head > this.#head) this.#head = reply.head
      let added = 0
      for (const { seq, data } of reply.entries) {
        if (seq >= this.#expected! && !this.#held.has(seq)) { this.#held.set(seq, data); added++ }
      }
      this.repaired += added
      const through = Math.min(reply.through, this.#head)
      this.#gone = ranges.filter(([from]) => from <= through).map(([from, to]) => [from, Math.min(to, through)] as const)
      // An answer that moved nothing counts as a failure, so a gap is not asked for in a loop.
      this.#failures = added === 0 && this.#gone.length === 0 ? this.#failures + 1 : 0
      this.#advance()
      if (this.#expected === before && this.#failures > 0) this.#timer ??= setTimeout(this.#onWindow, this.windowMs)
    }, () => {
      if (generation !== this.#generation) return
      this.#fetching = false
      this.#failed()
    })
  }

  /** A repair that could not be made: tried again when the window ends (up to maxAttempts), then skipped. */
  #failed(): void {
    if (this.#closed) return
    this.#failures++
    if (this.#expected! <= this.#head) this.#timer ??= setTimeout(this.#onWindow, this.windowMs)
  }

  /** Skips the first run of missing seqs (to the next held one, else past the head), counted. */
  #skip(): void {
    let next = this.#head + 1
    for (const s of this.#held.keys()) if (s < next) next = s
    if (next > this.#expected!) this.#skipTo(next)
    this.#advance()
  }

  #skipTo(seq: number): void {
    this.#expected = seq
    this.gaps++
  }

  close(): void {
    this.#closed = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#held.clear()
  }
}
