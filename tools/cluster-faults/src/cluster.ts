// N `ww host` OS processes, each reached by the others only through its relay (the link),
// in network namespaces where this machine allows (root, Linux), else on loopback. On
// loopback every connection comes from 127.0.0.1, so a relay cannot tell one source host
// from another: partitions need namespaces, and `skipped` says so.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HostProcess, wwBin } from './host-process.js'
import { Netns, netnsUnavailable } from './netns.js'
import { Relay, type LinkFaults } from './relay.js'

export interface FaultClusterOptions {
  hosts: number
  /** 'auto' (default): namespaces where available, else loopback. */
  mode?: 'netns' | 'loopback' | 'auto'
  /** Membership TTL (`ww host --ttl`); a crashed host leaves every view within about this. */
  ttl?: string
  faults?: Partial<LinkFaults>
  /**
   * Hosts started at once after the first (default: all). A `ww host` keeps dialling the
   * host it joins through for 60 s (README, finding 19; it gave up after 15 s before).
   */
  startConcurrency?: number
  /** Aborts the start (not the cluster's life). */
  signal?: AbortSignal
}

export interface FaultHost {
  index: number
  process: HostProcess
  relay: Relay
  /** The address a relay sees this host's connections come from (netns mode). */
  source: string
}

export class FaultCluster implements AsyncDisposable {
  readonly hosts: FaultHost[] = []
  /** Scenarios this mode cannot run, with why. */
  readonly skipped: string[] = []
  readonly #dir = mkdtempSync(join(tmpdir(), 'ww-faults-'))
  readonly #swarmKey = join(this.#dir, 'swarm.key')
  #netns: Netns | undefined

  private constructor(readonly mode: 'netns' | 'loopback', readonly options: FaultClusterOptions) {}

