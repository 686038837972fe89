// The Registry server over the core registry. A provided service is stored in the core as
// an `Offer`: the capability, and a forwarder to it that finders get (so a finder on any
// connection can call it, and cancel revokes what finders hold). A provider on another
// host is written as the forwarder the core's RemoteServices makes (src/peer/providers.ts):
// its calls go through the link to that host and Peer.provider there (`serveProvision`).

import { registry as reg } from '@ww/schema'
import { Client, getInterfaceClient, Server, setInterfaceClient, type ClientLike } from 'capnp-ts'
import { ConnectionClosedError, retainClient } from '@ww/transport'
import type { Provider, Registry } from '../registry.js'
import { isHostError } from '../errors.js'
import { denied, revoked, rpcError } from './errors.js'
import { forwardingServer, type ForwardOptions } from './forward.js'
import { guard } from './guard.js'
import { freeOnRelease, retainLocal, revokerServer } from './common.js'
import type { Scope } from './scope.js'
import type { ProcessIdentity } from './host.js'

const TTL_DEFAULT = 10_000
const TTL_MIN = 1_000
const TTL_MAX = 3_600_000
const WAIT_DEFAULT = 1_000
const FIND_LIMIT = 100

class Offer {
  token = 0n
  /** What finders on this host get: one forwarder per provision. */
  readonly proxy: Server
  constructor(readonly core: Registry, readonly client: Client) {
    this.proxy = forwardingServer(client, this.guards())
  }

  /** Calls fail ERR_REVOKED once the provision is cancelled, released or expired. */
  guards(): ForwardOptions {
    return {
      check: () => { if (this.core.provision(this.token)?.service !== this) throw revoked(`provision ${this.token}: withdrawn or expired`) },
      // The provider's connection closed under a call: the provider is gone.
      mapError: (e) => (e instanceof ConnectionClosedError ? revoked(`provision ${this.token}: the provider is gone`) : e),
    }
  }
}

/**
 * A new capability for the live provision `token` of this host (Peer.provider): one per
 * caller, so each caller's reference is its own to release. ERR_REVOKED if there is none.
 */
export function serveProvision(core: Registry, token: bigint): ClientLike {
  const p = core.provision(token)
  if (p === undefined) throw revoked(`provision ${token}: withdrawn, expired or unknown`)
  const s = p.service
  if (s instanceof Offer) return forwardingServer(s.client, s.guards())
  // Provided through the core API by the embedder: a capability, revoked the same way.
  if (!(s instanceof Server || s instanceof Client)) throw denied(`provision ${token} is not a capability`)
  return forwardingServer(s instanceof Server ? new Client({ tag: 'local', server: s }) : s, {
    check: () => { if (core.provision(token)?.service !== s) throw revoked(`provision ${token}: withdrawn or expired`) },
  })
}

export interface RegistryServerInit {
  core: Registry
  scope: Scope
  identity: ProcessIdentity
  prefix?: string
  canProvide?: boolean
  canFind?: boolean
}

function ttlOf(ms: number): number {
  const ttl = ms === 0 ? TTL_DEFAULT : ms
  if (ttl < TTL_MIN || ttl > TTL_MAX) throw rpcError('ERR_INVALID_ARGUMENT', `ttlMs ${ttl} outside [${TTL_MIN}, ${TTL_MAX}]`)
  return ttl
}

function checkName(name: string): void {
  const n = new TextEncoder().encode(name).byteLength
  if (n < 1 || n > 256) throw rpcError('ERR_INVALID_ARGUMENT', `a service name is 1 to 256 bytes, got ${n}`)
}

