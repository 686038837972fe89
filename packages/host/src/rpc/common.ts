// Handle (ends a stream) and Revoker (revokes an attenuation) servers, and the batching
// pump every host-to-handler stream uses: one call outstanding, the next batch only after
// the previous call returned.

import { common } from '@ww/schema'
import type { Scope } from './scope.js'

/** The Revoker beside an attenuation. Not guarded: revoking twice, or late, is a no-op. */
export function revokerServer(scope: Scope): common.Revoker$Server {
  return new common.Revoker.Server({
    revoke(p) { scope.revoke(p.getReason() || 'revoked') },
  })
}

/** A Handle whose cancel ends the stream; cancel resolves once no further call will be made. */
export function handleServer(cancel: () => Promise<void>): common.Handle$Server {
  return new common.Handle.Server({ cancel: () => cancel() })
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
