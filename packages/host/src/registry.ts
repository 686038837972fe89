import { InvalidArgumentError, ReleasedError } from './errors.js'
import { bounded, type CallOptions } from './util/abort.js'
import type { HostId } from './pubsub/types.js'
import { decodeRegistryMessage, encodeAnnouncement, encodeQuery, MAX_MESSAGE_BYTES, MAX_META, type Announced } from './registry-wire.js'

export interface Provider {
  readonly name: string
  readonly host: HostId
  /** The provision's token as text, unique per host (`host/id` names a provision). */
  readonly id: string
  /** Identifies the provision on its host: what `Peer.provider(token)` takes. */
  readonly token: bigint
  /** The providing process on `host` (0: the host itself). */
  readonly pid: bigint
  /** The provider's labels ("key=value"); informational, not verified. */
  readonly meta: readonly string[]
  readonly expiresAt: number
  /** The service itself, for providers on this host; remote ones via `remoteService`. */
  readonly service?: unknown
}

export interface Provision extends Disposable {
  readonly id: string
  readonly token: bigint
  readonly expiresAt: number
  /** Extends the lease by its TTL (or `ttlMs`). ERR_RELEASED after release(). */
  refresh(ttlMs?: number): void
  release(): void
}

export interface ProvideOptions {
  ttlMs: number
  /** Labels finders see (at most 64). */
  meta?: readonly string[]
  /** The providing process on this host, announced with it (default 0: the host). */
  pid?: bigint
}

export interface FindOptions extends CallOptions {
  /** Wait until at least this many providers are known (default 0: answer at once). */
  min?: number
}

/**
 * How this host reaches the services of providers on other hosts: installed by its
 * host-to-host RPC layer (src/peer). The core only passes the result on.
 */
export interface RemoteServices {
  service(p: Provider): unknown
}

export interface Registry {
  provide(name: string, service: unknown, opts: ProvideOptions): Provision
  /** Providers on this host and every host that announced one. */
  findProviders(name: string, opts?: FindOptions): Promise<Provider[]>
  /** The live (neither released nor expired) provision `token` of this host. */
  provision(token: bigint): Provider | undefined
  /** A remote provider's service, through the installed RemoteServices (else undefined). */
  remoteService(p: Provider): unknown
  setRemote(remote: RemoteServices | undefined): void
  /** Forgets what `host` announced (it left the cluster). */
  forgetHost(host: HostId): void
  stats(): { local: number; remote: number }
}

/** A broadcast channel between hosts for registry announcements (absent when embedded). */
export interface ControlChannel {
  publish(data: Uint8Array): void
  onMessage(cb: (from: HostId, data: Uint8Array) => void): () => void
}

const NAME = /^[\x21-\x7e]{1,200}$/
/** How often a find that is still waiting asks the other hosts again. */
const QUERY_AGAIN_MS = 1000

function randomToken(): bigint {
  const b = crypto.getRandomValues(new Uint32Array(2))
  return (BigInt(b[0]!) << 32n) | BigInt(b[1]!)
}

/**
 * Service discovery over pubsub, as the Go Wetware did it: providers announce (name,
 * provider, token, ttl, labels) on provide, on refresh, and in answer to a query; finders
 * keep what they hear until its TTL passes. Local leases expire too: a provider that stops
 * refreshing disappears everywhere. Tokens are random, so a restarted host never answers
 * for a provision another host remembers from before.
 */
