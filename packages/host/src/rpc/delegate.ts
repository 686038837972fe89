// Delegation at spawn (process.capnp ExecOptions.caps and .overrides): reading them from a
// request with their bounds, handing them on (forwarders for what this host only imports),
// writing them for Peer.exec, and the child's BootContext that lists them. Holding them
// while the child runs is the tree's (exec/delegated.ts).

import { process as proc, type common } from '@ww/schema'
import { getInterfaceClient, Server, setInterfaceClient, type Client, type ClientLike } from 'capnp-ts'
import { resolveCapability } from 'capnp-ts/src/rpc/capability.js'
import type { HostOverrideCaps, NamedCap, PreopenCap, StartSpec } from '../exec/types.js'
import { cidBytes } from './cache.js'
import { rpcError } from './errors.js'
import { forwardingServer } from './forward.js'
import { writeRef } from './process.js'

/** Named capabilities one exec may hand over (process.capnp ExecOptions.caps). */
export const MAX_CAPS = 64
/** Bytes of one cap's name (UTF-8). */
export const MAX_CAP_NAME_BYTES = 128

/** Sockets one exec may hand over (ExecOptions.preopens); their names are bounded as caps' are. */
export const MAX_PREOPENS = 64

export const OVERRIDE_KEYS = ['view', 'pubSub', 'root', 'registry', 'dialer'] as const

/** ExecOptions.caps → NamedCap[]: names non-empty, unique and bounded, no null cap. */
export function readNamedCaps(list: { getLength(): number; get(i: number): common.NamedCap }): NamedCap[] {
  const n = list.getLength()
  if (n > MAX_CAPS) throw rpcError('ERR_LIMIT', `exec: ${n} caps, at most ${MAX_CAPS}`)
  const out: NamedCap[] = []
  const seen = new Set<string>()
  for (let i = 0; i < n; i++) {
    const e = list.get(i)
    const name = checkName('cap', i, e.getName(), seen)
    if (!e.hasCap()) throw rpcError('ERR_INVALID_ARGUMENT', `exec: cap '${name}' is null`)
    out.push({ name, cap: getInterfaceClient(1, e) })
  }
  return out
}

/** A delegated name: non-empty, at most MAX_CAP_NAME_BYTES, not in `seen` (then added). */
function checkName(what: string, i: number, name: string, seen: Set<string>): string {
  if (name === '') throw rpcError('ERR_INVALID_ARGUMENT', `exec: ${what} ${i} has an empty name`)
  if (Buffer.byteLength(name) > MAX_CAP_NAME_BYTES) throw rpcError('ERR_INVALID_ARGUMENT', `exec: ${what} name '${name.slice(0, 32)}…' is over ${MAX_CAP_NAME_BYTES} bytes`)
  if (seen.has(name)) throw rpcError('ERR_INVALID_ARGUMENT', `exec: ${what} name '${name}' is given twice`)
  seen.add(name)
  return name
}

/** ExecOptions.preopens → PreopenCap[]: names as caps' (unique among preopens), no null capability. */
export function readPreopens(list: { getLength(): number; get(i: number): proc.Preopen }): PreopenCap[] {
  const n = list.getLength()
  if (n > MAX_PREOPENS) throw rpcError('ERR_LIMIT', `exec: ${n} preopens, at most ${MAX_PREOPENS}`)
  const out: PreopenCap[] = []
  const seen = new Set<string>()
  for (let i = 0; i < n; i++) {
    const e = list.get(i)
    const name = checkName('preopen', i, e.getName(), seen)
    const kind = e.isListener() ? 'listener' : 'conn'
    if (kind === 'listener' ? !e.hasListener() : !e.hasConn()) throw rpcError('ERR_INVALID_ARGUMENT', `exec: preopen '${name}' has a null ${kind}`)
    // Pointer 1 holds the union's capability (listener and conn share it).
    out.push({ name, kind, cap: getInterfaceClient(1, e) })
  }
  return out
}

