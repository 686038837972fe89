// Host-to-host Cap'n Proto RPC on the libp2p stream protocol /ww/rpc/1.0.0.
//
// Each host serves a Peer bootstrap (server.ts) on every inbound stream of the protocol,
// and `dialPeer(host)` opens one stream per remote host, kept and reused by every caller
// until it closes: on the remote host leaving this host's view, the libp2p stream or
// connection closing, or `close()`. Calls through a PeerLink never hang: each is bounded
// (AbortSignal / timeout, default 30 s), and a link that closed fails pending and later
// calls with ERR_HOST_UNREACHABLE.

import type { Libp2p, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { cluster as capCluster, peer, anchor } from '@ww/schema'
import { connectStream, ConnectionClosedError, RemoteError, type RpcConnection, type RpcConnectionOptions } from '@ww/transport'
import { ALL_RIGHTS, type PeerRight } from '../cluster/trust.js'
import type { Cluster } from '../cluster/types.js'
import { CapDeniedError, ClosedError, HostUnreachableError, InvalidArgumentError, TimeoutError, isHostError } from '../errors.js'
import type { HostId } from '../pubsub/types.js'
import { bounded, type CallOptions } from '../util/abort.js'
import { Deadlines } from '../util/deadlines.js'
import type { ProcessTree } from '../exec/process-tree.js'
import type { Pid, RemoteProcess, RemoteSpawner, SpawnRequest } from '../exec/types.js'
import { cidBytes } from '../rpc/cache.js'
import { remoteSpawn } from './spawn.js'
import { remoteServices } from './providers.js'
import { peerServer } from './server.js'
import { streamDuplex } from './stream.js'
import { connectLibp2pStream, type StreamTuning } from './rpc-stream.js'

export const PEER_PROTOCOL = '/ww/rpc/1.0.0'

export interface PeerRpcOptions {
  /** Bound on every PeerLink call without its own `timeoutMs`. Default 30 s. */
  callTimeoutMs?: number
  /** Bound on opening a link (dial + protocol negotiation). Default 15 s (as `ww host --join`): 5 s failed remote spawns to hosts in the view on a loaded machine (tools/cluster-faults, finding 14). */
  dialTimeoutMs?: number
  /**
   * Run the RPC over the Node Duplex adapter (stream.ts) instead of straight over the
   * libp2p stream (rpc-stream.ts) — the older path, kept to measure the difference. Default false.
   */
  viaDuplex?: boolean
  /** How the RPC meets the libp2p stream (rpc-stream.ts); measured in host.rpc. Default: all on. */
  tuning?: StreamTuning
  /**
   * What a calling host may do here (cluster/trust.ts); `undefined`: not admitted, its
   * streams are refused. Default: every right for every caller.
   */
  rightsOf?: (peer: string) => ReadonlySet<PeerRight> | undefined
  onError?: (e: unknown) => void
}

/** A connected Peer client on one remote host. */
export class PeerLink {
  readonly host: HostId
  readonly conn: RpcConnection
  /** The remote Peer capability, raw (its calls fail ERR_CLOSED once the link is down). */
  readonly peer: peer.Peer$Client
  readonly #timeoutMs: number
  #closedReason: Error | undefined
  readonly #closedWaiters = new Set<(e: Error) => void>()
  /** Calls bounded by the default timeout share one timer (util/deadlines.ts). */
  readonly #deadlines: Deadlines

  constructor(host: HostId, conn: RpcConnection, timeoutMs: number) {
    this.host = host
    this.conn = conn
    this.#timeoutMs = timeoutMs
    this.#deadlines = new Deadlines(timeoutMs)
    this.peer = conn.bootstrap(peer.Peer)
  }

  get closed(): boolean { return this.#closedReason !== undefined }

  /** Called once by the layer when the connection ended. */
  markClosed(why: string, cause?: unknown): void {
    if (this.#closedReason !== undefined) return
    this.#closedReason = new HostUnreachableError(this.host, { cause: cause ?? new Error(why) })
    for (const w of this.#closedWaiters) w(this.#closedReason)
    this.#closedWaiters.clear()
    this.#deadlines.clear()
  }

  /**
   * Runs `fn` on the remote Peer, bounded by `opts` (or the default timeout). Fails with
   * ERR_HOST_UNREACHABLE when the link is or becomes closed; remote exceptions pass through.
   */
  call<T>(what: string, fn: (p: peer.Peer$Client) => PromiseLike<T>, opts: CallOptions = {}): Promise<T> {
    if (this.#closedReason !== undefined) return Promise.reject(this.#unreachable())
    if (opts.signal === undefined && (opts.timeoutMs === undefined || opts.timeoutMs === this.#timeoutMs)) return this.#callByDefault(what, fn)
    // `fn` first: had it thrown after `lost` was registered, nothing would ever handle `lost`,
    // and the link's closing would reject it unhandled — which ends the embedding process.
    let started: PromiseLike<T>
    try {
      started = fn(this.peer)
    } catch (e) {
      return Promise.reject(this.#map(e))
    }
    let onClosed: ((e: Error) => void) | undefined
    const lost = new Promise<never>((_, reject) => { onClosed = reject; this.#closedWaiters.add(reject) })
    const run = Promise.race([Promise.resolve(started), lost])
    const timeoutMs = opts.timeoutMs ?? (opts.signal ? undefined : this.#timeoutMs)
    return bounded(run, `${what} on ${this.host}`, { ...(opts.signal ? { signal: opts.signal } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) })
      .catch((e: unknown) => { throw this.#map(e) })
      .finally(() => { if (onClosed) this.#closedWaiters.delete(onClosed) })
  }

  /** `call` bounded by the default timeout: one shared timer, one closed-waiter per call. */
  #callByDefault<T>(what: string, fn: (p: peer.Peer$Client) => PromiseLike<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // Whichever comes first — the answer, the link closing, the deadline — settles it.
      const end = (settle: () => void): void => {
        if (!this.#deadlines.settle(deadline)) return
        this.#closedWaiters.delete(onClosed)
        settle()
      }
      const onClosed = (e: Error): void => { end(() => reject(e)) }
      const deadline = this.#deadlines.add(() => {
        this.#closedWaiters.delete(onClosed)
        reject(new TimeoutError(`${what} on ${this.host}`))
      })
      this.#closedWaiters.add(onClosed)
      try {
        fn(this.peer).then((v) => { end(() => resolve(v)) }, (e: unknown) => { end(() => reject(this.#map(e))) })
      } catch (e) {
        end(() => reject(this.#map(e)))
      }
    })
  }

  /**
   * Bounds a call made elsewhere (a forwarder's) as `call` does, without a promise: `fail`
   * runs once, with ERR_TIMEOUT past the default timeout or ERR_HOST_UNREACHABLE when the
   * link closes, unless the function returned (the call ended) runs first.
   */
  watch(what: () => string, fail: (e: Error) => void): () => void {
    if (this.#closedReason !== undefined) { fail(this.#unreachable()); return () => {} }
    const onClosed = (e: Error): void => { if (this.#deadlines.settle(deadline)) fail(e) }
    const deadline = this.#deadlines.add(() => {
      this.#closedWaiters.delete(onClosed)
      fail(new TimeoutError(`${what()} on ${this.host}`))
    })
    this.#closedWaiters.add(onClosed)
    return () => { if (this.#deadlines.settle(deadline)) this.#closedWaiters.delete(onClosed) }
  }

  /** The null call. */
  ping(opts?: CallOptions): Promise<void> {
    return this.call('Peer.ping', (p) => p.ping(), opts).then(() => {})
  }

  /** The remote host's record: id, addresses, version, uptime, process count. */
  info(opts?: CallOptions): Promise<{ id: string; addresses: string[]; version: string; uptimeMs: number; processes: number }> {
    return this.call('Peer.info', async (p) => {
      const i: capCluster.HostInfo = (await p.info()).getInfo()
      const addrs = i.getAddrs()
      const addresses: string[] = []
      for (let k = 0; k < addrs.getLength(); k++) addresses.push(addrs.get(k))
      return { id: i.getId(), addresses, version: i.getVersion(), uptimeMs: Number(i.getUptimeMs()), processes: i.getLoad().getProcesses() }
    }, opts)
  }

  /** The remote host's own anchor subtree (a capability: calls on it go to that host). */
  anchors(): anchor.Anchor$Client {
    return this.peer.anchors().getRoot()
  }

  /** Closes the link (the stream is closed; the next dialPeer opens a new one). */
  close(): void {
    this.markClosed('closed here')
    this.conn.close()
  }

  #unreachable(): Error {
    return this.#closedReason ?? new HostUnreachableError(this.host)
  }

  /** What a caller sees for a failed call on this link (`call` maps its failures so). */
  errorOf(e: unknown): unknown {
    return this.#map(e)
  }

  #map(e: unknown): unknown {
    if (isHostError(e) || e instanceof RemoteError) return e
    // The connection closing under a call: the host is gone (or going) for this caller.
    if (e instanceof ConnectionClosedError || this.#closedReason !== undefined) {
      return new HostUnreachableError(this.host, { cause: e })
    }
    return e
  }
}

/**
 * The /ww/rpc/1.0.0 layer of one libp2p host. It is also the RemoteSpawner of this host's
 * ProcessTree (`serveExec`): a child on another host is started with Peer.exec there and
 * watched from here over the same link.
 */
export class PeerRpc implements RemoteSpawner {
  readonly #cluster: Cluster
  readonly #node: Libp2p
  readonly #opts: Required<Omit<PeerRpcOptions, 'onError' | 'rightsOf' | 'tuning'>> & Pick<Required<PeerRpcOptions>, 'onError' | 'rightsOf'> & Pick<PeerRpcOptions, 'tuning'>
  readonly #links = new Map<HostId, Promise<PeerLink>>()
  /** The same links once open, for callers that must not wait a turn (registry forwarders). */
  readonly #ready = new Map<HostId, PeerLink>()
  /** Inbound connections, by calling host: closed when it leaves the view, and with the layer. */
  readonly #served = new Map<RpcConnection, HostId>()
  #watch: { close(): void } | undefined
  #closed = false
  #tree: ProcessTree | undefined
  #spawns = 0

  constructor(cluster: Cluster, node: Libp2p, opts: PeerRpcOptions = {}) {
    this.#cluster = cluster
    this.#node = node
    this.#opts = {
      callTimeoutMs: opts.callTimeoutMs ?? 30_000, dialTimeoutMs: opts.dialTimeoutMs ?? 15_000,
      viaDuplex: opts.viaDuplex ?? false, onError: opts.onError ?? (() => {}),
      rightsOf: opts.rightsOf ?? (() => ALL_RIGHTS), tuning: opts.tuning,
    }
  }

  /**
   * Serves the protocol, watches the view (a host that leaves loses its link and its
   * registry announcements) and lets the registry reach providers on other hosts.
   */
  async start(): Promise<void> {
    await this.#node.handle(PEER_PROTOCOL, (stream, connection) => {
      this.#serve(stream, connection.remotePeer.toString())
    }, { runOnLimitedConnection: false })
    this.#watch = this.#cluster.view.watch({
      handler: (e) => {
        if (e.type !== 'leave') return
        this.#drop(e.host.id, `host ${e.host.id} left (${e.reason})`)
        // What it spawned here ends now: a host lost without a goodbye may leave its
        // connections open and silent, and libp2p would notice only at its next failed ping.
        for (const [c, caller] of this.#served) if (caller === e.host.id) c.close(new ConnectionClosedError(`host ${caller} left (${e.reason})`))
        this.#cluster.registry.forgetHost(e.host.id)
      },
    })
    this.#cluster.registry.setRemote(remoteServices(this))
  }

  /** The open link to `host`, if there is one now. */
  openLink(host: HostId): PeerLink | undefined {
    const l = this.#ready.get(host)
    return l !== undefined && !l.closed ? l : undefined
  }

  /**
   * Serves Peer.exec into `tree` (processes other hosts spawn here are its roots, parented
   * to the remote caller) and spawns `where`-children of `tree` through this layer.
   */
  serveExec(tree: ProcessTree): void {
    this.#tree = tree
    tree.setRemote(this)
  }

  #connect(stream: Stream, opts: RpcConnectionOptions): RpcConnection {
    return this.#opts.viaDuplex ? connectStream(streamDuplex(stream), opts) : connectLibp2pStream(stream, { ...opts, ...(this.#opts.tuning ? { tuning: this.#opts.tuning } : {}) })
  }

  #serve(stream: Stream, caller: string): void {
    if (this.#closed) { stream.abort(new ClosedError('host rpc')); return }
    // The gater keeps such peers out; this holds if a connection got here another way.
    const rights = this.#opts.rightsOf(caller)
    if (rights === undefined) { stream.abort(new CapDeniedError(`${PEER_PROTOCOL} from ${caller}: not on this host's allow-list`)); return }
    const layer = this
    const ps = peerServer(this.#cluster, caller, {
      rights,
      get tree() { return layer.#tree },
      fetchBytecode: (cid) => this.#fetchBytecode(caller, cid),
    })
    const conn = this.#connect(stream, {
      bootstrap: ps.server,
      name: `peer<-${caller.slice(-8)}`,
      onClose: () => { this.#served.delete(conn); ps.close(`connection from ${caller} closed`) },
    })
    this.#served.set(conn, caller)
  }

  /** The link to `host`: the open one, else a new stream. Fails ERR_HOST_UNREACHABLE. */
  dialPeer(host: HostId, opts: CallOptions = {}): Promise<PeerLink> {
    if (this.#closed) return Promise.reject(new ClosedError('host rpc'))
    if (host === this.#cluster.id) return Promise.reject(new InvalidArgumentError('dialPeer: that is this host'))
    const have = this.#links.get(host)
    if (have) return have.then((l) => l.closed ? this.dialPeer(host, opts) : l)
    const p = this.#open(host, opts)
    this.#links.set(host, p)
    p.catch(() => { if (this.#links.get(host) === p) this.#links.delete(host) })
    return p
  }

  async #open(host: HostId, opts: CallOptions): Promise<PeerLink> {
    const connected = this.#node.getConnections().find((c) => c.remotePeer.toString() === host && c.status === 'open')
    // A stream on an open connection is bounded as a call (or the dial bound if longer): the host is
    // reachable, and on a loaded machine (tools/cluster-faults, 2 CPU hogs) opening one took
    // over the 5 s dial bound and a `ww spawn --on` failed ERR_HOST_UNREACHABLE.
    const bound = opts.timeoutMs ?? (connected ? Math.max(this.#opts.callTimeoutMs, this.#opts.dialTimeoutMs) : this.#opts.dialTimeoutMs)
    const signal = AbortSignal.any([AbortSignal.timeout(bound), ...(opts.signal ? [opts.signal] : [])])
    let stream: Stream
    try {
      if (connected) {
        stream = await connected.newStream(PEER_PROTOCOL, { signal })
      } else {
        const info = this.#cluster.view.get(host)
        if (info === undefined || info.addresses.length === 0) throw new Error(`${host} is not in this host's view`)
        stream = await this.#node.dialProtocol(info.addresses.map((a) => multiaddr(a)), PEER_PROTOCOL, { signal })
      }
    } catch (e) {
      throw new HostUnreachableError(host, { cause: e })
    }
    // The addresses carry /p2p/<host>: noise authenticated that peer id on this connection.
    let link: PeerLink
    const conn = this.#connect(stream, {
      name: `peer->${host.slice(-8)}`,
      onClose: (reason) => {
        link.markClosed('connection closed', reason)
        if (this.#ready.get(host) === link) this.#ready.delete(host)
        void this.#links.get(host)?.then((l) => { if (l === link) this.#links.delete(host) }, () => {})
      },
    })
    link = new PeerLink(host, conn, this.#opts.callTimeoutMs)
    this.#ready.set(host, link)
    if (this.#closed) link.close()
    return link
  }

  async #fetchBytecode(host: HostId, cid: string): Promise<Uint8Array> {
    const link = await this.dialPeer(host)
    return link.call('Peer.bytecode', async (p) => {
      const got = await p.bytecode((q) => q.setCid(cidBytes(cid)))
      return got.getBytecode().toUint8Array().slice()
    })
  }

  /** RemoteSpawner: Peer.exec on `host` for `parent`, a process of this host (see spawn.ts). */
  async spawn(host: HostId, parent: { host: string; pid: Pid }, req: SpawnRequest, opts: CallOptions = {}): Promise<RemoteProcess> {
    const link = await this.dialPeer(host, opts)
    this.#spawns++
    return remoteSpawn(link, parent, req, { ...opts, killTimeoutMs: this.#opts.callTimeoutMs, onError: this.#opts.onError })
  }

  #drop(host: HostId, why: string): void {
    this.#ready.delete(host)
    const p = this.#links.get(host)
    if (!p) return
    this.#links.delete(host)
    p.then((l) => { l.markClosed(why); l.conn.close(new ConnectionClosedError(why)) }, () => {})
  }

  /** Open outbound links, by host. */
  links(): HostId[] { return [...this.#links.keys()] }

  /**
   * For Debug: links open (outbound), connections served (inbound), remote spawns started,
   * and capabilities other hosts hold from this one over served connections (Peer
   * bootstraps included) — what a leak would grow.
   */
  stats(): { links: number; served: number; spawns: number; exported: number } {
    let exported = 0
    for (const c of this.#served.keys()) exported += c.stats.exports
    return { links: this.#links.size, served: this.#served.size, spawns: this.#spawns, exported }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#watch?.close()
    this.#cluster.registry.setRemote(undefined)
    await this.#node.unhandle(PEER_PROTOCOL).catch(this.#opts.onError)
    const links = await Promise.allSettled([...this.#links.values()])
    this.#links.clear()
    for (const r of links) if (r.status === 'fulfilled') r.value.close()
    for (const c of [...this.#served.keys()]) c.close()
  }
}
