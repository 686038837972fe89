// Flood limits for pubsub between hosts: each publisher may send so many messages and
// bytes per second on one topic. Every host enforces them on what it receives (in its
// gossipsub validators, so a message over the limit is neither delivered nor relayed) and
// on what its own publishers send (they get ERR_RATE_LIMITED instead of being dropped
// further on). A peer that keeps sending over the limit loses gossipsub score (P5, the
// application-specific score): below the graylist threshold gossipsub ignores its RPCs
// before verifying their signatures, which is what keeps a flood's cost off its
// neighbours' deliveries.

export interface FloodLimit {
  /** Messages one publisher may send per second on one topic, sustained. */
  messagesPerSecond: number
  /** Payload bytes one publisher may send per second on one topic, sustained. */
  bytesPerSecond: number
  /**
   * Network messages (gossipsub messages, each a batch of pubsub messages) one publisher
   * may send per second on one topic: each costs its receivers a signature check whatever
   * it holds. A host's own batcher sends at most half this many by time, so its publishers
   * never reach it.
   */
  framesPerSecond: number
  /** A publisher may send this many seconds' worth at once (a burst) after a quiet spell. */
  burstSeconds: number
  /**
   * Gossipsub RPCs one peer (whatever it publishes or relays) may send per second before
   * its stream is paused (src/pubsub/inbound.ts): enforced before signatures are checked,
   * so a flood costs a host at most this much verification per peer.
   */
  peerRpcsPerSecond: number
  /** Bytes one peer may send per second on its gossipsub streams before they are paused. */
  peerBytesPerSecond: number
}

/**
 * Messages and bytes: well above what one host's publisher sends in normal use. Frames:
 * each costs a receiver a signature check, and a loaded 2-core machine fell behind a
 * flooder sending ~800 a second (host.pubsub.flood: the neighbour's messages queued
 * behind the flood's) — a host's own publishers send at most 250 a second by time
 * (one batch per 4 ms), however many messages those batches hold.
 */
export const DEFAULT_FLOOD_LIMIT: FloodLimit = {
  messagesPerSecond: 20_000, bytesPerSecond: 32 * 1024 * 1024, framesPerSecond: 500, burstSeconds: 1,
  // A peer relays others' messages too: room for four publishers at their limits.
  peerRpcsPerSecond: 2000, peerBytesPerSecond: 128 * 1024 * 1024,
}

/**
 * Receivers allow this many seconds more than a publisher's own burst: messages sent
 * evenly can arrive bunched after a network or event-loop stall.
 */
export const RECEIVE_SLACK_SECONDS = 1

/** Why a local publisher's message was refused (RateLimitedError's text). */
export const overLimit = (topic: string, l: FloodLimit): string =>
  `publish on ${topic}: over the flood limit of ${l.messagesPerSecond} messages and ${l.bytesPerSecond} bytes per second per publisher; slow down and retry`

/** What the limiter dropped from one peer. */
export interface FloodDrops {
  /** Network messages (gossipsub messages, each a batch) dropped. */
  frames: number
  /** Pubsub messages inside them. */
  messages: number
  bytes: number
}

export function checkFloodLimit(l: FloodLimit): FloodLimit {
  for (const k of ['messagesPerSecond', 'bytesPerSecond', 'framesPerSecond', 'burstSeconds', 'peerRpcsPerSecond', 'peerBytesPerSecond'] as const) {
    if (!(Number.isFinite(l[k]) && l[k] > 0)) throw new RangeError(`flood limit ${k} must be a number above 0, got ${l[k]}`)
  }
  return l
}

/**
 * Token buckets (frames, messages, bytes) filling at the limit's rates up to `capacity`
 * seconds' worth. A take succeeds when each bucket holds what it takes, or is full: a
 * frame larger than a whole burst is not refused forever, only paid for afterwards.
 */
class Bucket {
  #frames: number
  #messages: number
  #bytes: number
  #at: number
  constructor(private readonly limit: FloodLimit, private readonly capacity: number, now: number) {
    this.#frames = limit.framesPerSecond * capacity
    this.#messages = limit.messagesPerSecond * capacity
    this.#bytes = limit.bytesPerSecond * capacity
    this.#at = now
  }