/** Writes preopens (handed on) into Peer.exec's ExecOptions. */
export function writePreopens(o: proc.ExecOptions, preopens: readonly PreopenCap[]): void {
  const l = o.initPreopens(preopens.length)
  preopens.forEach((p, i) => {
    const e = l.get(i)
    e.setName(p.name)
    if (p.kind === 'listener') e.setListener(handOn(p.cap))
    else e.setConn(handOn(p.cap))
  })
}

/** ExecOptions.overrides → the non-null ones. */
export function readOverrides(o: proc.HostOverrides): HostOverrideCaps {
  const out: { -readonly [K in keyof HostOverrideCaps]: HostOverrideCaps[K] } = {}
  if (o.hasView()) out.view = o.getView()
  if (o.hasPubSub()) out.pubSub = o.getPubSub()
  if (o.hasRoot()) out.root = o.getRoot()
  if (o.hasRegistry()) out.registry = o.getRegistry()
  if (o.hasDialer()) out.dialer = o.getDialer()
  return out
}

/**
 * A cap the caller pipelined on one of its calls to us (a guest's `root().walk(p).readOnly()`
 * passed straight on) is settled into what that call returned, so the capability itself is
 * held and handed on. Resolved answers settle at once; for pending ones this returns a
 * promise (the caller must own its request's bytes before awaiting it). A failed one stays broken.
 */
export function settleCaps(req: { caps?: readonly NamedCap[]; child?: { readonly overrides?: HostOverrideCaps; readonly preopens?: readonly PreopenCap[] } }): Promise<void> | undefined {
  type AnswerTarget = { tag: string; answer?: { state: string; payload?: unknown; payloadPromise: Promise<unknown> }; transform?: number[] }
  const pending: Array<Promise<void>> = []
  const settle = (c: ClientLike, put: (c: ClientLike) => void): void => {
    if (c instanceof Server) return
    const t = ('client' in c ? c.client : c)._target as AnswerTarget
    if (t.tag !== 'answer') return
    if (t.answer!.state === 'resolved') { put(resolveCapability(t.answer!.payload as never, t.transform!) as Client); return }
    pending.push(t.answer!.payloadPromise.then((p) => put(resolveCapability(p as never, t.transform!) as Client), () => {}))
  }
  if (req.caps) {
    const caps = req.caps.map((c) => ({ ...c }))
    for (const c of caps) settle(c.cap, (x) => { (c as { cap: ClientLike }).cap = x })
    req.caps = caps
  }
  const o = req.child?.overrides as Record<string, ClientLike> | undefined
  if (o) for (const k of OVERRIDE_KEYS) if (o[k] !== undefined) settle(o[k], (x) => { o[k] = x })
  for (const p of req.child?.preopens ?? []) settle(p.cap, (x) => { (p as { cap: ClientLike }).cap = x })
  return pending.length === 0 ? undefined : Promise.all(pending).then(() => {})
}

/**
 * What can go out on another connection: ours as it is; a capability this host only
 * imports (a spawner's own server, or one from the host-to-host link) through a forwarder
 * of its own, which never releases its target: the ProcessTree's hold does, when the
 * child ends (the transport's own forwarder would release it with the last peer).
 */
export function handOn(c: ClientLike): ClientLike {
  if (c instanceof Server) return c
  const client = 'client' in c ? c.client : c
  return client._target.tag === 'local' ? c : forwardingServer(client)
}

/** `caps` and `overrides` as a child's own connection (or a Peer.exec) can carry them. */
export function handedOn(caps: readonly NamedCap[], overrides: HostOverrideCaps | undefined): { caps: NamedCap[]; overrides: HostOverrideCaps | undefined } {
  const o: Record<string, ClientLike> | undefined = overrides === undefined ? undefined : {}
  for (const k of OVERRIDE_KEYS) if (overrides?.[k] !== undefined) o![k] = handOn(overrides[k])
  return { caps: caps.map((c) => ({ name: c.name, cap: handOn(c.cap) })), overrides: o }
}

