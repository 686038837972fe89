// Write coalescing for libp2p connections, through public interfaces only: the secured
// connection the muxer sees (wrapped in noise-wire.ts) gathers what the muxer sends in one
// event-loop turn and hands it to the encrypter as one message.
//
// Why: yamux sends each frame with its own `send()` — a data frame, then a window update
// for every data frame received — and noise encrypts each send into its own message and
// socket write. One host-to-host RPC round trip measured 12 socket writes (both hosts),
// against 2–4 for the same RpcConnection on plain TCP. Gathered per tick, a round trip is
// a few noise messages and socket writes (see host.rpc in the README for the figures).
//
// Backpressure is kept: while gathering, `send` answers what the connection last answered
// (false → the muxer waits for 'drain', which the wrapped connection still emits), and
// the gathered bytes are bounded by `maxBytes` (reached: flushed at once).

import type { MessageStream } from '@libp2p/interface'

export interface CoalesceOptions {
  /** Flush at once past this many gathered bytes. Default 64 KiB. */
  maxBytes?: number
}

type Chunks = Uint8Array | Iterable<Uint8Array>
export type StreamOverrides = Partial<Record<string | symbol, (...a: never[]) => unknown>>

/** `send`, `close` and `onDrain` for `conn` that gather one tick's sends into one send. */
export function coalescer(conn: MessageStream, opts: CoalesceOptions = {}): StreamOverrides {
  const maxBytes = opts.maxBytes ?? 64 * 1024
  let pending: Uint8Array[] | undefined
  let bytes = 0
  let canSend = true
  const flush = (): void => {
    const parts = pending
    pending = undefined
    if (parts === undefined || bytes === 0) return
    const data = parts.length === 1 ? parts[0]! : concat(parts, bytes)
    bytes = 0
    if (conn.status !== 'open') return // closing or closed: nothing more can leave
    try {
      canSend = conn.send(data)
    } catch {
      canSend = false // the connection failed under us; its own events report it
    }
  }
  const send = (data: Chunks): boolean => {
    if (pending === undefined) {
      pending = []
      // After this turn's I/O callbacks: a received frame's answer, yamux's window update
      // and the RPC Finish leave together (process.nextTick measured 8 writes per round
      // trip, setImmediate 4).
      setImmediate(flush)
    }
    if (data instanceof Uint8Array) { pending.push(data); bytes += data.byteLength }
    else for (const c of data) { pending.push(c); bytes += c.byteLength }
    if (bytes >= maxBytes) flush()
    return canSend
  }
  conn.addEventListener('drain', () => { canSend = true })
  return {
    send,
    // What was gathered leaves before the connection closes.
    close: (o?: object) => { flush(); return conn.close(o) },
    onDrain: (o?: object) => { flush(); return conn.onDrain(o) },
  }
}

/** `conn` with some methods replaced; the others run on the real object. */
export function withOverrides<T extends object>(conn: T, overrides: StreamOverrides): T {
  const bound = new Map<string | symbol, { of: unknown; fn: unknown }>() // bind once, not per call
  return new Proxy(conn, {
    get(target, key) {
      const own = overrides[key]
      if (own !== undefined) return own
      const v: unknown = Reflect.get(target, key, target)
      // Methods (from the prototype) run on the real object (private fields, EventTarget
      // brand checks); own properties — e.g. the callable `log` with its own methods — as-is.
      if (typeof v !== 'function' || Object.prototype.hasOwnProperty.call(target, key)) return v
      const hit = bound.get(key)
      if (hit !== undefined && hit.of === v) return hit.fn
      const fn = (v as (...a: unknown[]) => unknown).bind(target)
      bound.set(key, { of: v, fn })
      return fn
    },
  })
}

/** The same MessageStream, with `send` gathering one tick's bytes into one send. */
export function coalesced(conn: MessageStream, maxBytes: number): MessageStream {
  return withOverrides(conn, coalescer(conn, { maxBytes }))
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  // From Buffer's pool: a tick's gathered frames are a few hundred bytes (host.rpc: ~5 µs
  // per round trip went to an ArrayBuffer of their own); every byte is written below.
  const out = Buffer.allocUnsafe(total)
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.byteLength }
  return out
}
