// Release hooks: how a Server learns that no peer holds it any more.
//
// A Server is "held" while at least one RpcConnection exports it (each connection keeps
// one export entry per server, whatever its reference count) or while local code holds it
// with `retainServer` (e.g. a capability a peer handed back to us that we store). When the
// last hold goes — a peer's Release bringing the export's count to 0, a Finish with
// releaseResultCaps for results that carried it, Return.releaseParamCaps, the connection
// closing or aborting, or `retainServer`'s release — the hooks registered with `onReleased`
// run, each exactly once, and are forgotten: exporting the server again later does not
// run them again.
//
// Why a registered hook and not "call the server's [Symbol.dispose]": it is opt-in and
// explicit (a server that happens to be disposable is not torn down because a peer let go
// of it, perhaps while local code still uses it), it needs no subclass of the generated
// Server classes, and whoever creates the server (not only the server class) can attach
// the cleanup it owns.

import type { Server } from 'capnp-ts'

interface Holds { count: number; hooks: Set<() => void> | undefined }

const state = new WeakMap<Server, Holds>()

function holdsOf(server: Server): Holds {
  let h = state.get(server)
  if (h === undefined) { h = { count: 0, hooks: undefined }; state.set(server, h) }
  return h
}

/**
 * Runs `fn` once, when `server` stops being held by any peer (and any `retainServer`),
 * after having been held: never while another connection still exports it, never twice.
 * A hook that throws is ignored (it is cleanup; it cannot fail the peer's Release).
 * Returns a function that unregisters `fn`.
 */
export function onReleased(server: Server, fn: () => void): () => void {
  const h = holdsOf(server)
  const hooks = (h.hooks ??= new Set())
  // A wrapper, so registering the same function twice gives two independent hooks.
  const hook = (): void => fn()
  hooks.add(hook)
  return () => { h.hooks?.delete(hook) }
}

/**
 * A local hold on `server`: its release hooks do not run while any is held. Returns the
 * function that drops this hold (idempotent); dropping the last hold runs the hooks if
 * no connection exports the server either.
 */
export function retainServer(server: Server): () => void {
  holdServer(server)
  let done = false
  return () => {
    if (done) return
    done = true
    dropServer(server)
  }
}

/** A connection added its export entry for `server`. Internal. */
export function holdServer(server: Server): void {
  holdsOf(server).count++
}

/** A connection removed its export entry for `server`. Internal. */
export function dropServer(server: Server): void {
  const h = state.get(server)
  if (h === undefined || h.count <= 0) return
  if (--h.count > 0) return
  const hooks = h.hooks
  h.hooks = undefined
  if (hooks === undefined) return
  for (const f of hooks) {
    try { f() } catch { /* see onReleased */ }
  }
}
