// What hosts say on the cluster topic, and what a receiver accepts of it. The author of a
// heartbeat is gossipsub's signed `from`; the body says only how to reach it and for how
// long to believe it, and each is checked here, because another host's bytes are input:
// a body naming another host's peer id, or a TTL that would keep a host in every view
// long after it is gone, is refused like a malformed one.
//
// Each heartbeat and goodbye also carries where it stands in its host's life: `epoch` (the
// host's start, its own clock, ms) and `n` (counting from 1 within the epoch). Gossipsub
// signs the body and drops a message id it has seen, but only for its seen-cache's time
// (2 min): a recorded heartbeat re-sent later by any peer still carries its author's valid
// signature and would bring a dead host back into views for a TTL (a recorded goodbye would
// drop a live one). A receiver remembers the last (epoch, n) per host (BeatOrder) and
// refuses what is not newer.
import { multiaddr } from '@multiformats/multiaddr'
import { HostError } from '../errors.js'
import type { HostInfo } from './view.js'

/** Where a message stands in its host's life: its start (epoch, ms) and a count within it. */
export interface BeatStamp { epoch: number; n: number }
export type Beat = BeatStamp & ({ t: 'hb'; addrs: string[]; load: number; uptimeMs: number; version: string; ttlMs: number } | { t: 'bye' })

/** Bounds on a heartbeat from another host. */
export const MAX_BEAT_BYTES = 16 * 1024
export const MAX_BEAT_ADDRS = 32
/** The longest a heartbeat may ask to be believed: longer is refused, not shortened (a host that means it is misconfigured). */
export const MAX_BEAT_TTL_MS = 10 * 60_000

/** Why another host's message was refused: the counters of `Libp2pCluster.rejected()`. */
export type PeerRejectKind =
  /** A heartbeat that does not parse, or breaks a bound above, or names another host. */
  | 'heartbeat'
  /** A gossipsub message whose signature or key does not match its `from` (a forged author). */
  | 'forged'
  /** A registry announcement for a process on another host than its author. */
  | 'provider'
  /** A heartbeat or goodbye not newer than one already heard from its host (a replay, or one overtaken on the way). */
  | 'replay'
  /** A pubsub repair request or answer refused (pubsub/repair.ts): malformed, too long, for a topic not subscribed to, or answering what was not asked. */
  | 'repair'

/** Another host's message refused; the cluster counts these by kind (they are not thrown at callers). */
export class PeerMessageError extends HostError {
  constructor(readonly kind: PeerRejectKind, readonly peer: string, why: string) {
    super('ERR_BAD_PEER_MESSAGE', `${kind} from ${peer} refused: ${why}`)
  }
}

const dec = new TextDecoder('utf-8', { fatal: true })

/** `from`'s heartbeat (a record for the view and its TTL), a goodbye, or why it is refused. */
export function decodeBeat(from: string, data: Uint8Array): ({ info: HostInfo; ttlMs: number } | { bye: true }) & { stamp: BeatStamp } | PeerMessageError {
  const bad = (why: string): PeerMessageError => new PeerMessageError('heartbeat', from, why)
  if (data.byteLength > MAX_BEAT_BYTES) return bad(`${data.byteLength} bytes, over ${MAX_BEAT_BYTES}`)
  let b: unknown
  try { b = JSON.parse(dec.decode(data)) } catch { return bad('not JSON') }
  if (typeof b !== 'object' || b === null) return bad('not an object')
  const beat = b as Record<string, unknown>
  if (beat.t !== 'hb' && beat.t !== 'bye') return bad(`unknown kind ${JSON.stringify(beat.t)}`)
  const { epoch, n } = beat
  if (!isCount(epoch) || !Number.isSafeInteger(n) || !((n as number) >= 1)) return bad('epoch and n must be numbers, n a count from 1')
  const stamp = { epoch, n: n as number }
  if (beat.t === 'bye') return { bye: true, stamp }
  const { addrs, load, uptimeMs, version, ttlMs } = beat
  if (!Array.isArray(addrs) || addrs.length > MAX_BEAT_ADDRS) return bad(`addrs must be a list of at most ${MAX_BEAT_ADDRS}`)
  for (const a of addrs) {
    if (typeof a !== 'string' || a.length > 512) return bad('an address is not a short string')
    try { multiaddr(a) } catch { return bad(`${JSON.stringify(a.slice(0, 80))} is not a multiaddr`) }
    // A host announces where *it* is: an address ending in another peer's id would send
    // dials there (the last /p2p/ is the host; one before p2p-circuit is a relay).
    const peer = /\/p2p\/([^/]+)$/.exec(a)?.[1]
    if (peer !== undefined && peer !== from) return bad(`an address names another host (${peer})`)
  }
  if (!isCount(load) || !isCount(uptimeMs)) return bad('load and uptimeMs must be numbers ≥ 0')
  if (typeof version !== 'string' || version.length > 64) return bad('version must be a short string')
  if (typeof ttlMs !== 'number' || !(ttlMs > 0) || ttlMs > MAX_BEAT_TTL_MS) return bad(`ttlMs must be in (0, ${MAX_BEAT_TTL_MS}], not ${String(ttlMs)}`)
  return { info: { id: from, addresses: addrs as string[], load, uptimeMs, version }, ttlMs, stamp }
}

/**
 * The last stamp heard per host, kept after the host leaves the view (a dead host's
 * replayed heartbeat is the case that matters), for at most `maxHosts` hosts (the longest
 * unheard are forgotten first).
 */
export class BeatOrder {
  readonly #last = new Map<string, BeatStamp>()
  constructor(private readonly maxHosts = 4096) {}

  /** Whether `stamp` is newer than the last heard from `host`; if so it becomes the last. */
  advance(host: string, stamp: BeatStamp): boolean {
    const last = this.#last.get(host)
    if (last && (stamp.epoch < last.epoch || (stamp.epoch === last.epoch && stamp.n <= last.n))) return false
    this.#last.delete(host) // re-inserted last: the map's order is least recently heard first
    this.#last.set(host, stamp)
    if (this.#last.size > this.maxHosts) this.#last.delete(this.#last.keys().next().value!)
    return true
  }
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0