  take(frames: number, messages: number, bytes: number, now: number): boolean {
    this.#refill(now)
    const l = this.limit, c = this.capacity
    if (this.#frames < Math.min(frames, l.framesPerSecond * c) || this.#messages < Math.min(messages, l.messagesPerSecond * c) ||
      this.#bytes < Math.min(bytes, l.bytesPerSecond * c)) return false
    this.#frames -= frames
    this.#messages -= messages
    this.#bytes -= bytes
    return true
  }

  /** Full again: nothing to remember. */
  idle(now: number): boolean {
    this.#refill(now)
    const l = this.limit, c = this.capacity
    return this.#frames >= l.framesPerSecond * c && this.#messages >= l.messagesPerSecond * c && this.#bytes >= l.bytesPerSecond * c
  }

  #refill(now: number): void {
    const s = (now - this.#at) / 1000
    this.#at = now
    const l = this.limit, c = this.capacity
    this.#frames = Math.min(l.framesPerSecond * c, this.#frames + s * l.framesPerSecond)
    this.#messages = Math.min(l.messagesPerSecond * c, this.#messages + s * l.messagesPerSecond)
    this.#bytes = Math.min(l.bytesPerSecond * c, this.#bytes + s * l.bytesPerSecond)
  }
}

/** How much of a peer's score one dropped frame costs; halves every second. */
const PENALTY_HALF_LIFE_MS = 1000

/**
 * Per-publisher, per-topic flood limits: `admit` for what arrives (keyed by its author),
 * `admitLocal` for what this host's publishers send, counters of what was dropped, and a
 * penalty per peer for gossipsub's score.
 */
export class FloodLimiter {
  readonly limit: FloodLimit
  readonly #buckets = new Map<string, Bucket>() // `${author} ${topic}`
  readonly #local = new Map<string, Bucket>() // topic
  readonly #drops = new Map<string, FloodDrops>()
  readonly #penalty = new Map<string, { value: number; at: number }>()
  readonly #now: () => number

  constructor(limit: FloodLimit, now: () => number = performance.now.bind(performance)) {
    this.limit = checkFloodLimit(limit)
    this.#now = now
  }

  /**
   * Whether a frame of `messages` messages and `bytes` bytes from `author` on `topic` is
   * within the limit; if not it is counted against the author, and against its score when
   * `direct` (the author handed it to us itself, no relay in between).
   */
  admit(author: string, topic: string, messages: number, bytes: number, direct: boolean): boolean {
    const now = this.#now()
    const key = `${author} ${topic}`
    let b = this.#buckets.get(key)
    if (!b) this.#buckets.set(key, b = new Bucket(this.limit, this.limit.burstSeconds + RECEIVE_SLACK_SECONDS, now))
    if (b.take(1, messages, bytes, now)) return true
    let d = this.#drops.get(author)
    if (!d) this.#drops.set(author, d = { frames: 0, messages: 0, bytes: 0 })
    d.frames++
    d.messages += messages
    d.bytes += bytes
    if (direct) this.#penalty.set(author, { value: this.penalty(author, now) + 1, at: now })
    return false
  }

  /** Whether this host's own publisher may send `bytes` more on `topic` now. */
  admitLocal(topic: string, bytes: number): boolean {
    const now = this.#now()
    let b = this.#local.get(topic)
    if (!b) this.#local.set(topic, b = new Bucket(this.limit, this.limit.burstSeconds, now))
    return b.take(0, 1, bytes, now)
  }

  /** The dropped-frame penalty of `peer`, decayed to now (0 for a peer within its limits). */
  penalty(peer: string, now = this.#now()): number {
    const p = this.#penalty.get(peer)
    if (!p) return 0
    const v = p.value * 0.5 ** ((now - p.at) / PENALTY_HALF_LIFE_MS)
    return v < 0.01 ? 0 : v
  }

  /** What was dropped, per author. */
  drops(): ReadonlyMap<string, Readonly<FloodDrops>> {
    return this.#drops
  }

  /** Forgets buckets that are full again and penalties that have decayed (call now and then). */
  sweep(): void {
    const now = this.#now()
    for (const [k, b] of this.#buckets) if (b.idle(now)) this.#buckets.delete(k)
    for (const [k, b] of this.#local) if (b.idle(now)) this.#local.delete(k)
    for (const k of this.#penalty.keys()) if (this.penalty(k, now) === 0) this.#penalty.delete(k)
  }
}
