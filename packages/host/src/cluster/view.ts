import { Mailbox, type MailboxOptions, type MailboxStats } from '../pubsub/mailbox.js'
import type { HostId } from '../pubsub/types.js'
import { bounded, type CallOptions } from '../util/abort.js'

export interface HostInfo {
  readonly id: HostId
  readonly addresses: readonly string[]
  /** Running processes on that host (what it last announced). */
  readonly load: number
  readonly uptimeMs: number
  readonly version: string
}

export type LeaveReason = 'ttl' | 'disconnect' | 'bye'
export type MembershipEvent =
  | { readonly type: 'join'; readonly host: HostInfo }
  | { readonly type: 'leave'; readonly host: HostInfo; readonly reason: LeaveReason }

export interface MembershipWatch extends AsyncIterable<MembershipEvent>, Disposable {
  stats(): MailboxStats
  close(): void
}

/** Which hosts are up, as this host sees them. */
export interface ClusterView {
  readonly self: HostId
  /** Every live host, this one included. */
  hosts(): HostInfo[]
  get(id: HostId): HostInfo | undefined
  /** Joins and leaves from now on; `current: true` first replays a join per live host. */
  watch(opts?: MailboxOptions & { current?: boolean; handler?: (e: MembershipEvent) => void }): MembershipWatch
}

interface Entry { info: HostInfo; expires: number }

/**
 * The membership table: hosts are added by heartbeats and dropped when their TTL passes,
 * when they say goodbye, or when the transport reports them disconnected.
 */
export class Membership implements ClusterView {
  readonly self: HostId
  readonly #selfInfo: () => HostInfo
  readonly #hosts = new Map<HostId, Entry>()
  readonly #watchers = new Set<Mailbox<MembershipEvent>>()
  readonly #now: () => number

  constructor(selfInfo: () => HostInfo, now: () => number = Date.now) {
    this.#selfInfo = selfInfo
    this.self = selfInfo().id
    this.#now = now
  }

  hosts(): HostInfo[] {
    return [this.#selfInfo(), ...[...this.#hosts.values()].map((e) => e.info)]
  }

  get(id: HostId): HostInfo | undefined {
    return id === this.self ? this.#selfInfo() : this.#hosts.get(id)?.info
  }

  has(id: HostId): boolean { return this.#hosts.has(id) }

  /** A heartbeat from `info.id` valid for `ttlMs`. Returns true when it is a join. */
  heartbeat(info: HostInfo, ttlMs: number): boolean {
    if (info.id === this.self) return false
    const had = this.#hosts.has(info.id)
    this.#hosts.set(info.id, { info, expires: this.#now() + ttlMs })
    if (!had) this.#emit({ type: 'join', host: info })
    return !had
  }

  leave(id: HostId, reason: LeaveReason): void {
    const e = this.#hosts.get(id)
    if (!e) return
    this.#hosts.delete(id)
    this.#emit({ type: 'leave', host: e.info, reason })
  }

  /**
   * Drops hosts whose heartbeats stopped. `stalledMs`: how long this host itself was not
   * listening since the last sweep (its event loop held up): every entry gets that much
   * longer first. After a stall Node runs due timers before it reads the sockets, so the
   * heartbeats that arrived meanwhile are still unread when this runs — without it, a host
   * stalled for a TTL dropped every other host (tools/cluster-faults README, finding 18).
   */
  sweep(stalledMs = 0): void {
    const now = this.#now()
    for (const [id, e] of this.#hosts) {
      if (stalledMs > 0) e.expires += stalledMs
      if (e.expires <= now) this.leave(id, 'ttl')
    }
  }

  watch(opts: MailboxOptions & { current?: boolean; handler?: (e: MembershipEvent) => void } = {}): MembershipWatch {
    const box = new Mailbox<MembershipEvent>({ capacity: 1024, policy: 'dropOldest', ...opts })
    if (opts.handler) box.handle(opts.handler)
    if (opts.current) for (const e of this.#hosts.values()) void box.offer({ type: 'join', host: e.info })
    this.#watchers.add(box)
    const w: MembershipWatch = {
      stats: () => box.stats(),
      close: () => { box.close(); this.#watchers.delete(box) },
      [Symbol.asyncIterator]: () => box[Symbol.asyncIterator](),
      [Symbol.dispose]: () => w.close(),
    }
    return w
  }

  close(): void {
    for (const w of this.#watchers) w.close()
    this.#watchers.clear()
  }

  #emit(e: MembershipEvent): void {
    for (const w of this.#watchers) void w.offer(e)?.catch(() => {})
  }
}

/**
 * Resolves with `id`'s record once it is in `view` (at once if it already is). Bounded:
 * fails with ERR_TIMEOUT / ERR_ABORTED per `opts`; without either it waits for as long as
 * it takes.
 */
export function waitForHost(view: ClusterView, id: HostId, opts: CallOptions = {}): Promise<HostInfo> {
  const now = view.get(id)
  if (now) return Promise.resolve(now)
  let w: MembershipWatch | undefined
  const joined = new Promise<HostInfo>((resolve) => {
    w = view.watch({ current: true, handler: (e) => { if (e.type === 'join' && e.host.id === id) resolve(e.host) } })
  })
  return bounded(joined, `host ${id} joining`, opts).finally(() => w?.close())
}
