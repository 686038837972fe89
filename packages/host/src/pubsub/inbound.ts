// Per-peer inbound budgets for gossipsub streams: what one peer may make this host read
// and verify each second and each event-loop turn, enforced before gossipsub decodes or
// verifies anything.
//
// Why (measured with host.pubsub.flood): gossipsub verifies a message's signature before
// topic validators run (@libp2p/gossipsub dist/src/gossipsub.js, validateReceivedMessage:
// validateToRawMessage, then topicValidators), reads a stream through an unbounded queue
// and handles each chunk it gets in microtasks of one event-loop turn (the signature check
// is synchronous). A peer whose stream delivers a large chunk — after a pause, the whole
// backlog at once — thus holds the event loop for as long as verifying it takes; on a
// loaded 2-core machine (~0.35 ms a signature) a flooder below the per-second budget but
// above what the host can verify made the backlog grow for seconds, and libp2p's
// connection monitor, whose pings waited behind it, aborted the connections to
// well-behaved neighbours (libp2p dist/src/connection-monitor.js: conn.abort on a ping
// timeout) — everything they published until they reconnected was lost.
//
// So gossipsub reads each inbound stream through a reader here: slices of at most
// TURN_BYTES (a signed message is over 100 bytes: that bounds the signature checks of one
// slice), the event loop's turn once a stream has held it TURN_MS, a wait when the peer's
// token buckets of RPCs and bytes per second are overdrawn, and the stream paused while
// more than HIGH_WATER_BYTES wait to be read (a paused yamux stream grants no window: the
// peer's excess waits in its own buffers).

import type { Connection, PeerId, Stream } from '@libp2p/interface'

export interface InboundBudget {
  /** Gossipsub RPCs (length-prefixed frames, each usually one message) one peer may send per second. */
  rpcsPerSecond: number
  /** Bytes one peer may send per second on its gossipsub streams. */
  bytesPerSecond: number
  /** How many seconds' worth a peer may send at once after a quiet spell. */
  burstSeconds: number
}

/** What one peer sent and how often its streams waited for its budget. */
export interface InboundStats {
  rpcs: number
  bytes: number
  pauses: number
}

/**
 * Bytes of one peer's gossipsub stream handed to gossipsub at once: ~80 signed one-message
 * RPCs, ~30 ms of signature checks on a loaded 2-core machine (host.pubsub.flood).
 */
const TURN_BYTES = 16 * 1024
/**
 * How long one stream's data may hold the event loop before other peers' sockets, timers
 * and pings get a turn (checked between slices). Yielding after every slice instead let a
 * flooder in the same process as the host starve its own sends (pubsub-flood.test.ts).
 */
const TURN_MS = 10
/** Bytes read from one stream and not yet passed to gossipsub above which the stream is paused. */
const HIGH_WATER_BYTES = 256 * 1024

/**
 * Counts length-prefixed frames (unsigned varint length, then that many bytes) across
 * chunk boundaries without copying: the framing gossipsub's streams use.
 */
export class FrameCounter {
  #skip = 0 // bytes of the current frame's body still to pass
  #len = 0
  #shift = 0

  /** How many frames begin in `chunk` (a frame counts when its length prefix is complete). */
  feed(chunk: Uint8Array): number {
    let frames = 0
    let i = 0
    const n = chunk.byteLength
    while (i < n) {
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, n - i)
        i += take
        this.#skip -= take
        continue
      }
      const b = chunk[i++]!
      this.#len += (b & 0x7f) * 2 ** this.#shift
      this.#shift += 7
      if ((b & 0x80) === 0 || this.#shift > 49) { // a prefix over 7 bytes: malformed, gossipsub drops the stream
        frames++
        this.#skip = this.#len
        this.#len = 0
        this.#shift = 0
      }
    }
    return frames
  }
}

class PeerBudget {
  readonly stats: InboundStats = { rpcs: 0, bytes: 0, pauses: 0 }
  #rpcs: number
  #bytes: number
  #at: number
  constructor(private readonly budget: InboundBudget, now: number) {
    this.#rpcs = budget.rpcsPerSecond * budget.burstSeconds
    this.#bytes = budget.bytesPerSecond * budget.burstSeconds
    this.#at = now
  }

