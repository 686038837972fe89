import { InvalidArgumentError, ReleasedError } from './errors.js'
import { bounded, type CallOptions } from './util/abort.js'
import type { HostId } from './pubsub/types.js'

export interface Provider {
  readonly name: string
  readonly host: HostId
  /** Unique per provision (host-scoped). */
  readonly id: string
  readonly expiresAt: number
  /** The service itself, for providers on this host; remote ones are reached by host + id. */
  readonly service?: unknown
}

export interface Provision extends Disposable {
  readonly id: string
  readonly expiresAt: number
  /** Extends the lease by its TTL (or `ttlMs`). ERR_RELEASED after release(). */
  refresh(ttlMs?: number): void
  release(): void
}

export interface FindOptions extends CallOptions {
  /** Wait until at least this many providers are known (default 0: answer at once). */
  min?: number
}

export interface Registry {
  provide(name: string, service: unknown, opts: { ttlMs: number }): Provision
  /** Providers on this host and every host that announced one. */
  findProviders(name: string, opts?: FindOptions): Promise<Provider[]>
  stats(): { local: number; remote: number }
}

/** A broadcast channel between hosts for registry announcements (absent when embedded). */
export interface ControlChannel {
  publish(data: Uint8Array): void
  onMessage(cb: (from: HostId, data: Uint8Array) => void): () => void
}

type Wire =
  | { t: 'a'; name: string; id: string; ttl: number }
  | { t: 'w'; id: string }
  | { t: 'q'; name: string }

const NAME = /^[\x21-\x7e]{1,200}$/
const enc = new TextEncoder()
const dec = new TextDecoder()

/**
 * Service discovery over pubsub, as the Go Wetware did it: providers announce
 * (name, id, ttl) on provide, on refresh, and in answer to a query; finders keep what
 * they hear until its TTL passes. Local leases expire too: a provider that stops
 * refreshing disappears everywhere.
 */
export function createRegistry(init: { self: HostId; channel?: ControlChannel; now?: () => number }): Registry & { close(): void } {
  const { self, channel } = init
  const now = init.now ?? Date.now
  let nextId = 0
  interface Local { name: string; id: string; ttl: number; expiresAt: number; service: unknown }
  const local = new Map<string, Local>()
  const remote = new Map<string, Provider>() // key host/id
  const waiters = new Set<() => void>()
  const wake = (): void => { for (const w of [...waiters]) w() }

  const send = (m: Wire): void => channel?.publish(enc.encode(JSON.stringify(m)))
  const announce = (l: Local): void => send({ t: 'a', name: l.name, id: l.id, ttl: Math.max(0, l.expiresAt - now()) })

  const off = channel?.onMessage((from, data) => {
    let m: Wire
    try { m = JSON.parse(dec.decode(data)) as Wire } catch { return }
    if (m.t === 'a' && typeof m.name === 'string' && typeof m.id === 'string' && typeof m.ttl === 'number') {
      remote.set(`${from}/${m.id}`, { name: m.name, host: from, id: m.id, expiresAt: now() + m.ttl })
      wake()
    } else if (m.t === 'w' && typeof m.id === 'string') {
      remote.delete(`${from}/${m.id}`)
    } else if (m.t === 'q' && typeof m.name === 'string') {
      for (const l of local.values()) if (l.name === m.name && l.expiresAt > now()) announce(l)
    }
  })

  function snapshot(name: string): Provider[] {
    const t = now()
    const out: Provider[] = []
    for (const [k, l] of local) {
      if (l.expiresAt <= t) { local.delete(k); continue }
      if (l.name === name) out.push({ name, host: self, id: l.id, expiresAt: l.expiresAt, service: l.service })
    }
    for (const [k, p] of remote) {
      if (p.expiresAt <= t) { remote.delete(k); continue }
      if (p.name === name) out.push(p)
    }
    return out
  }

  return {
    provide(name, service, { ttlMs }) {
      if (typeof name !== 'string' || !NAME.test(name)) throw new InvalidArgumentError(`bad service name ${JSON.stringify(name)}`)
      if (!(ttlMs > 0)) throw new InvalidArgumentError('ttlMs must be positive')
      const l: Local = { name, id: `${self.slice(-8)}-${++nextId}`, ttl: ttlMs, expiresAt: now() + ttlMs, service }
      local.set(l.id, l)
      announce(l)
      wake()
      let released = false
      const p: Provision = {
        id: l.id,
        get expiresAt() { return l.expiresAt },
        refresh(ttl = l.ttl) {
          if (released) throw new ReleasedError(`provision ${l.id}`)
          l.ttl = ttl
          l.expiresAt = now() + ttl
          local.set(l.id, l) // it may have expired and been swept
          announce(l)
        },
        release() {
          if (released) return
          released = true
          local.delete(l.id)
          send({ t: 'w', id: l.id })
        },
        [Symbol.dispose]() { p.release() },
      }
      return p
    },
    async findProviders(name, opts = {}) {
      const min = opts.min ?? 0
      let found = snapshot(name)
      if (found.length >= min) return found
      send({ t: 'q', name })
      let done = (): void => {}
      const p = new Promise<void>((resolve) => {
        done = () => { found = snapshot(name); if (found.length >= min) resolve() }
        waiters.add(done)
      })
      try {
        await bounded(p, `${min} providers of ${name}`, opts)
      } finally {
        waiters.delete(done)
      }
      return found
    },
    stats: () => ({ local: local.size, remote: remote.size }),
    close() { off?.(); for (const l of local.values()) send({ t: 'w', id: l.id }); local.clear() },
  }
}