export function registryServer(init: RegistryServerInit): reg.Registry$Server {
  const { core, scope, identity } = init
  const prefix = init.prefix ?? ''
  const canProvide = init.canProvide ?? true
  const canFind = init.canFind ?? true
  const full = (name: string): string => { checkName(name); return prefix + name }

  /** Providers known now, local ones first. */
  async function snapshot(name: string, min: number, waitMs: number): Promise<Provider[]> {
    let found: Provider[]
    try {
      found = await core.findProviders(name, min > 0 ? { min, timeoutMs: waitMs } : {})
    } catch (e) {
      // Fewer than asked for within the wait: not an error, answer with what is known.
      if (!isHostError(e, 'ERR_TIMEOUT')) throw e
      found = await core.findProviders(name)
    }
    return found.sort((a, b) => Number(b.service !== undefined) - Number(a.service !== undefined))
  }

  function write(out: reg.Provider, p: Provider): void {
    out.setName(p.name.slice(prefix.length))
    const service = p.service instanceof Offer ? p.service.proxy : core.remoteService(p)
    if (service instanceof Server || service instanceof Client) setInterfaceClient(1, service, out)
    const meta = out.initMeta(p.meta.length)
    p.meta.forEach((m, i) => meta.set(i, m))
    const ref = out.initProvider()
    ref.setHost(p.host)
    ref.setPid(p.pid)
    out.setExpiresInMs(Math.max(0, Math.min(0xffffffff, Math.round(p.expiresAt - Date.now()))))
  }

  const narrowed = (r: { setRegistry(v: reg.Registry$Server): void; setRevoker(v: unknown): void }, o: Partial<RegistryServerInit>): void => {
    const child = scope.child()
    r.setRegistry(registryServer({ core, identity, prefix, canProvide, canFind, ...o, scope: child }))
    r.setRevoker(revokerServer(child))
  }

  return new reg.Registry.Server(guard(scope, 'registry', {
    provide(p, r) {
      if (!canProvide) throw denied('provide on a find-only registry')
      const name = full(p.getName())
      const o = p.getOptions()
      const ttlMs = ttlOf(o.getTtlMs())
      const metaList = o.getMeta()
      const meta = Array.from({ length: metaList.getLength() }, (_, i) => metaList.get(i))
      // Ours to keep: the call's own handle goes when this returns.
      const client = retainClient(getInterfaceClient(1, p))
      const offer = new Offer(core, client)
      const provision = core.provide(name, offer, { ttlMs, meta, pid: identity.pid })
      offer.token = provision.token
      const letGo = retainLocal(client)
      const release = scope.hold('provisions', () => { provision.release(); letGo(); client.dispose() })
      // Released by the peer: withdrawn, as by cancel.
      r.setProvision(freeOnRelease(new reg.Provision.Server(guard(scope, `provision ${name}`, {
        refresh(q) { provision.refresh(q.getTtlMs() === 0 ? undefined : ttlOf(q.getTtlMs())) },
        cancel() { release() },
      })), () => release()))
    },
    async findProviders(p, r) {
      if (!canFind) throw denied('find on a provide-only registry')
      const name = full(p.getName())
      const handler = p.getHandler()
      const limit = p.getLimit()
      const deadline = Date.now() + (p.getWaitMs() === 0 ? WAIT_DEFAULT : p.getWaitMs())
      const seen = new Set<string>()
      try {
        for (;;) {
          const left = deadline - Date.now()
          const want = limit === 0 ? seen.size + 1 : limit
          const fresh = (await snapshot(name, left > 0 ? want : 0, Math.max(0, left)))
            .filter((x) => !seen.has(`${x.host}/${x.id}`))
          const batch = limit === 0 ? fresh : fresh.slice(0, limit - seen.size)
          if (batch.length > 0) {
            scope.check('registry')
            await handler.found((q) => {
              const l = q.initProviders(batch.length)
              batch.forEach((x, i) => write(l.get(i), x))
            })
            for (const x of batch) seen.add(`${x.host}/${x.id}`)
          }
          if ((limit !== 0 && seen.size >= limit) || Date.now() >= deadline) break
        }
      } finally {
        handler.dispose()
      }
      r.setCount(seen.size)
    },
    async find(p, r) {
      if (!canFind) throw denied('find on a provide-only registry')
      const name = full(p.getName())
      const limit = p.getLimit() === 0 ? FIND_LIMIT : p.getLimit()
      const found = (await snapshot(name, limit, p.getWaitMs() === 0 ? WAIT_DEFAULT : p.getWaitMs())).slice(0, limit)
      const l = r.initProviders(found.length)
      found.forEach((x, i) => write(l.get(i), x))
    },
    scoped(p, r) {
      const sub = p.getPrefix()
      checkName(sub)
      narrowed(r, { prefix: `${prefix}${sub}/` })
    },
    findOnly(_p, r) {
      if (!canFind) throw denied('findOnly of a provide-only registry')
      narrowed(r, { canProvide: false })
    },
    provideOnly(_p, r) {
      if (!canProvide) throw denied('provideOnly of a find-only registry')
      narrowed(r, { canFind: false })
    },
  }))
}
