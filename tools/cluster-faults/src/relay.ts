// A TCP relay that stands for a network link: it forwards every connection it accepts to
// one target, delaying each chunk (delay ± jitter, order kept), resetting connections at
// random, and refusing or cutting sources on a blocked list (a partition). The kernel here
// has no netem qdisc and no iptables, so link faults are made in user space, here.
import { createServer, connect, type Server, type Socket } from 'node:net'

export interface LinkFaults {
  /** Added one way, to every chunk; the round trip pays it twice. */
  delayMs: number
  /** Each chunk's delay is delayMs ± a uniform draw up to this; order is kept regardless. */
  jitterMs: number
  /** Expected connection resets per second over all of the relay's connections. */
  resetsPerSec: number
}

export const CLEAN_LINK: LinkFaults = { delayMs: 0, jitterMs: 0, resetsPerSec: 0 }

export interface RelayOptions {
  listen: { host: string; port: number }
  target: { host: string; port: number }
  faults?: Partial<LinkFaults>
  /** Deterministic draws for a repeatable run (default Math.random). */
  random?: () => number
}

export interface RelayStats {
  accepted: number
  refused: number
  resets: number
  bytesForwarded: number
  open: number
}

export class Relay implements AsyncDisposable {
  readonly stats: RelayStats = { accepted: 0, refused: 0, resets: 0, bytesForwarded: 0, open: 0 }
  #faults: LinkFaults
  readonly #blocked = new Set<string>()
  readonly #pairs = new Set<{ a: Socket; b: Socket; source: string }>()
  readonly #held = new Set<Socket>()
  readonly #random: () => number
  #resetTimer: NodeJS.Timeout | undefined
  /** 'all', or the source addresses whose connections have fallen silent */
  #frozen: 'all' | Set<string> = new Set()