/** Writes caps and overrides into Peer.exec's ExecOptions (handedOn first). */
export function writeDelegated(o: proc.ExecOptions, caps: readonly NamedCap[] | undefined, overrides: HostOverrideCaps | undefined): void {
  if (caps !== undefined && caps.length > 0) {
    const l = o.initCaps(caps.length)
    caps.forEach((c, i) => { l.get(i).setName(c.name); setInterfaceClient(1, c.cap, l.get(i)) })
  }
  const keys = OVERRIDE_KEYS.filter((k) => overrides?.[k] !== undefined)
  if (keys.length === 0) return
  const w = o.initOverrides()
  for (const k of keys) {
    const c = overrides![k] as never
    if (k === 'view') w.setView(c)
    else if (k === 'pubSub') w.setPubSub(c)
    else if (k === 'root') w.setRoot(c)
    else if (k === 'registry') w.setRegistry(c)
    else w.setDialer(c)
  }
}

/**
 * The WASI fd of each preopen, as the runtime numbers them (createWasi of
 * @ww/wasi-restricted): after stdio and the scratch dir (when granted), listeners first,
 * then connections, each kind in the spawner's order. (The scratch dir comes before the
 * sockets so that wasi-libc, which scans preopened dirs from fd 3 up to the first EBADF,
 * finds it.)
 */
export function preopenFds(preopens: readonly PreopenCap[], scratch: boolean): number[] {
  let next = 3 + (scratch ? 1 : 0)
  const fds: number[] = new Array(preopens.length)
  for (const kind of ['listener', 'conn'] as const) preopens.forEach((p, i) => { if (p.kind === kind) fds[i] = next++ })
  return fds
}

/**
 * The BootContext of the process `spec` starts: who it is, its parent, its args blob, the
 * caps its spawner passed (in the spawner's order) and its preopened sockets with their
 * fds. The caps are the tree's (held until the process ends); each answer hands out a
 * reference the caller releases. `scratch`: whether the process has a scratch dir
 * (default: when its spawner granted one).
 */
export function bootContextServer(spec: StartSpec, scratch = (spec.child?.scratchBytes ?? 0) > 0): proc.BootContext$Server {
  const caps = spec.caps
  const preopens = spec.child?.preopens ?? []
  const fds = preopenFds(preopens, scratch)
  const writeCaps = (out: (n: number) => { get(i: number): common.NamedCap }): void => {
    const l = out(caps.length)
    caps.forEach((c, i) => { l.get(i).setName(c.name); setInterfaceClient(1, c.cap, l.get(i)) })
  }
  return new proc.BootContext.Server({
    info(_p, r) {
      const i = r.initInfo()
      writeRef(i.initSelf(), spec.host, spec.pid)
      writeRef(i.initParent(), spec.parentRef.host, spec.parentRef.pid)
      if (spec.cid !== undefined) i.setCid(cidBytes(spec.cid))
      i.setName(spec.name ?? '')
      if (spec.child?.args) i.setArgs(spec.child.args)
      writeCaps((n) => i.initCaps(n))
      if (preopens.length > 0) {
        const l = i.initPreopens(preopens.length)
        preopens.forEach((p, k) => {
          const e = l.get(k)
          e.setName(p.name)
          e.setFd(fds[k]!)
          if (p.kind === 'listener') e.setListener(p.cap)
          else e.setConn(p.cap)
        })
      }
    },
    self(_p, r) { writeRef(r.initSelf(), spec.host, spec.pid) },
    parent(_p, r) { writeRef(r.initParent(), spec.parentRef.host, spec.parentRef.pid) },
    args(_p, r) { if (spec.child?.args) r.setArgs(spec.child.args) },
    caps(_p, r) { writeCaps((n) => r.initCaps(n)) },
    cap(p, r) {
      const name = p.getName()
      const c = caps.find((x) => x.name === name)
      if (c === undefined) throw rpcError('ERR_NOT_FOUND', `no cap named '${name}' (names: ${caps.map((x) => x.name).join(', ') || 'none'})`)
      setInterfaceClient(0, c.cap, r)
    },
  })
}
