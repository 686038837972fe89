// How host-to-host bytes meet noise and the socket: a ConnectionEncrypter wrapper around
// noise() (public interfaces only — the connections noise is given and gives back are
// wrapped, noise itself is untouched) with three measured changes, each switchable:
//
// - coalesceWrites (coalesce.ts): what the muxer sends in one event-loop turn becomes one
//   noise message (yamux sends every frame, and a window update per received data frame,
//   with its own send).
// - oneWritePerMessage: noise hands the socket each message as [2-byte length, ciphertext]
//   and @libp2p/tcp writes the parts with one socket.write each — two syscalls per
//   message. Joined here into one buffer (a copy of at most `maxJoinBytes`): one syscall.
// - frameDecoder (noise-decoder.ts): noise's length-prefixed decoder (which throws and
//   catches a RangeError at the end of every received chunk, and keeps a Uint8ArrayList)
//   is replaced on each secured connection by one that does neither. This is the one
//   reach past noise's interfaces: its connection's `decoder` field, replaced only when it
//   is there with a `decode` method (else noise's own stays, and quietDecoder applies).
// - quietDecoder (stack-scope.ts), without frameDecoder: noise's decoder's listener runs
//   with stack traces off, the muxer's listener (called synchronously from inside it)
//   with them back on.
// - skipUnheardEvents (unheard-events.ts): the raw and the secured connection build no
//   event nobody listens to ('idle' after every send). Like frameDecoder, a reach past the
//   interfaces: an own method on those objects, set only when they have main-event's.

import type { ConnectionEncrypter, MessageStream, SecuredConnection } from '@libp2p/interface'
import { coalescer, withOverrides, type StreamOverrides } from './coalesce.js'
import { NoiseFrameDecoder } from './noise-decoder.js'
import { callLoudly, callQuietly } from './stack-scope.js'
import { skipUnheardEvents } from './unheard-events.js'

export interface WireOptions {
  coalesceWrites?: boolean
  oneWritePerMessage?: boolean
  quietDecoder?: boolean
  frameDecoder?: boolean
  skipUnheardEvents?: boolean
  /** Coalesced bytes flushed at once past this. Default 64 KiB. */
  maxCoalesceBytes?: number
  /** Larger sends keep their parts (the copy would cost more than the syscall). Default 256 KiB. */
  maxJoinBytes?: number
}

type EncrypterFactory<C> = (components: C) => ConnectionEncrypter
type Chunks = Parameters<MessageStream['send']>[0]
type Listener = ((e: unknown) => void) | { handleEvent(e: unknown): void }
type Call = (listener: Listener, self: unknown, e: unknown) => void

/**
 * Wraps an encrypter factory (e.g. `noise()`) with the options above (default: all true
 * but quietDecoder, which matters only without frameDecoder).
 */
export function tunedEncrypter<C>(factory: EncrypterFactory<C>, opts: WireOptions = {}): EncrypterFactory<C> {
  const o0 = { coalesceWrites: true, oneWritePerMessage: true, frameDecoder: true, skipUnheardEvents: true, ...opts }
  const o = { ...o0, quietDecoder: opts.quietDecoder ?? !o0.frameDecoder }
  if (!o.coalesceWrites && !o.oneWritePerMessage && !o.quietDecoder && !o.frameDecoder && !o.skipUnheardEvents) return factory
  return (components) => {
    const inner = factory(components)
    const secure = async (raw: MessageStream, p: (c: MessageStream) => Promise<SecuredConnection>): Promise<SecuredConnection> => {
      if (o.skipUnheardEvents) skipUnheardEvents(raw)
      const secured = await p(wireSide(raw, o))
      if (o.frameDecoder) replaceDecoder(secured.connection)
      if (o.skipUnheardEvents) skipUnheardEvents(secured.connection)
      return { ...secured, connection: plaintextSide(secured.connection, o) }
    }
    return new Proxy(inner, {
      get(target, key) {
        if (key === 'secureOutbound') return (c: MessageStream, x?: object) => secure(c, (w) => target.secureOutbound(w, x))
        if (key === 'secureInbound') return (c: MessageStream, x?: object) => secure(c, (w) => target.secureInbound(w, x))
        return Reflect.get(target, key, target)
      },
    })
  }
}

/** Noise's decoder on its secured connection, replaced (see frameDecoder above) when it has one. */
function replaceDecoder(secured: MessageStream): void {
  const c = secured as unknown as { decoder?: { decode?: unknown } }
  if (typeof c.decoder?.decode === 'function') c.decoder = new NoiseFrameDecoder()
}

/** The raw connection as noise sees it: one write per message, its decoder run quietly. */
function wireSide(raw: MessageStream, o: Required<Pick<WireOptions, 'oneWritePerMessage' | 'quietDecoder'>> & WireOptions): MessageStream {
  const overrides: StreamOverrides = {}
  if (o.oneWritePerMessage) {
    const maxJoin = o.maxJoinBytes ?? 256 * 1024
    overrides.send = (data: Chunks) => raw.send(data instanceof Uint8Array || data.byteLength > maxJoin ? data : joined(data))
  }
  if (o.quietDecoder) Object.assign(overrides, messageListeners(raw, callQuietly))
  return withOverrides(raw, overrides)
}

/** The secured connection as the muxer sees it: sends coalesced, listeners run loudly. */
function plaintextSide(secured: MessageStream, o: Required<Pick<WireOptions, 'coalesceWrites' | 'quietDecoder'>> & WireOptions): MessageStream {
  const overrides: StreamOverrides = {}
  if (o.coalesceWrites) Object.assign(overrides, coalescer(secured, { maxBytes: o.maxCoalesceBytes }))
  if (o.quietDecoder) Object.assign(overrides, messageListeners(secured, callLoudly))
  return withOverrides(secured, overrides)
}

/** add/removeEventListener for `conn` that run 'message' listeners through `via`. */
function messageListeners(conn: MessageStream, via: Call): StreamOverrides {
  const wrapped = new WeakMap<object, (e: unknown) => void>()
  const add = conn.addEventListener.bind(conn) as (t: string, l: unknown, o?: unknown) => void
  const remove = conn.removeEventListener.bind(conn) as (t: string, l: unknown, o?: unknown) => void
  return {
    addEventListener: (type: string, listener: Listener | null, options?: unknown) => {
      if (type !== 'message' || listener === null) { add(type, listener, options); return }
      let w = wrapped.get(listener)
      if (w === undefined) {
        const l = listener
        w = function (this: unknown, e: unknown) { via(l, this, e) }
        wrapped.set(listener, w)
      }
      add(type, w, options)
    },
    removeEventListener: (type: string, listener: Listener | null, options?: unknown) => {
      const w = type === 'message' && listener !== null ? wrapped.get(listener) : undefined
      remove(type, w ?? listener, options)
    },
  }
}

/** One buffer for a multi-part send (Uint8ArrayList.subarray() concatenates its parts). */
function joined(data: Exclude<Chunks, Uint8Array>): Uint8Array {
  return data.subarray()
}
