// The fuzz harness: random and mutated frames thrown at readFrame and RpcConnection.receive.
// Invariant: the only errors that come out are our typed TransportErrors, synchronously.

import fc from 'fast-check'
import type { Message } from 'capnp-ts'
import { Message as RpcMessage } from 'capnp-ts/src/std/rpc.capnp.js'
import { readFrame } from '../frame.js'
import { TransportError } from '../errors.js'
import { makeLimits } from '../limits.js'
import { RpcConnection, type MessageSink } from '../rpc/connection.js'
import { testing } from '@ww/schema'
import { newEcho } from '@ww/schema/testing'
import { seedFrames } from './seeds.js'

type Op =
  | { k: 'flip'; at: number; bit: number }
  | { k: 'word'; at: number; v: number }
  | { k: 'cut'; at: number }
  | { k: 'insert'; at: number; bytes: Uint8Array }
  | { k: 'size'; seg: number; v: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('word' as const), at: fc.nat(), v: fc.nat(0xffffffff) }), weight: 3 },
  fc.record({ k: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ k: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }) }),
  fc.record({ k: fc.constant('size' as const), seg: fc.nat(3), v: fc.oneof(fc.nat(16), fc.nat(0xffffffff)) }),
)

function apply(seed: Uint8Array, ops: Op[]): Uint8Array {
  let b = seed.slice()
  for (const o of ops) {
    if (b.byteLength === 0) break
    const at = 'at' in o ? o.at % b.byteLength : 0
    switch (o.k) {
      case 'flip': b[at]! ^= 1 << o.bit; break
      case 'word': if (b.byteLength >= 4) new DataView(b.buffer).setUint32(at & ~3 & (b.byteLength - 4 | 0) ? (at & ~3) % (b.byteLength - 3) : 0, o.v, true); break
      case 'cut': b = b.slice(0, at); break
      case 'insert': { const n = new Uint8Array(b.byteLength + o.bytes.byteLength); n.set(b.subarray(0, at)); n.set(o.bytes, at); n.set(b.subarray(at), at + o.bytes.byteLength); b = n; break }
      case 'size': if (b.byteLength >= 8 + 4 * o.seg) new DataView(b.buffer).setUint32(4 + 4 * o.seg, o.v, true); break
    }
  }
  return b
}

/** Frames: mostly mutated seeds, some pure noise (with a plausible one-segment header). */
export function frameArbitrary(): fc.Arbitrary<Uint8Array> {
  const seeds = seedFrames()
  return fc.oneof(
    { arbitrary: fc.tuple(fc.nat(seeds.length - 1), fc.array(op, { minLength: 1, maxLength: 4 })).map(([i, ops]) => apply(seeds[i]!, ops)), weight: 8 },
    { arbitrary: fc.constantFrom(...seeds), weight: 1 },
    { arbitrary: fc.uint8Array({ maxLength: 128 }), weight: 1 },
    {
      arbitrary: fc.uint8Array({ minLength: 8, maxLength: 128 }).map((b) => {
        const out = new Uint8Array(8 + (b.byteLength & ~7))
        new DataView(out.buffer).setUint32(4, b.byteLength >>> 3, true)
        out.set(b.subarray(0, b.byteLength & ~7), 8)
        return out
      }),
      weight: 2,
    },
  )
}

const dropSink: MessageSink = { send(_m: Message) {}, close() {} }
const LIMITS = makeLimits({ traversalLimitWords: 1 << 16 })
const ECHO = newEcho()
let BOOT: Uint8Array | undefined

/** A connection in a state worth hitting: it has asked a question and exported its bootstrap. */
function primedConnection(): RpcConnection {
  const conn = new RpcConnection(dropSink, { bootstrap: ECHO, name: 'fuzz' })
  conn.bootstrap(testing.Echo)
  BOOT ??= seedFrames()[0]!
  const r = readFrame(BOOT.buffer as ArrayBuffer, BOOT.byteOffset, BOOT.byteLength)
  const m = r.message.getRoot(RpcMessage)
  m.getBootstrap().setQuestionId(100)
  conn.receive(r.message, false)
  return conn
}

/** Feed one frame through readFrame and receive; throws if anything but a TransportError escapes. */
export function feed(frame: Uint8Array): 'ok' | string {
  // Place the frame 8-aligned in a larger buffer with junk around it, as guest memory would.
  const buf = new Uint8Array(frame.byteLength + 32).fill(0xa5)
  buf.set(frame, 16)
  try {
    const r = readFrame(buf.buffer, 16, frame.byteLength, LIMITS)
    primedConnection().receive(r.message, r.borrowed)
    return 'ok'
  } catch (e) {
    if (e instanceof TransportError) return e.code
    throw new Error(`non-transport error escaped: ${e instanceof Error ? e.stack : String(e)}`)
  }
}

export interface FuzzResult { frames: number; seconds: number; framesPerSecond: number; outcomes: Record<string, number> }

/** Run `frames` fuzz frames (seeded) and measure the rate. Throws on the first invariant violation. */
export function runFuzz(frames: number, seed = 42): FuzzResult {
  const outcomes: Record<string, number> = {}
  const t0 = performance.now()
  fc.assert(
    fc.property(frameArbitrary(), (f) => {
      const o = feed(f)
      outcomes[o] = (outcomes[o] ?? 0) + 1
    }),
    { numRuns: frames, seed, endOnFailure: true },
  )
  const seconds = (performance.now() - t0) / 1000
  return { frames, seconds, framesPerSecond: frames / seconds, outcomes }
}

/** Frames per second of the fuzz harness (for the transport.fuzz-rate benchmark). */
export function measureFuzzRate(frames = 20_000, seed = 42): number {
  return runFuzz(frames, seed).framesPerSecond
}