  /** Starts host 0, then the others joining through its relay; resolves once every host is ready. */
  static async start(options: FaultClusterOptions): Promise<FaultCluster> {
    const wanted = options.mode ?? 'auto'
    const why = netnsUnavailable()
    if (wanted === 'netns' && why) throw new Error(`netns mode: ${why}`)
    const c = new FaultCluster(wanted === 'loopback' || why ? 'loopback' : 'netns', options)
    if (c.mode === 'loopback') {
      const because = why ?? 'loopback mode asked for'
      c.skipped.push(`partitions: on loopback every connection comes from 127.0.0.1, so a relay cannot tell the sides apart (${because})`)
      c.skipped.push(`machine crashes: only the lost host's inbound links fall silent; the OS closes its outbound ones (${because})`)
    }
    try {
      execFileSync(process.execPath, [wwBin, 'key', 'swarm', '--out', c.#swarmKey], { stdio: 'ignore' })
      if (c.mode === 'netns') c.#netns = new Netns(options.hosts)
      const first = await c.#startHost(0, undefined)
      await first.process.until(() => first.process.id !== '', 'ready', options.signal)
      const step = options.startConcurrency ?? options.hosts
      for (let k = 1; k < options.hosts; k += step) {
        // Each joins through a host already up (spread over them): one seed for all of 15
        // answered none within ww host's 15 s join bound on this loaded machine.
        const batch = await Promise.all(Array.from({ length: Math.min(step, options.hosts - k) }, (_, j) => c.#startHost(k + j, c.#joinAddr(c.hosts[(k + j - 1) % k]!))))
        await Promise.all(batch.map((h) => h.process.until(() => h.process.id !== '', 'ready', options.signal)))
      }
      return c
    } catch (e) {
      await c.close()
      throw e
    }
  }

  /** Hosts still running. */
  get live(): FaultHost[] { return this.hosts.filter((h) => h.process.alive) }

  /**
   * Resolves when every live host's view is exactly the other live hosts of `group` (default:
   * all), with each host's ms from `since` until its view was right (the bench's samples).
   */
  async converged(group: readonly number[] = this.hosts.map((h) => h.index), signal?: AbortSignal, since = performance.now()): Promise<number[]> {
    const members = (): FaultHost[] => this.hosts.filter((h) => group.includes(h.index) && h.process.alive)
    const want = (h: FaultHost): string[] => members().filter((o) => o !== h).map((o) => o.process.id)
    try {
      return await Promise.all(members().map(async (h) => {
        await h.process.until(() => {
          const w = want(h)
          return h.process.view.size === w.length && w.every((id) => h.process.view.has(id))
        }, `a view of ${group.length} hosts`, signal)
        return performance.now() - since
      }))
    } catch (e) {
      // Say who saw what: the point of a failed convergence is which view was wrong.
      const short = (id: string): string => `#${this.hosts.findIndex((h) => h.process.id === id)}`
      const views = members().map((h) => `host #${h.index} sees [${[...h.process.view].map(short).join(' ')}], wants [${want(h).map(short).join(' ')}]`)
      throw new Error(`no convergence of ${group.map((i) => `#${i}`).join(' ')}: ${views.join('; ')} (${(e as Error).message})`)
    }
  }

  /**
   * Host `i` dies without a goodbye. 'process' (SIGKILL): its OS closes its connections,
   * so peers see the links drop. 'machine': its link falls silent first (connections stay
   * open, nothing answers), as a machine that lost power or its network: only the
   * membership TTL can tell.
   */
  async crash(i: number, how: 'process' | 'machine' = 'process'): Promise<void> {
    const h = this.hosts[i]!
    if (how === 'machine') {
      h.relay.freeze()
      // its own connections to the others fall silent too (netns: relays tell sources apart)
      if (this.mode === 'netns') for (const o of this.hosts) if (o !== h) o.relay.freeze([h.source])
    }
    await h.process.crash()
  }

  /**
   * One more host, joining through live host `via` (default: the first live one); resolves
   * once it is ready (its view fills later: converged()).
   */
  async add(via = this.live[0]!.index, signal?: AbortSignal): Promise<FaultHost> {
    const i = this.hosts.length
    this.#netns?.addHost(i)
    const h = await this.#startHost(i, this.#joinAddr(this.hosts[via]!))
    await h.process.until(() => h.process.id !== '', 'ready', signal)
    return h
  }

  /** Host `i` leaves cleanly (SIGTERM: its goodbye tells the others at once). */
  async leave(i: number): Promise<void> {
    await this.hosts[i]!.process.stop()
  }

  /** Cuts every link between a host of `a` and one of `b` (both ways) until heal(). */
  partition(a: readonly number[], b: readonly number[]): void {
    if (this.mode !== 'netns') throw new Error(this.skipped.find((s) => s.startsWith('partitions')) ?? 'partitions need netns mode')
    for (const [side, other] of [[a, b], [b, a]] as const) {
      for (const i of side) this.hosts[i]!.relay.block(other.map((j) => this.hosts[j]!.source))
    }
  }

  heal(): void {
    for (const h of this.hosts) h.relay.unblock()
  }

  /** Every link's faults from now on. */
  setFaults(faults: Partial<LinkFaults>): void {
    for (const h of this.hosts) h.relay.setFaults(faults)
  }

  /** Runs a client command (`ww ps --json`…) against host `i` and returns its stdout. */
  ww(i: number, args: string[]): string {
    return execFileSync(process.execPath, [wwBin, ...args], {
      env: { ...process.env, WW_HOME: this.hosts[i]!.process.home, NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.process.stop()))
    await Promise.all(this.hosts.map((h) => h.relay.close()))
    this.#netns?.close()
    rmSync(this.#dir, { recursive: true, force: true })
  }

  async [Symbol.asyncDispose](): Promise<void> { await this.close() }

  /** Where a host made in this process (a libp2p host of @ww/host) joins through host `i`'s relay. */
  joinAddress(i: number): string { return this.#joinAddr(this.hosts[i]!) }

  /** The cluster's swarm key file (a host made in this process needs it to connect). */
  get swarmKeyFile(): string { return this.#swarmKey }

  /** Where a host made in this process listens so that the `ww host`s can reach it (netns: the bridge's own address). */
  get inProcessListen(): string {
    return this.mode === 'netns' ? `/ip4/${this.#netns!.subnet}.254/tcp/0` : '/ip4/127.0.0.1/tcp/0'
  }

  #joinAddr(h: FaultHost): string { return `${this.#announce(h)}/p2p/${h.process.id}` }

  #announce(h: FaultHost): string {
    return this.mode === 'netns'
      ? `/ip4/${this.#netns!.relayAddress(h.index)}/tcp/${h.relay.port}`
      : `/ip4/127.0.0.1/tcp/${h.relay.port}`
  }

  async #startHost(i: number, joinAddr: string | undefined): Promise<FaultHost> {
    const home = mkdtempSync(join(this.#dir, `host-${i}-`))
    let listen: { host: string; port: number }
    let relayAt: { host: string; port: number }
    if (this.mode === 'netns') {
      listen = { host: this.#netns!.address(i), port: 4002 }
      relayAt = { host: this.#netns!.relayAddress(i), port: 4001 }
    } else {
      listen = { host: '127.0.0.1', port: await freePort() }
      relayAt = { host: '127.0.0.1', port: 0 }
    }
    const relay = await Relay.start({ listen: relayAt, target: listen, ...(this.options.faults ? { faults: this.options.faults } : {}) })
    const host: FaultHost = { index: i, relay, process: undefined as never, source: this.mode === 'netns' ? this.#netns!.address(i) : '127.0.0.1' }
    const argv = [
      process.execPath, wwBin, 'host', '--json',
      '--listen', `/ip4/${listen.host}/tcp/${listen.port}`,
      '--announce', this.#announce(host),
      '--swarm-key', this.#swarmKey,
      ...(this.options.ttl ? ['--ttl', this.options.ttl] : []),
      ...(joinAddr ? ['--join', joinAddr] : []),
    ]
    const command: [string, string[]] = this.mode === 'netns' ? this.#netns!.exec(i, argv) : [argv[0]!, argv.slice(1)]
    host.process = HostProcess.start(i, command, home)
    this.hosts[i] = host
    return host
  }
}

/** A TCP port free on loopback now (the host binds it a moment later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0))
    })
  })
}
