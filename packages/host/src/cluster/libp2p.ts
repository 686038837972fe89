import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Connection, ConnectionGater, PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Libp2p } from 'libp2p'
import { setTimeout as sleep } from 'node:timers/promises'
import { clusterRoot } from '../anchors/cluster-root.js'
import { AnchorTree } from '../anchors/tree.js'
import { BytecodeCache, type BytecodeCacheOptions } from '../cache/bytecode-cache.js'
import { Batcher, DEFAULT_BATCH_LIMITS, countBatch, decodeFrame, encodeBatch, type BatchLimits } from '../pubsub/batch.js'
import { RepairWindows, type RepairWindowLimits, type SeqRange } from '../pubsub/repair.js'
import { DEFAULT_FLOOD_LIMIT, FloodLimiter, overLimit, type FloodDrops, type FloodLimit } from '../pubsub/flood.js'
import { inboundBudgets, type InboundBudgets, type InboundStats } from '../pubsub/inbound.js'
import { RateLimitedError } from '../errors.js'
import { createPubSub } from '../pubsub/pubsub.js'
import type { PubSubNetwork } from '../pubsub/types.js'
import { createRegistry, type ControlChannel } from '../registry.js'
import { decodeRegistryMessage } from '../registry-wire.js'
import { VERSION } from '../version.js'
// Host-to-host RPC hook (src/peer): the /ww/rpc/1.0.0 layer this cluster runs.
import { PeerRpc, type PeerLink, type PeerRpcOptions } from '../peer/rpc.js'
import { anchorForwarder } from '../peer/anchors.js'
import type { CallOptions } from '../util/abort.js'
import { tunedEncrypter, type WireOptions } from './noise-wire.js'
import { Reorder } from './reorder.js'
import { PubsubRepair } from './pubsub-repair.js'
import { BeatOrder, decodeBeat, type Beat, type PeerRejectKind } from './heartbeat.js'
import { NO_RIGHTS, parseSwarmKey, rightsUnder, type AllowList, type PeerRight } from './trust.js'
import type { AnchorForwarder, Cluster } from './types.js'
import { Membership, type HostInfo } from './view.js'

export interface Libp2pClusterOptions {
  /** Multiaddrs to listen on. Default: an ephemeral TCP port on 127.0.0.1. */
  listen?: string[]
  /**
   * The only multiaddrs other hosts learn for this one (identify, the view), instead of
   * the listen addresses: for a host behind a NAT, a proxy or a relay that forwards to it.
   */
  announce?: string[]
  /** Multiaddrs (with /p2p/<id>) of hosts to join through. */
  bootstrap?: string[]
  /** Separates clusters sharing a network. Default `ww`. */
  namespace?: string
  /** A host not heard from for this long is gone. Default 10 s (as the Go Wetware). */
  ttlMs?: number
  /** Heartbeat period. Default ttlMs / 3. */
  heartbeatMs?: number
  /** How long a message waits for an earlier one from the same publisher. Default 2 s. */
  reorderWindowMs?: number
  /**
   * Pubsub across hosts sends the messages published on a topic within one tick as one
   * gossipsub message, of at most this many messages / payload bytes. Default 512 / 64 KiB.
   */
  pubsubBatch?: Partial<BatchLimits>
  /**
   * Repair across hosts (src/pubsub/repair.ts): this host keeps its recent messages per
   * topic, bounded, and a subscriber that missed some asks the publisher's host for them;
   * what fell out of the window is a counted gap. Default DEFAULT_REPAIR_WINDOW (1024
   * messages and 1 MiB per topic, 16 topics); false: at-most-once, as gossipsub alone.
   */
  pubsubRepair?: Partial<RepairWindowLimits> | false
  /**
   * How fast one publisher may send on one topic (src/pubsub/flood.ts), enforced on what
   * arrives (over it: dropped, not relayed, and the peer that sent it loses gossipsub score
   * until it is ignored) and on this host's own publishers (ERR_RATE_LIMITED). Hosts of one
   * cluster should agree. Default DEFAULT_FLOOD_LIMIT; false: no limit.
   */
  floodLimit?: Partial<FloodLimit> | false
  /** The host's identity (trust.ts: loadIdentity); default a new key, a new peer id, each start. */
  privateKey?: PrivateKey
  /**
   * A private network (@libp2p/pnet): the swarm key file's text (trust.ts: readSwarmKey).
   * Only peers holding the same key complete a connection. Default: none (any peer that
   * reaches the port may connect — keep such a host on loopback).
   */
  swarmKey?: Uint8Array | string
  /**
   * Admits only these peers (a libp2p connection gater, both directions), each with its
   * rights on this host (trust.ts). Default: every peer that connects, with all rights.
   */
  allow?: AllowList
  /** Connection encryption. Default 'noise' (host.rpc bench: see src/bench/rpc.ts). Hosts must agree. */
  encryption?: 'noise' | 'tls'
  /**
   * Noise's crypto (its documented ICryptoInterface). Default noise's own: on Node,
   * ChaCha20-Poly1305 in wasm below 1,200 bytes and node:crypto above, X25519 and SHA-256 in
   * node:crypto (host.rpc.native-aead measures node:crypto for every message).
   */
  noiseCrypto?: ICryptoInterface
  /** Stream multiplexer. Default 'yamux'. Hosts must agree. */
  muxer?: 'yamux' | 'mplex'
  /**
   * Gather what the muxer sends in one tick into one encrypted message and socket write
   * (src/cluster/coalesce.ts). Default true.
   */
  coalesceWrites?: boolean
  /**
   * How host-to-host bytes meet noise and the socket (src/cluster/noise-wire.ts): write
   * coalescing, one socket write per noise message, noise's decoder without stack traces.
   * All on by default; `coalesceWrites` above is the same as `wire.coalesceWrites`.
   */
  wire?: WireOptions
  cache?: BytecodeCacheOptions
  /** Host-to-host anchor forwarding; default: over this host's Peer links (src/peer/anchors.ts). */
  forwardAnchors?: AnchorForwarder
  /** Host-to-host RPC on /ww/rpc/1.0.0 (src/peer): call bounds. */
  rpc?: PeerRpcOptions
  onError?: (e: unknown) => void
}