export function createRegistry(init: { self: HostId; channel?: ControlChannel; now?: () => number }): Registry & { close(): void } {
  const { self, channel } = init
  const now = init.now ?? Date.now
  interface Local { name: string; token: bigint; pid: bigint; meta: readonly string[]; ttl: number; expiresAt: number; service: unknown }
  const local = new Map<bigint, Local>()
  const remote = new Map<string, Provider>() // key host/id
  const waiters = new Set<() => void>()
  const wake = (): void => { for (const w of [...waiters]) w() }
  let remoteServices: RemoteServices | undefined

  const send = (d: Uint8Array): void => channel?.publish(d)
  const announced = (l: Local, withdrawn: boolean): Announced =>
    ({ name: l.name, host: self, pid: l.pid, token: l.token, ttlMs: Math.max(0, l.expiresAt - now()), meta: l.meta, withdrawn })
  const announce = (l: Local): void => send(encodeAnnouncement(announced(l, false)))
  const withdraw = (l: Local): void => send(encodeAnnouncement(announced(l, true)))
  const provider = (l: Local): Provider =>
    ({ name: l.name, host: self, id: String(l.token), token: l.token, pid: l.pid, meta: l.meta, expiresAt: l.expiresAt, service: l.service })

  const off = channel?.onMessage((from, data) => {
    const m = decodeRegistryMessage(data)
    if (m === undefined) return
    if (m.kind === 'query') {
      for (const l of local.values()) if (l.name === m.name && l.expiresAt > now()) announce(l)
      return
    }
    const a = m.a
    // The sender is authenticated by pubsub; a host speaks for its own processes only.
    if (a.host !== from) return
    const key = `${from}/${a.token}`
    if (a.withdrawn) { remote.delete(key); return }
    remote.set(key, { name: a.name, host: from, id: String(a.token), token: a.token, pid: a.pid, meta: a.meta, expiresAt: now() + a.ttlMs })
    wake()
  })

  function snapshot(name: string): Provider[] {
    const t = now()
    const out: Provider[] = []
    for (const [k, l] of local) {
      if (l.expiresAt <= t) { local.delete(k); continue }
      if (l.name === name) out.push(provider(l))
    }
    for (const [k, p] of remote) {
      if (p.expiresAt <= t) { remote.delete(k); continue }
      if (p.name === name) out.push(p)
    }
    return out
  }

  return {
    provide(name, service, { ttlMs, meta = [], pid = 0n }) {
      if (typeof name !== 'string' || !NAME.test(name)) throw new InvalidArgumentError(`bad service name ${JSON.stringify(name)}`)
      if (!(ttlMs > 0)) throw new InvalidArgumentError('ttlMs must be positive')
      if (meta.length > MAX_META) throw new InvalidArgumentError(`at most ${MAX_META} labels, got ${meta.length}`)
      let token = randomToken()
      while (local.has(token)) token = randomToken()
      const l: Local = { name, token, pid, meta: [...meta], ttl: ttlMs, expiresAt: now() + ttlMs, service }
      const size = encodeAnnouncement(announced(l, false)).byteLength
      if (size > MAX_MESSAGE_BYTES) throw new InvalidArgumentError(`announcement of ${name} is ${size} bytes, over ${MAX_MESSAGE_BYTES}`)
      local.set(token, l)
      announce(l)
      wake()
      let released = false
      const p: Provision = {
        id: String(token),
        token,
        get expiresAt() { return l.expiresAt },
        refresh(ttl = l.ttl) {
          if (released) throw new ReleasedError(`provision ${token}`)
          l.ttl = ttl
          l.expiresAt = now() + ttl
          local.set(token, l) // it may have expired and been swept
          announce(l)
        },
        release() {
          if (released) return
          released = true
          local.delete(token)
          withdraw(l)
        },
        [Symbol.dispose]() { p.release() },
      }
      return p
    },
    async findProviders(name, opts = {}) {
      const min = opts.min ?? 0
      let found = snapshot(name)
      if (found.length >= min) return found
      send(encodeQuery(name))
      // Pubsub carries a query only to hosts already in the topic's mesh: one sent while
      // the mesh forms (a host that just joined) is lost, and the providers answer nobody.
      // Ask again while waiting.
      const again = setInterval(() => send(encodeQuery(name)), QUERY_AGAIN_MS)
      again.unref?.()
      let done = (): void => {}
      const p = new Promise<void>((resolve) => {
        done = () => { found = snapshot(name); if (found.length >= min) resolve() }
        waiters.add(done)
      })
      try {
        await bounded(p, `${min} providers of ${name}`, opts)
      } finally {
        clearInterval(again)
        waiters.delete(done)
      }
      return found
    },
    provision(token) {
      const l = local.get(token)
      return l !== undefined && l.expiresAt > now() ? provider(l) : undefined
    },
    remoteService: (p) => (p.host === self ? undefined : remoteServices?.service(p)),
    setRemote(r) { remoteServices = r },
    forgetHost(host) {
      for (const [k, p] of remote) if (p.host === host) remote.delete(k)
    },
    stats: () => ({ local: local.size, remote: remote.size }),
    close() { off?.(); for (const l of local.values()) withdraw(l); local.clear(); remoteServices = undefined },
  }
}
