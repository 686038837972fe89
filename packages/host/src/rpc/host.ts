// hostCapability: the Host a process bootstraps, bound to one process identity, with the
// rights its spawner granted. Everything it hands out lives in its Scope: revoking an
// attenuation, or closing the Host when its process exits, frees every core handle.

import { host as capHost, type process as proc } from '@ww/schema'
import { Server, type Client, type ClientLike } from 'capnp-ts'
import { retainClient } from '@ww/transport'
import type { Anchor } from '../anchors/types.js'
import type { Cluster } from '../cluster/types.js'
import type { HostOverrideCaps } from '../exec/types.js'
import { anchorServer } from './anchor.js'
import { bytecodeCacheServer } from './cache.js'
import { OVERRIDE_KEYS } from './delegate.js'
import { freeOnRelease, retainLocal, revokerServer } from './common.js'
import { denied, rpcError } from './errors.js'
import { guard } from './guard.js'
import { writeHostInfo } from './info.js'
import { pubSubServer } from './pubsub.js'
import { registryServer } from './registry.js'
import { Scope, type LiveCounts } from './scope.js'
import { viewServer } from './view.js'

/** What a Host offers (process.capnp HostRights). */
export interface HostRights {
  view: boolean
  pubSub: boolean
  root: boolean
  registry: boolean
  executor: boolean
  bytecodeCache: boolean
  debug: boolean
  dialer: boolean
}

/** schemas/README.md: a process spawned with no rights gets `view` and `pubSub`. */
export const DEFAULT_RIGHTS: Readonly<HostRights> = Object.freeze({
  view: true, pubSub: true, root: false, registry: false, executor: false, bytecodeCache: false, debug: false, dialer: false,
})

/** The process a Host is bound to; calls through the Host act as this process. */
export interface ProcessIdentity {
  readonly host: string
  readonly pid: bigint
}

/**
 * Supplies a capability bound to a process identity: the scheduler (@ww/proc) implements
 * this for `executor`; debug and dialer likewise. Called once per Host (and attenuation).
 */
export interface CapabilityProvider {
  /**
   * `scope` is the asking Host's: a capability made under it (`scope.child()`) is revoked
   * with that Host (its process exited, its attenuation revoked). `rights` are that Host's
   * (with its overrides): an executor never gives a child more. `overrides` are that Host's
   * too: a child given one of those rights gets the override, not the host's own.
   */
  capabilityFor(identity: ProcessIdentity, scope?: Scope, rights?: Readonly<HostRights>, overrides?: Readonly<HostOverrideCaps>): ClientLike
}

export interface HostCapabilityOptions {
  /** The pid this Host is bound to (0: the host's embedder). */
  processId: number | bigint
  /** Granted rights; unlisted ones come from DEFAULT_RIGHTS. */
  rights?: Partial<HostRights>
  /** The anchor `root()` serves; default the cluster's local tree. The Host takes it over. */
  root?: Anchor
  /** The BootContext `bootContext()` answers with. */
  context?: ClientLike
  /**
   * Served instead of this Host's own (process.capnp HostOverrides); each counts as granted.
   * Not held by the Host: its giver keeps them alive (the ProcessTree does, for a spawn's).
   */
  overrides?: HostOverrideCaps
  executor?: CapabilityProvider
  /** Served only when `rights.debug` is true as well: never granted by default. */
  debug?: CapabilityProvider
  dialer?: CapabilityProvider
}

/** The Host server plus what its owner (the executor) needs: counts, and close on exit. */
export interface HostCapability {
  readonly server: capHost.Host$Server
  readonly identity: ProcessIdentity
  /** Core handles held now by everything this Host handed out. */
  live(): LiveCounts
  /** The process ended: revoke everything handed out (ERR_REVOKED) and free it. */
  close(reason?: string): void
}

type Overrides = { view?: ClientLike; pubSub?: ClientLike; root?: ClientLike; registry?: ClientLike; dialer?: ClientLike }

interface HostState {
  cluster: Cluster
  identity: ProcessIdentity
  rights: HostRights
  overrides: Overrides
  opts: HostCapabilityOptions
  scope: Scope
  /** The core anchor root() serves, shared by attenuations; only a root walk is handed out. */
  rootCore: Anchor
}

/** Builds the bootstrap Host for one process over `cluster`. */
export function hostCapability(cluster: Cluster, opts: HostCapabilityOptions): HostCapability {
  const identity: ProcessIdentity = { host: cluster.id, pid: BigInt(opts.processId) }
  const rights: HostRights = { ...DEFAULT_RIGHTS, ...opts.rights }
  // Provider-backed rights need a provider: a right with nothing behind it is not granted.
  // Passing a provider grants it unless the rights say otherwise.
  rights.executor = opts.executor !== undefined && opts.rights?.executor !== false
  // Debug is never granted by default (debug.capnp): it must be asked for explicitly.
  rights.debug = opts.debug !== undefined && opts.rights?.debug === true
  rights.dialer = opts.dialer !== undefined && opts.rights?.dialer !== false
  const scope = new Scope()
  const rootCore = opts.root ?? cluster.local.walk('')
  scope.hold('anchors', () => rootCore.release())
  const overrides: Overrides = {}
  for (const k of OVERRIDE_KEYS) if (opts.overrides?.[k] !== undefined) overrides[k] = opts.overrides[k]
  const server = hostServer({ cluster, identity, rights, overrides, opts, scope, rootCore })
  return {
    server,
    identity,
    live: () => ({ ...scope.counts }),
    close: (reason = 'process exited') => scope.revoke(reason),
  }
}

