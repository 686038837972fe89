// What a spawner hands a child (ExecOptions.caps and overrides) is held while the child
// lives and let go when it ends. Two kinds of reference need holding differently:
// - one of our own servers (a Server, or a peer's capability handed back to us): a
//   `retainServer` hold, so a peer's Release does not free what the child still uses;
// - an import from a peer: the transport keeps it until its Client is disposed, and one
//   dispose releases every reference to it, so holds on the same Client are counted here
//   and the last one disposes it.

import { Server, type Client, type ClientLike, type Struct } from 'capnp-ts'
import { retainServer } from '@ww/transport'
import type { ChildOptions, NamedCap } from './types.js'

const importHolds = new WeakMap<Client, number>()

function clientOf(c: ClientLike): Client | undefined {
  if (c instanceof Server) return undefined
  return 'client' in c ? c.client : c
}

/** Holds `c` until the returned function is called (idempotent). */
export function holdCap(c: ClientLike): () => void {
  const client = clientOf(c)
  const t = client?._target
  if (client === undefined || t?.tag === 'local') return retainServer(client === undefined ? (c as Server) : (t as { server: Server }).server)
  if (t?.tag !== 'import') return () => {} // a promise or a broken cap: nothing of ours to keep
  importHolds.set(client, (importHolds.get(client) ?? 0) + 1)
  let done = false
  return () => {
    if (done) return
    done = true
    const n = (importHolds.get(client) ?? 1) - 1
    if (n > 0) { importHolds.set(client, n); return }
    importHolds.delete(client)
    client.dispose()
  }
}

/** Holds every cap and override of a spawn; the result lets go of all of them once. */
export function holdDelegated(caps: readonly NamedCap[] | undefined, child: ChildOptions | undefined): () => void {
  const held: Array<() => void> = []
  for (const c of caps ?? []) held.push(holdCap(c.cap))
  for (const c of Object.values(child?.overrides ?? {})) if (c !== undefined) held.push(holdCap(c))
  return () => { for (const f of held.splice(0)) f() }
}

/**
 * Holds every capability the message of `params` carries (a request's cap table: the
 * caps and overrides of one exec, read or not) until the result is called. Taken when an
 * exec handler starts and let go when it settles, it frees what a refused exec was handed
 * at once rather than when the caller's connection closes; a child that started holds its
 * own (holdDelegated), so only what it was not handed goes.
 */
export function holdRequestCaps(params: Struct): () => void {
  const held: Array<() => void> = []
  for (const c of params.segment.message._capnp.capTable ?? []) if (c) held.push(holdCap(c))
  return () => { for (const f of held.splice(0)) f() }
}
