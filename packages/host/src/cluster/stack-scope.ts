// A tightly scoped, synchronous region without stack traces, for one purpose: noise's
// length-prefixed decoder (@libp2p/utils LengthPrefixedDecoder) ends every received chunk
// by throwing and catching a RangeError ("not enough bytes for a length prefix"), and
// capturing that Error's stack trace was ~13% of CPU in a host-to-host ping loop.
//
// `callQuietly` runs noise's 'message' listener on the raw connection with
// Error.stackTraceLimit = 0 and restores it in `finally`; noise decrypts and hands the
// plaintext to the muxer synchronously from inside that call, so the muxer's listener is
// run through `callLoudly`, which puts the saved limit back for everything downstream
// (yamux, streams, RPC) and sets 0 again when it returns. Net effect: only noise's own
// decode/decrypt code runs without stack traces — an Error it raises (a bad length, a
// failed decryption) keeps its class and message but has no stack frames.
// Nothing here is asynchronous, so no other code can observe the changed limit.

type Listener<E> = ((e: E) => void) | { handleEvent(e: E): void }

/** Error.stackTraceLimit outside the innermost quiet region; undefined when not in one. */
let outside: number | undefined

function call<E>(listener: Listener<E>, self: unknown, e: E): void {
  if (typeof listener === 'function') listener.call(self, e)
  else listener.handleEvent(e)
}

/** Runs `listener(e)` with stack traces off (a region ends where `callLoudly` begins). */
export function callQuietly<E>(listener: Listener<E>, self: unknown, e: E): void {
  if (outside !== undefined) { call(listener, self, e); return } // already quiet
  outside = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    call(listener, self, e)
  } finally {
    Error.stackTraceLimit = outside
    outside = undefined
  }
}

/** Runs `listener(e)` with the stack trace limit the enclosing quiet region saved. */
export function callLoudly<E>(listener: Listener<E>, self: unknown, e: E): void {
  const saved = outside
  if (saved === undefined) { call(listener, self, e); return } // not inside a quiet region
  Error.stackTraceLimit = saved
  outside = undefined
  try {
    call(listener, self, e)
  } finally {
    outside = saved
    Error.stackTraceLimit = 0
  }
}

/** True while inside a quiet region (for tests). */
export function inQuietRegion(): boolean {
  return outside !== undefined
}