export interface Libp2pCluster extends Cluster {
  readonly kind: 'libp2p'
  /** The node underneath, for protocols layered on it (host-to-host RPC). */
  readonly libp2p: Libp2p<{ pubsub: GossipSub }>
  /** Per-publisher gaps skipped by the reorder buffers: messages lost for good (0 on a healthy cluster). */
  gaps(): number
  /** Pubsub repair: requests this host made and got answered, requests it served, messages it got by repair. */
  pubsubRepair(): Readonly<PubsubRepairStats>
  /** Host-to-host RPC (src/peer): serves a Peer bootstrap on /ww/rpc/1.0.0. */
  readonly rpc: PeerRpc
  /** The Peer link to `host`: one per host, reused; closed when the host leaves. */
  dialPeer(host: string, opts?: CallOptions): Promise<PeerLink>
  /** Gossipsub messages its validators dropped: authors not admitted, unknown, or without the right, or over the flood limit. */
  dropped(): number
  /**
   * Other hosts' messages refused as bad input, by kind (heartbeat.ts: PeerRejectKind): each
   * dropped, not relayed, and nothing else changed. A peer that sent a forged message
   * itself has its connections closed.
   */
  rejected(): Readonly<Record<PeerRejectKind, number>>
  /** What the flood limit dropped, per publishing peer (empty without a limit). */
  floodDrops(): ReadonlyMap<string, Readonly<FloodDrops>>
  /** The flood limit in force, if any. */
  readonly floodLimit: Readonly<FloodLimit> | undefined
  /** Per peer: gossipsub RPCs and bytes it sent, and how often its stream was paused for its budget (empty without a limit). */
  pubsubInbound(): ReadonlyMap<string, Readonly<InboundStats>>
  /** `peer`'s gossipsub score here (below -80: graylisted, its RPCs ignored). */
  peerScore(peer: string): number
  /** How joining through each bootstrap address went: attempts, whether a connection opened, the last failure. */
  bootstrapDials(): readonly Readonly<BootstrapDial>[]
  /** Whether it runs a private network (a swarm key). */
  readonly private: boolean
  /** What `peer` may do on this host (empty for a peer the allow-list does not admit). */
  rightsOf(peer: string): ReadonlySet<PeerRight>
}

/** What pubsub repair did on this host (src/pubsub/repair.ts). */
export interface PubsubRepairStats {
  /** Repair requests this host sent to publishers. */
  asked: number
  /** Of those, answers it took (the rest failed: no route, a reset, the bound, or refused). */
  answered: number
  /** Requests it answered for its own messages. */
  served: number
  /** Messages its subscribers got by repair rather than by gossipsub. */
  repaired: number
}

