// Per-peer inbound budgets for gossipsub streams: what one peer may make this host read
// and verify each second, enforced before gossipsub decodes or verifies anything.
//
// Why (measured with host.pubsub.flood): gossipsub verifies a message's signature before
// topic validators run (@libp2p/gossipsub dist/src/gossipsub.js, validateReceivedMessage:
// validateToRawMessage, then topicValidators), and reads every inbound stream as fast as
// the socket delivers (yamux grants window on receipt, not on consumption: @libp2p/yamux
// dist/src/stream.js, handleData → sendWindowUpdate). A flooder faster than this host can
// verify therefore keeps its event loop busy for seconds at a time (libuv reads a socket
// up to 32 times per poll), the flood limit in the validators only sees frames at the rate
// they are verified (below the limit: nothing cut), and libp2p's connection monitor,
// whose pings wait behind the flood, aborts the connections to well-behaved neighbours
// (libp2p dist/src/connection-monitor.js: conn.abort on a ping timeout) — everything they
// publish until they reconnect is lost.
//
// Here each peer has token buckets of RPCs and bytes; a chunk that overdraws them pauses
// the peer's stream until they refill. A paused yamux stream grants no window, so the
// peer's excess waits in its own buffers and the host reads it at the budget's pace.

import type { Connection, PeerId, Stream } from '@libp2p/interface'

export interface InboundBudget {
  /** Gossipsub RPCs (length-prefixed frames, each usually one message) one peer may send per second. */
  rpcsPerSecond: number
  /** Bytes one peer may send per second on its gossipsub streams. */
  bytesPerSecond: number
  /** How many seconds' worth a peer may send at once after a quiet spell. */
  burstSeconds: number
}

/** What one peer sent and how often its streams were paused. */
export interface InboundStats {
  rpcs: number
  bytes: number
  pauses: number
}

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
  readonly #timers = new Set<ReturnType<typeof setTimeout>>()
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
      await this.#registrar.handle(protocol, (stream, connection) => {
        const r = handler(stream, connection)
        this.#meter(stream, connection.remotePeer)
        return r
      }, { ...options, force: true })
    }
  }

  stop(): void {
    for (const t of this.#timers) clearTimeout(t)
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

  #meter(stream: Stream, peer: PeerId): void {
    // A 'message' listener takes the stream's data when it is the only one: start counting
    // once gossipsub reads the stream (it subscribes as its read loop starts).
    if (stream.status !== 'open') return
    if (stream.listenerCount('message') === 0) { setImmediate(() => this.#meter(stream, peer)); return }
    const key = peer.toString()
    const counter = new FrameCounter()
    stream.addEventListener('message', (e) => {
      let p = this.#peers.get(key)
      if (!p) this.#peers.set(key, p = new PeerBudget(this.#budget, this.#now()))
      let rpcs = 0
      const data = e.data
      if (data instanceof Uint8Array) rpcs = counter.feed(data)
      else for (const buf of data) rpcs += counter.feed(buf)
      const waitMs = p.spend(rpcs, data.byteLength, this.#now())
      if (waitMs === 0 || stream.readStatus !== 'readable') return
      p.stats.pauses++
      stream.pause()
      const t = setTimeout(() => {
        this.#timers.delete(t)
        if (stream.readStatus === 'paused') stream.resume()
      }, Math.ceil(waitMs))
      this.#timers.add(t)
    })
  }
}

/** The service factory for createLibp2p's `services`. */
export function inboundBudgets(budget: InboundBudget): (components: { registrar: HandlerRegistrar }) => InboundBudgets {
  return (components) => new InboundBudgets(components.registrar, budget)
}
