// Handle (ends a stream) and Revoker (revokes an attenuation) servers, and the batching
// pump every host-to-handler stream uses: one call outstanding, the next batch only after
// the previous call returned.

import { common } from '@ww/schema'
import { Server, type ClientLike } from 'capnp-ts'
import { onReleased, retainServer } from '@ww/transport'
import type { Scope } from './scope.js'

/**
 * Runs `free` once no peer holds `server` any more (schemas/README.md: released is
 * cancelled): the transport's release hook. Returns `server`.
 */
export function freeOnRelease<S extends Server>(server: S, free: () => void): S {
  onReleased(server, free)
  return server
}

/**
 * Keeps one of our own servers alive while `client` is stored: a peer handing back a
 * capability we host (receiverHosted) gives us a local client, and dropping its remote
 * reference must not free what we still hold. Returns the function that lets go.
 */
export function retainLocal(c: ClientLike): () => void {
  const t = c instanceof Server ? { tag: 'local' as const, server: c } : ('client' in c ? c.client : c)._target
  return t.tag === 'local' ? retainServer(t.server) : () => {}
}

/** The Revoker beside an attenuation. Not guarded: revoking twice, or late, is a no-op. */
export function revokerServer(scope: Scope): common.Revoker$Server {
  return new common.Revoker.Server({
    revoke(p) { scope.revoke(p.getReason() || 'revoked') },
  })
}

/**
 * A Handle whose cancel ends the stream; cancel resolves once no further call will be made.
 * Released by its last holder, it runs `released` (ends the stream without waiting).
 */
export function handleServer(cancel: () => Promise<void>, released: () => void): common.Handle$Server {
  return freeOnRelease(new common.Handle.Server({ cancel: () => cancel() }), released)
}

/**
 * Moves items from `src` to `send` in batches of up to `maxBatch`: whatever is queued when
 * the previous call returned. Ends when `src` ends; a failing `send` rejects.
 */
export async function pumpBatches<T>(
  src: AsyncIterator<T>, queued: () => number, maxBatch: number, send: (batch: T[]) => Promise<void>,
): Promise<void> {
  for (;;) {
    const first = await src.next()
    if (first.done === true) return
    const batch = [first.value]
    while (batch.length < maxBatch && queued() > 0) {
      const r = await src.next()
      if (r.done === true) break
      batch.push(r.value)
    }
    await send(batch)
  }
}