/** Joining through one bootstrap address (Libp2pCluster.bootstrapDials). */
export interface BootstrapDial {
  readonly address: string
  attempts: number
  /** A connection opened (it may have closed since; the heartbeat period's redial takes over). */
  connected: boolean
  lastError?: string
}

const enc = new TextEncoder()

/** A host in a cluster over js-libp2p: TCP, noise, yamux, gossipsub, identify, ping. */
export async function libp2pCluster(opts: Libp2pClusterOptions = {}): Promise<Libp2pCluster> {
  const { createLibp2p, gossipsub, identify, mplex, multiaddr, noise, ping, preSharedKey, tcp, tls, TopicValidatorResult, yamux } = await import('./libp2p-stack.js')
  const ns = opts.namespace ?? 'ww'
  const ttlMs = opts.ttlMs ?? 10_000
  const heartbeatMs = opts.heartbeatMs ?? Math.max(10, Math.floor(ttlMs / 3))
  const windowMs = opts.reorderWindowMs ?? 2000
  // libp2p's connection monitor (below): a ping's bound, and room for the pings a slow
  // connection can have in flight at once (one every 10 s, its default interval).
  const monitorTimeoutMs = Math.max(30_000, 3 * ttlMs)
  const pingStreams = Math.ceil(monitorTimeoutMs / 10_000) + 1
  const onError = opts.onError ?? (() => {})
  const allow = opts.allow
  const admitted = (peer: string): boolean => rightsUnder(allow, peer) !== undefined
  const rightsOf = (peer: string): ReadonlySet<PeerRight> => rightsUnder(allow, peer) ?? NO_RIGHTS
  // A peer the allow-list does not name is dropped once its id is authenticated, whoever dialled.
  const gater: ConnectionGater | undefined = allow === undefined ? undefined : {
    denyInboundEncryptedConnection: (peer) => !admitted(peer.toString()),
    denyOutboundEncryptedConnection: (peer) => !admitted(peer.toString()),
  }
  const swarmKey = opts.swarmKey === undefined ? undefined : parseSwarmKey(opts.swarmKey)
  const wire = { ...opts.wire, ...(opts.coalesceWrites === false ? { coalesceWrites: false } : {}) }
  const flood = opts.floodLimit === false ? undefined : new FloodLimiter({ ...DEFAULT_FLOOD_LIMIT, ...opts.floodLimit })
  const node = await createLibp2p({
    ...(opts.privateKey ? { privateKey: opts.privateKey } : {}),
    addresses: { listen: opts.listen ?? ['/ip4/127.0.0.1/tcp/0'], ...(opts.announce?.length ? { announce: opts.announce } : {}) },
    transports: [tcp()],
    ...(swarmKey ? { connectionProtector: preSharedKey({ psk: swarmKey }) } : {}),
    ...(gater ? { connectionGater: gater } : {}),
    // Frames the muxer sends in one tick leave as one encrypted message and socket write (noise-wire.ts).
    connectionEncrypters: [tunedEncrypter(opts.encryption === 'tls' ? tls() : noise(opts.noiseCrypto ? { crypto: opts.noiseCrypto } : {}), wire)],
    streamMuxers: [opts.muxer === 'mplex' ? mplex() : yamux()],
    // libp2p's connection monitor pings every connection each 10 s and aborted it when the
    // answer took over 5 s, when the previous ping's stream had not yet closed (ping's one
    // outbound stream per peer), or when the answering side's 10 s bound ended the stream
    // first: on a loaded machine that cut live hosts' connections many times a minute, and
    // each cut drops the host from the view at once ('disconnect'). Whether a host is up is
    // the view's call, by its TTL; the monitor is kept for connections that went silent,
    // with a bound of its own well above the TTL (tools/cluster-faults README, finding 18).
    connectionMonitor: { pingTimeout: { minTimeout: monitorTimeoutMs, maxTimeout: monitorTimeoutMs } },
    services: {
      identify: identify(),
      ping: ping({ maxOutboundStreams: pingStreams, maxInboundStreams: pingStreams, timeout: monitorTimeoutMs }),
      // Signed messages: `from` is authenticated, so per-publisher order and the
      // registry's provider host can be trusted.
      pubsub: gossipsub({
        emitSelf: false, allowPublishToZeroTopicPeers: true, globalSignaturePolicy: 'StrictSign',
        scoreParams: {
          // No IP-colocation penalty (P6). Gossipsub's default charges every peer on an IP
          // shared by more than 10 (weight -5 × surplus²) and keeps a departed peer's IP for
          // its retained score (an hour, every score here being 0): after 10 hosts had come
          // and gone through one address (one machine, a NAT, the fault harness's bridge),
          // each newcomer there scored -5 or less, and from the 15th on below the graylist, so its
          // heartbeats were ignored and it never entered the view (tools/cluster-faults
          // README, finding 10). Admission here is the swarm key and the allow-list.
          IPColocationFactorWeight: 0,
          // A peer over the flood limit scores below 0 by the frames it had dropped (P5, the
          // application-specific score; weight 1); at the graylist threshold (-80) gossipsub
          // ignores its RPCs before checking signatures. The penalty halves every second.
          ...(flood ? { appSpecificScore: (peer: string) => -flood.penalty(peer), appSpecificWeight: 1 } : {}),
        },
      }),
      // Per-peer budgets on gossipsub's inbound streams, before any signature check (inbound.ts).
      ...(flood ? { inbound: inboundBudgets({ rpcsPerSecond: flood.limit.peerRpcsPerSecond, bytesPerSecond: flood.limit.peerBytesPerSecond, burstSeconds: flood.limit.burstSeconds }) } : {}),
    },
  })
  const gs = node.services.pubsub
  const inbound = (node.services as { inbound?: InboundBudgets }).inbound
  const id = node.peerId.toString()
  const started = Date.now()
  let load = 0
  const addresses = (): string[] => node.getMultiaddrs().map(String)
  const selfInfo = (): HostInfo => ({ id, addresses: addresses(), load, uptimeMs: Date.now() - started, version: VERSION })
  const view = new Membership(selfInfo)
  const rejected: Record<PeerRejectKind, number> = { heartbeat: 0, forged: 0, provider: 0, replay: 0, repair: 0 }
  // A peer that forged a message: out of the view first (a host dropped from the view is not
  // dialled again), then its connections end.
  const endForger = (peer: Parameters<typeof node.hangUp>[0]): void => {
    view.leave(peer.toString(), 'disconnect')
    node.hangUp(peer).catch(onError)
  }

  // A message whose signature or key does not match its `from` fails gossipsub's own
  // checks before any topic validator: count it, and end the sender's connections (an
  // honest relay forwards only messages that passed these checks, so the sender forged it).
  // The method is not in the GossipSub interface; the implementation has it.
  type Validation = { code: string; reason?: string }
  const gsi = gs as unknown as { validateReceivedMessage(from: { toString(): string }, rpc: unknown): Promise<Validation> }
  const validateReceived = gsi.validateReceivedMessage.bind(gs)
  gsi.validateReceivedMessage = async (source, rpc) => {
    const r = await validateReceived(source, rpc)
    if (r.code === 'invalid' && r.reason === 'error') {
      rejected.forged++
      endForger(source as Parameters<typeof node.hangUp>[0])
    }
    return r
  }

  // One gossipsub listener dispatches by topic.
  const handlers = new Map<string, (from: string, data: Uint8Array) => void>()
  gs.addEventListener('message', (e) => {
    const m = e.detail
    if (m.type !== 'signed') return
    const from = m.from.toString()
    if (from === id) return
    handlers.get(m.topic)?.(from, m.data)
  })
  const canSend = (peer: Parameters<typeof node.getConnections>[0]): boolean =>
    node.getConnections(peer).some((c) => c.streams.some((st) => st.direction === 'outbound' && st.protocol?.startsWith('/meshsub/') === true))
  const peerWatchers = new Map<string, Set<() => void>>()
  gs.addEventListener('subscription-change', (e) => {
    for (const s of e.detail.subscriptions) for (const cb of peerWatchers.get(s.topic) ?? []) cb()
  })
  // Gossipsub validators: a message is dropped (and not relayed) unless its author may send
  // it here. The author is at fault when it handed us the message itself (Reject: gossipsub
  // scores it down); a relay passing it on is not (Ignore).
  // Then the flood limit, per author and topic: over it a message is dropped (Ignore: a
  // rate is no proof of malice, and relays are not at fault) and the author, when it sent
  // it itself, loses score (flood.ts). `count` is how many pubsub messages a frame holds.
  let dropped = 0
  const validate = (topic: string, ok: (from: string, data: Uint8Array) => boolean, count: (data: Uint8Array) => number | undefined = () => 1): void => {
    gs.topicValidators.set(topic, (source, m) => {
      if (m.type !== 'signed') { dropped++; return TopicValidatorResult.Reject }
      const from = m.from.toString()
      if (from === id) return TopicValidatorResult.Accept
      const direct = source.equals(m.from)
      const n = count(m.data)
      if (n === undefined || !ok(from, m.data)) {
        dropped++
        return direct ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore
      }
      if (flood === undefined || flood.admit(from, topic, n, m.data.byteLength, direct)) return TopicValidatorResult.Accept
      dropped++
      return TopicValidatorResult.Ignore
    })
  }
  // In the view, or connected to us (past the swarm key and the gater) and not yet heard.
  const known = (peer: string): boolean =>
    view.get(peer) !== undefined || node.getConnections().some((c) => c.remotePeer.toString() === peer)
  const mayPublish = (from: string): boolean => known(from) && rightsOf(from).has('pubsub:publish')
  const gsPublish = (topic: string, data: Uint8Array): void => {
    gs.publish(topic, data).catch(onError)
  }
  const subscribeRaw = (topic: string, cb: (from: string, data: Uint8Array) => void): () => void => {
    handlers.set(topic, cb)
    gs.subscribe(topic)
    return () => { handlers.delete(topic); gs.unsubscribe(topic) }
  }

  // --- pubsub: the messages published on a topic within one tick travel as one signed
  // gossipsub message (src/pubsub/batch.ts: [seq, bytes] entries under the host's epoch and
  // head), reordered per publisher, and repaired from the publisher's window when missed
  // (src/pubsub/repair.ts, ./pubsub-repair.ts).
  const topicPrefix = `/${ns}/topic/`
  type PublisherStream = { epoch: number; reorder: Reorder }
  // An opening request's age bound is our time since joining plus this: the request's own
  // trip to the publisher, so a message published just after we joined is not cut off.
  const OPENING_SLACK_MS = 1000
  const reorders = new Map<string, Map<string, PublisherStream>>() // topic → from → its stream here
  const batchers = new Map<string, Batcher>() // topic → outgoing batch
  // Batches by time leave at most half the frames per second receivers allow (flood.ts).
  const batchLimits: BatchLimits = { ...DEFAULT_BATCH_LIMITS, ...(flood ? { minIntervalMs: 2000 / flood.limit.framesPerSecond } : {}), ...opts.pubsubBatch }
  const windows = opts.pubsubRepair === false ? undefined : new RepairWindows(started, opts.pubsubRepair)
  const repair = windows && new PubsubRepair({
    node, windows,
    subscribes: (peer, topic) => gs.getSubscribers(topicPrefix + topic).some((p) => p.toString() === peer),
    onSubscriptionChange: (cb) => {
      gs.addEventListener('subscription-change', cb)
      return () => gs.removeEventListener('subscription-change', cb)
    },
    reject: (peer, _why, forged) => {
      rejected.repair++
      if (forged) endForger(peerIdFromString(peer))
    },
    onError,
  })
  let gapsClosed = 0
  let repairedClosed = 0
  const closeStream = (st: PublisherStream): void => { gapsClosed += st.reorder.gaps; repairedClosed += st.reorder.repaired; st.reorder.close() }
  /** `from`'s stream on `topic` in `epoch`: a newer epoch (the publisher restarted) starts a new one; an older one's frames are dropped. */
  const streamOf = (topic: string, per: Map<string, PublisherStream>, joinedAt: number, from: string, epoch: number, deliver: (from: string, seq: number, data: Uint8Array) => void): Reorder | undefined => {
    const st = per.get(from)
    if (st !== undefined && st.epoch === epoch) return st.reorder
    if (st !== undefined && st.epoch > epoch) return undefined
    if (st !== undefined) closeStream(st)
    const fetch = repair && ((ranges: SeqRange[]) => repair.fetch(from, { topic, epoch, ranges }))
    // The stream's opening: what `from` published before the first copy we saw, since we
    // joined the topic (gossipsub drops what it publishes before our subscription reached it).
    const open = repair && ((first: number) => repair.fetch(from, { topic, epoch, ranges: [[1, first - 1]], withinMs: performance.now() - joinedAt + OPENING_SLACK_MS }))
    const reorder = new Reorder((s, d) => deliver(from, s, d), windowMs, undefined, fetch, undefined, open)
    per.set(from, { epoch, reorder })
    return reorder
  }
  const network: PubSubNetwork = {
    join(topic, deliver) {
      const per = new Map<string, PublisherStream>()
      const joinedAt = performance.now()
      reorders.set(topic, per)
      validate(topicPrefix + topic, mayPublish, countBatch)
      subscribeRaw(topicPrefix + topic, (from, data) => {
        const frame = decodeFrame(data)
        if (!frame) return
        const r = streamOf(topic, per, joinedAt, from, frame.epoch, deliver)
        if (!r) return
        for (const e of frame.entries) r.accept(e.seq, e.data)
        r.head(frame.head)
      })
    },
    leave(topic) {
      for (const st of reorders.get(topic)?.values() ?? []) closeStream(st)
      reorders.delete(topic)
      batchers.get(topic)?.close()
      batchers.delete(topic)
      handlers.delete(topicPrefix + topic)
      gs.topicValidators.delete(topicPrefix + topic)
      gs.unsubscribe(topicPrefix + topic)
    },
    admit(topic, bytes) {
      if (flood !== undefined && !flood.admitLocal(topic, bytes)) throw new RateLimitedError(overLimit(topic, flood.limit))
    },
    publish(topic, seq, data) {
      let b = batchers.get(topic)
      if (!b) batchers.set(topic, b = new Batcher((frame) => gsPublish(topicPrefix + topic, frame), batchLimits, started))
      b.add(seq, data)
      if (windows) { windows.add(topic, seq, data); markersDue() }
    },
    // A subscriber counts once our own gossipsub stream to it is open: before that, a
    // message published "to" it is silently not sent.
    peers: (topic) => gs.getSubscribers(topicPrefix + topic).filter(canSend).map(String),
    onPeersChange(topic, cb) {
      const t = topicPrefix + topic
      let set = peerWatchers.get(t)
      if (!set) peerWatchers.set(t, set = new Set())
      set.add(cb)
      return () => { set.delete(cb) }
    },
  }
  // A quiet stream's head goes out again a few times (repair.ts: MARKER_DELAYS_MS), so a
  // subscriber that missed its last messages learns of them; one timer while any is due.
  let markerTimer: ReturnType<typeof setInterval> | undefined
  const markersDue = (): void => {
    if (markerTimer || closed) return
    markerTimer = setInterval(() => {
      for (const m of windows!.dueMarkers()) gsPublish(topicPrefix + m.topic, encodeBatch([], { epoch: started, head: m.head }))
      if (!windows!.pendingMarkers()) { clearInterval(markerTimer); markerTimer = undefined }
    }, 250)
    markerTimer.unref()
  }
  // A publisher connected again: ask it for what it published after what we delivered (a
  // last message lost while the link was down has no later one to show the gap).
  const onConnect = (e: CustomEvent<{ toString(): string }>): void => {
    const peer = e.detail.toString()
    for (const per of reorders.values()) per.get(peer)?.reorder.probe()
  }
  if (repair) node.addEventListener('peer:connect', onConnect)
  const pubsub = createPubSub({ self: id, network, onError })

  // --- registry over its own topic.
  const regTopic = `/${ns}/registry`
  // Announcements (kind 1, registry-wire.ts) need registry:provide; queries only admission.
  validate(regTopic, (from, data) => {
    if (!admitted(from) || (data[0] === 1 && !rightsOf(from).has('registry:provide'))) return false
    // A host speaks for its own processes only.
    const m = decodeRegistryMessage(data)
    if (m?.kind === 'announce' && m.a.host !== from) { rejected.provider++; return false }
    return true
  })
  const channel: ControlChannel = {
    publish: (data) => gsPublish(regTopic, data),
    onMessage: (cb) => subscribeRaw(regTopic, cb),
  }
  const registry = createRegistry({ self: id, channel })

  // --- membership: heartbeats on the cluster topic, plus connection events.
  const clusterTopic = `/${ns}/cluster`
  // Membership: only admitted hosts enter the view, even when relayed by one that is, and
  // only by a heartbeat that reads right (heartbeat.ts).
  // A heartbeat or goodbye not newer than the last heard from its host is refused: gossipsub
  // forgets message ids after its seen-cache's time, signatures never expire (heartbeat.ts).
  const beatOrder = new BeatOrder()
  validate(clusterTopic, (from, data) => {
    if (!admitted(from)) return false
    const b = decodeBeat(from, data)
    if (b instanceof Error) { rejected.heartbeat++; return false }
    if (!beatOrder.advance(from, b.stamp)) { rejected.replay++; return false }
    return true
  })
  let beatsSent = 0
  const stamp = (): { epoch: number; n: number } => ({ epoch: started, n: ++beatsSent })
  const beat = (): void => {
    const b: Beat = { t: 'hb', ...stamp(), addrs: addresses(), load, uptimeMs: Date.now() - started, version: VERSION, ttlMs }
    gsPublish(clusterTopic, enc.encode(JSON.stringify(b)))
  }
  subscribeRaw(clusterTopic, (from, data) => {
    const b = decodeBeat(from, data) // passed the validator: not an error here
    if (b instanceof Error) return
    if ('bye' in b) {
      view.leave(from, 'bye')
      for (const per of reorders.values()) { const st = per.get(from); if (st) { closeStream(st); per.delete(from) } }
      return
    }
    const { info } = b
    if (view.heartbeat(info, b.ttlMs)) {
      // A host heard through a relay: connect directly, so its death is seen at once.
      if (node.getConnections().every((c) => c.remotePeer.toString() !== from)) {
        dialAny(info.addresses)
      }
      beat() // let the newcomer know us without waiting a period
    }
  })
  // A new peer on the cluster topic hears from us now, not a period later.
  let beatQueued = false
  const soonBeat = (): void => {
    if (beatQueued) return
    beatQueued = true
    setTimeout(() => { beatQueued = false; beat() }, 0)
  }
  peerWatchers.set(clusterTopic, new Set([soonBeat]))
  const onDisconnect = (e: CustomEvent<{ toString(): string }>): void => {
    const peer = e.detail.toString()
    const was = view.get(peer)
    view.leave(peer, 'disconnect')
    // A host of the view whose connection dropped (a reset link) is dialled again at once:
    // until then nothing we publish reaches it, and only its next heartbeat heard through
    // another host (a period later) would have brought the dial (tools/cluster-faults).
    if (was && !closed) dialAny(was.addresses)
  }
  node.addEventListener('peer:disconnect', onDisconnect)

  const dialAny = (addrs: readonly string[]): void => {
    for (const a of addrs) {
      let ma
      try { ma = multiaddr(a) } catch { continue }
      node.dial(ma, { signal: AbortSignal.timeout(5000) }).catch(onError)
      return
    }
  }
  const bootstrap = opts.bootstrap ?? []
  // Joining: each bootstrap address is dialled until a connection opens, again after each
  // failure with backoff (250 ms doubling up to the heartbeat period, at most 5 s), each
  // attempt bounded 5 s more than the last (at most 15 s): a fleet started at once meets
  // hosts not listening yet, or too busy to finish a handshake within one bound
  // (tools/cluster-faults README, finding 19). Later losses are the period's redial below.
  const joinStop = new AbortController()
  const joins: BootstrapDial[] = bootstrap.map((address) => ({ address, attempts: 0, connected: false }))
  const join = async (d: BootstrapDial): Promise<void> => {
    let ma
    try { ma = multiaddr(d.address) } catch (e) { d.lastError = (e as Error).message; return }
    for (let pause = 250; !joinStop.signal.aborted; pause = Math.min(pause * 2, Math.max(250, Math.min(5000, heartbeatMs)))) {
      d.attempts++
      try {
        await node.dial(ma, { signal: AbortSignal.any([AbortSignal.timeout(Math.min(15_000, 5000 * d.attempts)), joinStop.signal]) })
        d.connected = true
        return
      } catch (e) {
        d.lastError = (e as Error).message
        onError(e)
      }
      await sleep(pause, undefined, { signal: joinStop.signal }).catch(() => {})
    }
  }
  for (const d of joins) void join(d)
  // A bootstrap host that names its peer id and is not connected now is dialled again each
  // period: with a stable identity (trust.ts) a restarted host comes back under the same id
  // and address, and its peers find it even while connected to others.
  const redialBootstrap = (): void => {
    const connected = new Set(node.getConnections().map((c) => c.remotePeer.toString()))
    for (const a of bootstrap) {
      const peer = /\/p2p\/([^/]+)$/.exec(a)?.[1]
      if (connected.size === 0 || (peer !== undefined && !connected.has(peer))) node.dial(multiaddr(a), { signal: AbortSignal.timeout(5000) }).catch(onError)
    }
  }

  // Gossipsub opens its outbound stream to a peer once, when the connection is reported;
  // if that stream is reset (or fails to open) while the connection stays up, it never
  // opens another, and everything published to that peer is silently not sent — heartbeats
  // still arrive through other hosts, so the view stays whole (tools/cluster-faults README,
  // finding 15). Each period, a connected gossipsub peer without one gets a new stream.
  // The fields and method are not in the GossipSub interface; the implementation has them.
  type GsStreams = {
    peers: Map<string, unknown>
    streamsOutbound: Map<string, unknown>
    createOutboundStream(peer: Connection['remotePeer'], conn: Connection): Promise<void>
  }
  const gss = gs as unknown as GsStreams
  const repairing = new Set<string>()
  const repairStreams = (): void => {
    for (const c of node.getConnections()) {
      const peer = c.remotePeer.toString()
      if (c.status !== 'open' || repairing.has(peer) || !gss.peers.has(peer) || gss.streamsOutbound.has(peer)) continue
      repairing.add(peer)
      gss.createOutboundStream(c.remotePeer, c).catch(onError).finally(() => repairing.delete(peer))
    }
  }
  const hb = setInterval(() => {
    beat()
    repairStreams()
    if (bootstrap.length > 0) redialBootstrap()
  }, heartbeatMs)
  // A sweep later than its period by more than half a period measures a stall of this
  // host's own (its event loop held up by its work or the machine): the view does not count
  // the time since the last sweep against the others (view.ts: sweep).
  const sweepMs = Math.max(5, Math.min(1000, Math.floor(ttlMs / 4)))
  let lastSweep = performance.now()
  const sweep = setInterval(() => {
    const now = performance.now()
    const since = now - lastSweep
    lastSweep = now
    view.sweep(since > sweepMs * 1.5 ? since : 0)
    flood?.sweep()
    if (inbound) {
      const connected = new Set(node.getConnections().map((c) => c.remotePeer.toString()))
      inbound.sweep((peer) => connected.has(peer))
    }
  }, sweepMs)
  hb.unref()
  sweep.unref()

  const tree = new AnchorTree()
  const local = tree.root()
  let closed = false
  // Host-to-host RPC hook: made once `cluster` exists (the Peer server reads it).
  let rpc: PeerRpc
  const cluster: Libp2pCluster = {
    kind: 'libp2p',
    id,
    libp2p: node,
    addresses,
    view,
    pubsub,
    registry,
    cache: new BytecodeCache(opts.cache),
    // Another host's subtree: forwarded over host-to-host RPC (src/peer/anchors.ts).
    anchors: clusterRoot({ self: id, view, local, forward: opts.forwardAnchors ?? anchorForwarder({ dialPeer: (h, o) => rpc.dialPeer(h, o) }) }),
    local,
    setLoad: (n) => { load = n },
    gaps: () => {
      let n = gapsClosed
      for (const per of reorders.values()) for (const st of per.values()) n += st.reorder.gaps
      return n
    },
    pubsubRepair: () => {
      let repaired = repairedClosed
      for (const per of reorders.values()) for (const st of per.values()) repaired += st.reorder.repaired
      return { asked: repair?.stats.asked ?? 0, answered: repair?.stats.answered ?? 0, served: repair?.stats.served ?? 0, repaired }
    },
    get rpc() { return rpc },
    dropped: () => dropped,
    rejected: () => ({ ...rejected }),
    floodDrops: () => flood?.drops() ?? new Map(),
    floodLimit: flood?.limit,
    pubsubInbound: () => inbound?.stats() ?? new Map(),
    // The GossipSub interface does not list it; the implementation has it.
    peerScore: (peer) => (gs as unknown as { getScore(p: string): number }).getScore(peer),
    bootstrapDials: () => joins,
    private: swarmKey !== undefined,
    rightsOf,
    dialPeer: (host, o) => rpc.dialPeer(host, o),
    async close() {
      if (closed) return
      closed = true
      joinStop.abort()
      clearInterval(hb)
      clearInterval(sweep)
      clearInterval(markerTimer)
      registry.close()
      for (const b of batchers.values()) b.close() // pending pubsub batches leave before the node stops
      await rpc.close() // host-to-host RPC hook: links and served connections end first
      try {
        // Say goodbye so others drop us at once rather than at the TTL.
        await gs.publish(clusterTopic, enc.encode(JSON.stringify({ t: 'bye', ...stamp() } satisfies Beat)))
      } catch { /* nobody to tell */ }
      node.removeEventListener('peer:disconnect', onDisconnect)
      node.removeEventListener('peer:connect', onConnect)
      await repair?.close()
      for (const per of reorders.values()) for (const st of per.values()) st.reorder.close()
      view.close()
      await node.stop()
    },
    [Symbol.asyncDispose]: () => cluster.close(),
  }
  // Host-to-host RPC hook: serve /ww/rpc/1.0.0.
  rpc = new PeerRpc(cluster, node, { onError, ...opts.rpc, rightsOf: (peer) => rightsUnder(allow, peer) })
  await rpc.start()
  await repair?.start()
  return cluster
}
