// What a spawner hands a child (ExecOptions.caps, overrides and preopens) is held while the child
// lives and let go when it ends. Two kinds of reference need holding differently:
// - one of our own servers (a Server, or a peer's capability handed back to us): a
//   `retainServer` hold, so a peer's Release does not free what the child still uses;
// - an import from a peer: a handle of the child's own (retainClient), since the handle
//   the request carried is the call's and the transport disposes it when the call settles.

import { Server, type ClientLike } from 'capnp-ts'
import { retainClient, retainServer } from '@ww/transport'
import type { ChildOptions, HostOverrideCaps, NamedCap } from './types.js'

/** `c` held until the returned letGo (idempotent); `cap` is what the holder uses. */
export function holdCap(c: ClientLike): { cap: ClientLike; letGo: () => void } {
  if (c instanceof Server) return { cap: c, letGo: retainServer(c) }
  const t = ('client' in c ? c.client : c)._target
  if (t.tag === 'local') return { cap: c, letGo: retainServer(t.server) }
  if (t.tag !== 'import') return { cap: c, letGo: () => {} } // a promise or a broken cap: nothing of ours to keep
  const own = retainClient(c)
  return { cap: own, letGo: () => ('client' in own ? own.client : own).dispose() }
}

/**
 * Holds every cap and override of a spawn: the child is given `caps` and `child` (its own
 * handles in place of the request's), and `letGo` lets go of all of them once.
 */
export function holdDelegated(caps: readonly NamedCap[] | undefined, child: ChildOptions | undefined): {
  caps: NamedCap[] | undefined; child: ChildOptions | undefined; letGo: () => void
} {
  const held: Array<() => void> = []
  const hold = (c: ClientLike): ClientLike => { const h = holdCap(c); held.push(h.letGo); return h.cap }
  const ownCaps = caps?.map((c) => ({ name: c.name, cap: hold(c.cap) }))
  let ownChild = child
  if (child?.overrides !== undefined) {
    const o: Record<string, ClientLike> = {}
    for (const [k, c] of Object.entries(child.overrides)) if (c !== undefined) o[k] = hold(c)
    ownChild = { ...child, overrides: o as HostOverrideCaps }
  }
  if (child?.preopens !== undefined) ownChild = { ...ownChild, preopens: child.preopens.map((p) => ({ ...p, cap: hold(p.cap) })) }
  return { caps: ownCaps, child: ownChild, letGo: () => { for (const f of held.splice(0)) f() } }
}