function hostServer(s: HostState): capHost.Host$Server {
  const { cluster, identity, rights, overrides, opts, scope } = s
  const cache = new Map<string, ClientLike>()
  // Each method hands out the same capability on every call, until the peer releases it
  // (what it owned is freed then, e.g. the root anchor's handle): the next call makes a new one.
  const once = (key: keyof HostRights, make: () => ClientLike, ours = true): ClientLike => {
    const override = overrides[key as keyof Overrides]
    if (override !== undefined) return override
    if (!rights[key]) throw denied(key)
    let c = cache.get(key)
    if (c === undefined) {
      const made = make()
      cache.set(key, made)
      if (ours && made instanceof Server) freeOnRelease(made, () => { if (cache.get(key) === made) cache.delete(key) })
      c = made
    }
    return c
  }
  // A provider is asked once per Host: what it gave stays cached.
  const provided = (key: 'executor' | 'debug' | 'dialer'): ClientLike =>
    once(key, () => opts[key]!.capabilityFor(identity, scope, effective(rights, overrides), overrides), false)
  return new capHost.Host.Server(guard(scope, 'host', {
    bootContext(_p, r) {
      if (opts.context === undefined) throw rpcError('ERR_NOT_FOUND', 'no boot context was given to this host')
      r.setContext(opts.context)
    },
    rights(_p, r) { writeRights(r.initRights(), effective(rights, overrides)) },
    view(_p, r) { r.setView(once('view', () => viewServer(cluster.view, scope))) },
    pubSub(_p, r) { r.setPubSub(once('pubSub', () => pubSubServer(cluster.pubsub, scope))) },
    root(_p, r) { r.setRoot(once('root', () => anchorServer({ core: s.rootCore.walk(''), scope }))) },
    registry(_p, r) { r.setRegistry(once('registry', () => registryServer({ core: cluster.registry, scope, identity }))) },
    executor(_p, r) { r.setExecutor(provided('executor')) },
    bytecodeCache(_p, r) { r.setCache(once('bytecodeCache', () => bytecodeCacheServer(cluster.cache, scope))) },
    debug(_p, r) { r.setDebug(provided('debug')) },
    dialer(_p, r) { r.setDialer(provided('dialer')) },
    info(_p, r) {
      if (overrides.view === undefined && !rights.view) throw denied('info (needs view)')
      writeHostInfo(r.initInfo(), cluster.view.get(cluster.id)!, true)
    },
    attenuate(p, r) {
      const asked = readRights(p.getRights())
      const narrowed = {} as HostRights
      for (const k of Object.keys(rights) as Array<keyof HostRights>) {
        const have = rights[k] || overrides[k as keyof Overrides] !== undefined
        if (asked[k] && !have) throw denied(`attenuate: ${k} is not held`)
        narrowed[k] = asked[k]
      }
      const child = scope.child()
      // A non-null override is delegation of a capability the caller holds: it counts as granted.
      const next: Overrides = {}
      // Handed in this call: our own handles (the call's go when it returns), disposed with the child.
      const kept: Array<{ dispose(): void }> = []
      const keep = <C extends { client: Client; dispose(): void }>(c: C): C => { const k = retainClient(c); kept.push(k); return k }
      if (p.hasOverrides()) {
        const o = p.getOverrides()
        if (o.hasView()) next.view = keep(o.getView())
        if (o.hasPubSub()) next.pubSub = keep(o.getPubSub())
        if (o.hasRoot()) next.root = keep(o.getRoot())
        if (o.hasRegistry()) next.registry = keep(o.getRegistry())
        if (o.hasDialer()) next.dialer = keep(o.getDialer())
      }
      // Overrides the caller handed back from this host (local clients) stay alive while the
      // child Host can use them: until it is revoked or released.
      // Each Host holds its own, so releasing a parent does not free what a child inherited.
      for (const k of Object.keys(overrides) as Array<keyof Overrides>) if (narrowed[k]) next[k] ??= overrides[k]
      const letGo: Array<() => void> = []
      for (const k of Object.keys(next) as Array<keyof Overrides>) letGo.push(retainLocal(next[k]!))
      const free = (): void => {
        for (const f of letGo.splice(0)) f()
        for (const c of kept.splice(0)) c.dispose()
      }
      child.onRevoke(free)
      r.setHost(freeOnRelease(hostServer({ ...s, rights: narrowed, overrides: next, scope: child }), free))
      r.setRevoker(revokerServer(child))
    },
  }))
}

function effective(rights: HostRights, overrides: Overrides): HostRights {
  const out = { ...rights }
  for (const k of Object.keys(overrides) as Array<keyof Overrides>) if (overrides[k] !== undefined) out[k] = true
  return out
}

const KEYS: Array<keyof HostRights> = ['view', 'pubSub', 'root', 'registry', 'executor', 'bytecodeCache', 'debug', 'dialer']

export function writeRights(out: proc.HostRights, r: HostRights): void {
  out.setView(r.view); out.setPubSub(r.pubSub); out.setRoot(r.root); out.setRegistry(r.registry)
  out.setExecutor(r.executor); out.setBytecodeCache(r.bytecodeCache); out.setDebug(r.debug); out.setDialer(r.dialer)
}

export function readRights(r: proc.HostRights): HostRights {
  const out = {} as HostRights
  for (const k of KEYS) out[k] = r[`get${k[0]!.toUpperCase()}${k.slice(1)}` as 'getView']()
  return out
}