  private constructor(readonly server: Server, readonly options: RelayOptions) {
    this.#faults = { ...CLEAN_LINK, ...options.faults }
    this.#random = options.random ?? Math.random
    server.on('connection', (a) => this.#accept(a))
    this.#scheduleReset()
  }

  static async start(options: RelayOptions): Promise<Relay> {
    const server = createServer({ noDelay: true })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.listen.port, options.listen.host, () => { server.off('error', reject); resolve() })
    })
    return new Relay(server, options)
  }

  get port(): number {
    const a = this.server.address()
    return typeof a === 'object' && a !== null ? a.port : 0
  }

  /** Changes the link's faults for chunks and resets from now on. */
  setFaults(faults: Partial<LinkFaults>): void {
    this.#faults = { ...this.#faults, ...faults }
    this.#scheduleReset()
  }

  /** Refuses new connections from these source addresses and cuts the open ones (a partition). */
  block(sources: Iterable<string>): void {
    for (const s of sources) this.#blocked.add(s)
    for (const p of [...this.#pairs]) if (this.#blocked.has(p.source)) this.#cut(p, false)
  }

  /**
   * The far end (or these sources) falls silent, as a machine that lost power: connections stay open, nothing
   * is forwarded either way, new ones are accepted and never answered. Only timeouts (the
   * membership TTL, pings) can tell.
   */
  freeze(sources?: Iterable<string>): void {
    if (sources === undefined) this.#frozen = 'all'
    else if (this.#frozen !== 'all') for (const s of sources) this.#frozen.add(s)
  }

  #isFrozen(source: string): boolean {
    return this.#frozen === 'all' || this.#frozen.has(source)
  }

  /** Lets every source in again (the partition heals). */
  unblock(): void {
    this.#blocked.clear()
  }

  async close(): Promise<void> {
    clearTimeout(this.#resetTimer)
    for (const p of [...this.#pairs]) this.#cut(p, false)
    for (const a of this.#held) a.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  async [Symbol.asyncDispose](): Promise<void> { await this.close() }

  #accept(a: Socket): void {
    const source = normalize(a.remoteAddress ?? '')
    if (this.#blocked.has(source)) {
      this.stats.refused++
      a.resetAndDestroy()
      return
    }
    this.stats.accepted++
    if (this.#isFrozen(source)) {
      a.on('error', () => a.destroy())
      a.pause() // held, unanswered
      this.#held.add(a)
      a.once('close', () => this.#held.delete(a))
      return
    }
    const b = connect({ host: this.options.target.host, port: this.options.target.port, noDelay: true })
    const pair = { a, b, source }
    this.#pairs.add(pair)
    this.stats.open++
    this.#pipe(a, b, source)
    this.#pipe(b, a, source)
    // A frozen link does not pass on a close either: the other end keeps waiting.
    const end = (): void => { if (this.#isFrozen(source)) this.#hold(pair); else this.#cut(pair, false) }
    a.on('error', end).on('close', end)
    b.on('error', end).on('close', end)
  }

  /** Forwards `from` → `to`, each chunk after its delay, never reordered. */
  #pipe(from: Socket, to: Socket, source: string): void {
    let lastDue = 0
    const queue: { due: number; chunk: Buffer }[] = []
    let timer: NodeJS.Timeout | undefined
    let ended = false
    const flush = (): void => {
      timer = undefined
      const now = performance.now()
      while (queue.length > 0 && queue[0]!.due <= now) {
        const { chunk } = queue.shift()!
        this.stats.bytesForwarded += chunk.byteLength
        if (!to.destroyed) to.write(chunk)
      }
      if (queue.length > 0) timer = setTimeout(flush, queue[0]!.due - now)
      else if (ended) to.end()
      else if (from.isPaused()) from.resume()
    }
    from.on('data', (chunk: Buffer) => {
      if (this.#isFrozen(source)) return // dropped on the floor, the connection left open
      const { delayMs, jitterMs } = this.#faults
      if (delayMs === 0 && jitterMs === 0 && queue.length === 0) {
        this.stats.bytesForwarded += chunk.byteLength
        if (!to.write(chunk)) { from.pause(); to.once('drain', () => from.resume()) }
        return
      }
      const due = Math.max(lastDue, performance.now() + Math.max(0, delayMs + (this.#random() * 2 - 1) * jitterMs))
      lastDue = due
      queue.push({ due, chunk })
      if (queue.length > 256) from.pause() // bounded: a slow link pushes back on its sender
      if (timer === undefined) timer = setTimeout(flush, Math.max(0, due - performance.now()))
    })
    // The sender's end follows what it sent (each chunk still waits its delay). A close of
    // the sender does not drop what is on its way; a close of the receiver does. (Before:
    // the sender's close cleared the delay timer while a 5 ms retry waited for the queue to
    // drain, forever — a timer that kept the test process alive after its last test.)
    from.on('end', () => {
      if (this.#isFrozen(source)) return
      ended = true
      if (queue.length === 0) to.end()
    })
    to.on('close', () => { clearTimeout(timer); timer = undefined; queue.length = 0 })
  }

  /** Keeps whichever side of a frozen pair is still open, silent, until close(). */
  #hold(pair: { a: Socket; b: Socket }): void {
    if (!this.#pairs.delete(pair as never)) return
    this.stats.open--
    for (const s of [pair.a, pair.b]) {
      if (s.destroyed) continue
      s.pause()
      this.#held.add(s)
      s.once('close', () => this.#held.delete(s))
    }
  }

  #cut(pair: { a: Socket; b: Socket }, counted: boolean): void {
    if (!this.#pairs.delete(pair as never)) return
    this.stats.open--
    if (counted) this.stats.resets++
    pair.a.resetAndDestroy()
    pair.b.resetAndDestroy()
  }

  /** Resets arrive as a Poisson process at resetsPerSec over the relay's open connections. */
  #scheduleReset(): void {
    clearTimeout(this.#resetTimer)
    const rate = this.#faults.resetsPerSec
    if (rate <= 0) return
    const waitMs = (-Math.log(1 - this.#random()) / rate) * 1000
    this.#resetTimer = setTimeout(() => {
      const open = [...this.#pairs]
      if (open.length > 0) this.#cut(open[Math.floor(this.#random() * open.length)]!, true)
      this.#scheduleReset()
    }, waitMs)
    this.#resetTimer.unref()
  }
}

/** `::ffff:10.0.0.1` and `10.0.0.1` are one source. */
function normalize(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address
}