  get lastAt(): number { return this.#at }

  /** Takes what a chunk cost; returns how long (ms) the peer must wait to be back in credit (0: not overdrawn). */
  spend(rpcs: number, bytes: number, now: number): number {
    const b = this.budget
    const s = (now - this.#at) / 1000
    this.#at = now
    this.#rpcs = Math.min(b.rpcsPerSecond * b.burstSeconds, this.#rpcs + s * b.rpcsPerSecond) - rpcs
    this.#bytes = Math.min(b.bytesPerSecond * b.burstSeconds, this.#bytes + s * b.bytesPerSecond) - bytes
    this.stats.rpcs += rpcs
    this.stats.bytes += bytes
    return Math.max(0, -this.#rpcs / b.rpcsPerSecond, -this.#bytes / b.bytesPerSecond) * 1000
  }
}

/** The registrar calls a gossipsub service gets (the slice of @libp2p/interface-internal's Registrar used here). */
interface HandlerRegistrar {
  getProtocols(): string[]
  getHandler(protocol: string): { handler: (stream: Stream, connection: Connection) => void | Promise<void>; options: object }
  handle(protocol: string, handler: (stream: Stream, connection: Connection) => void | Promise<void>, options?: object): Promise<void>
}

const GOSSIP_PROTOCOL = /^\/(meshsub|floodsub)\//

/**
 * A libp2p service (`services: { inbound: inboundBudgets(budget) }`) that, once every
 * service has started, wraps the gossipsub protocols' stream handlers so each inbound
 * stream is metered against its peer's budget.
 */
export class InboundBudgets {
  readonly #registrar: HandlerRegistrar
  readonly #budget: InboundBudget
  readonly #peers = new Map<string, PeerBudget>()
  readonly #timers = new Map<ReturnType<typeof setTimeout>, () => void>()
  #stopped = false
  readonly #now: () => number

  constructor(registrar: HandlerRegistrar, budget: InboundBudget, now: () => number = performance.now.bind(performance)) {
    for (const k of ['rpcsPerSecond', 'bytesPerSecond', 'burstSeconds'] as const) {
      if (!(Number.isFinite(budget[k]) && budget[k] > 0)) throw new RangeError(`inbound budget ${k} must be a number above 0, got ${budget[k]}`)
    }
    this.#registrar = registrar
    this.#budget = budget
    this.#now = now
  }

  start(): void {}

  async afterStart(): Promise<void> {
    for (const protocol of this.#registrar.getProtocols().filter((p) => GOSSIP_PROTOCOL.test(p))) {
      const { handler, options } = this.#registrar.getHandler(protocol)
      await this.#registrar.handle(protocol, (stream, connection) => handler(this.#metered(stream, connection.remotePeer), connection), { ...options, force: true })
    }
  }

  stop(): void {
    this.#stopped = true
    for (const [t, resolve] of this.#timers) { clearTimeout(t); resolve() }
    this.#timers.clear()
  }

  /** Per peer: what it sent on gossipsub streams and how often it was paused for it. */
  stats(): ReadonlyMap<string, Readonly<InboundStats>> {
    return new Map([...this.#peers].map(([k, p]) => [k, p.stats]))
  }

  /** Forgets peers gone for a minute (call now and then): their counts stay readable a while after a disconnect. */
  sweep(connected: (peer: string) => boolean): void {
    const now = this.#now()
    for (const [k, p] of this.#peers) if (!connected(k) && now - p.lastAt > 60_000) this.#peers.delete(k)
  }

  /**
   * `stream` as gossipsub reads it: the same stream, iterated through #read. Without its
   * event methods: @libp2p/utils's pipe, which gossipsub reads streams with, takes any
   * object that has them for a message stream and listens to its 'message' events itself.
   */
  #metered(stream: Stream, peer: PeerId): Stream {
    const read = (): AsyncGenerator<Uint8Array> => this.#read(stream, peer.toString())
    return new Proxy(stream, {
      get: (target, key) => {
        if (key === Symbol.asyncIterator) return read
        if (key === 'addEventListener' || key === 'removeEventListener') return undefined
        const v: unknown = Reflect.get(target, key, target)
        return typeof v === 'function' ? v.bind(target) : v
      },
    })
  }

  /**
   * The stream's data in slices of at most TURN_BYTES, each paid for from the peer's budget
   * before the next is passed on; after TURN_MS of them the event loop gets a turn.
   */
  async *#read(stream: Stream, key: string): AsyncGenerator<Uint8Array> {
    const queue: Uint8Array[] = []
    let queued = 0
    let ended = false
    let error: Error | undefined
    let wake: (() => void) | undefined
    const onMessage = (e: { data: Uint8Array | Iterable<Uint8Array> }): void => {
      const data = e.data
      if (data instanceof Uint8Array) { queue.push(data); queued += data.byteLength } else for (const b of data) { queue.push(b); queued += b.byteLength }
      if (queued > HIGH_WATER_BYTES && stream.readStatus === 'readable') stream.pause()
      wake?.()
    }
    const onClose = (e: Event): void => { ended = true; error = (e as Event & { error?: Error }).error; wake?.() }
    const onRemoteCloseWrite = (): void => { ended = true; wake?.() }
    stream.addEventListener('message', onMessage)
    stream.addEventListener('close', onClose)
    stream.addEventListener('remoteCloseWrite', onRemoteCloseWrite)
    const counter = new FrameCounter()
    let turnAt = this.#now() // when this stream's data began to hold the event loop
    try {
      for (;;) {
        if (queued <= HIGH_WATER_BYTES / 2 && stream.readStatus === 'paused') stream.resume()
        if (queued === 0) {
          if (ended) { if (error) throw error; return }
          await new Promise<void>((r) => { wake = r })
          wake = undefined
          turnAt = this.#now()
          continue
        }
        let slice = queue[0]!
        if (slice.byteLength > TURN_BYTES) { queue[0] = slice.subarray(TURN_BYTES); slice = slice.subarray(0, TURN_BYTES) } else queue.shift()
        queued -= slice.byteLength
        let p = this.#peers.get(key)
        if (!p) this.#peers.set(key, p = new PeerBudget(this.#budget, this.#now()))
        const waitMs = p.spend(counter.feed(slice), slice.byteLength, this.#now())
        yield slice
        if (waitMs > 0) {
          p.stats.pauses++
          await this.#pause(waitMs)
        } else if (this.#now() - turnAt >= TURN_MS) await this.#pause(0)
        else continue
        turnAt = this.#now()
      }
    } finally {
      stream.removeEventListener('message', onMessage)
      stream.removeEventListener('close', onClose)
      stream.removeEventListener('remoteCloseWrite', onRemoteCloseWrite)
    }
  }

  /** The next event-loop turn, or `ms` from now; at once once stopped. */
  #pause(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve()
    return new Promise((resolve) => {
      if (ms <= 0) { setImmediate(resolve); return }
      const t = setTimeout(() => { this.#timers.delete(t); resolve() }, Math.ceil(ms))
      this.#timers.set(t, resolve)
    })
  }
}

/** The service factory for createLibp2p's `services`. */
export function inboundBudgets(budget: InboundBudget): (components: { registrar: HandlerRegistrar }) => InboundBudgets {
  return (components) => new InboundBudgets(components.registrar, budget)
}
