// Incoming frames against a guest that serves: mutated Bootstrap, Call, Return, Finish and
// Release frames (and noise) are queued for serve-echo, which handles them all and then
// sees its connection close. Invariants: the guest never traps (every malformed or
// hostile frame ends in an exception Return or an Abort, never a crash), and every frame
// it sends is a well-formed RPC message. Control: the unmutated script is answered fully.
import fc from 'fast-check'
import { Message, Struct } from 'capnp-ts'
import { Message as RpcMessage, Message_Which, Return_Which } from 'capnp-ts/src/std/rpc.capnp.js'
import type { Payload } from 'capnp-ts/src/std/rpc.capnp.js'
import { getPointer, initStructAt } from 'capnp-ts/src/serialization/pointers/struct.js'
import { setInterfacePointer } from 'capnp-ts/src/serialization/pointers/pointer.js'
import { testing } from '@ww/schema'
import { guestBytes } from '../src/index.js'
import { scriptedPeer, frameOf } from './peer.js'

const { echo: ECHO, counter: COUNTER, ping: PING } = testing.Echo$Methods

function build(f: (root: RpcMessage) => void): Uint8Array {
  const m = new Message()
  f(m.initRoot(RpcMessage))
  return frameOf(m)
}

function call(qid: number, target: { cap: number } | { question: number; transform: number[] }, method: typeof ECHO | typeof COUNTER | typeof PING, fill?: (p: Payload) => void): Uint8Array {
  return build((r) => {
    const c = r.initCall()
    c.setQuestionId(qid)
    c.setInterfaceId(method.interfaceId)
    c.setMethodId(method.methodId)
    const t = c.initTarget()
    if ('cap' in target) t.setImportedCap(target.cap)
    else {
      const pa = t.initPromisedAnswer()
      pa.setQuestionId(target.question)
      const ops = pa.initTransform(target.transform.length)
      target.transform.forEach((f, i) => ops.get(i).setGetPointerField(f))
    }
    fill?.(c.initParams())
  })
}

/** A session as the host would drive it: bootstrap the guest, call, pipeline, release. */
function script(): Uint8Array[] {
  return [
    // The answer to the guest's own Bootstrap (question 0): a capability of ours.
    build((r) => {
      const ret = r.initReturn()
      ret.setAnswerId(0)
      const p = ret.initResults()
      p.initCapTable(1).get(0).setSenderHosted(0)
      setInterfacePointer(0, getPointer(0, p))
    }),
    build((r) => r.initBootstrap().setQuestionId(0)),
    call(1, { question: 0, transform: [] }, ECHO, (p) => {
      initStructAt(0, testing.Echo_echo$Params, p).setPayload(new Uint8Array(40).fill(7))
      const t = p.initCapTable(2)
      t.get(0).setSenderHosted(0)
      t.get(1).setReceiverHosted(0)
    }),
    call(2, { cap: 0 }, COUNTER, (p) => { initStructAt(0, testing.Echo_counter$Params, p).setStart(5n) }),
    call(3, { question: 2, transform: [0] }, testing.Counter$Methods.add as never, (p) => { initStructAt(0, testing.Counter_add$Params, p).setN(2n) }),
    call(4, { cap: 0 }, PING),
    build((r) => { const f = r.initFinish(); f.setQuestionId(1) }),
    build((r) => { const f = r.initFinish(); f.setQuestionId(2); f.setReleaseResultCaps(true) }),
    build((r) => { const x = r.initRelease(); x.setId(0); x.setReferenceCount(1) }),
    build((r) => { const f = r.initFinish(); f.setQuestionId(3) }),
  ]
}

interface Run { trapped: string | undefined; sent: Uint8Array[] }

let module: WebAssembly.Module

beforeAll(async () => {
  module = await WebAssembly.compile(await guestBytes('serve-echo', { asyncify: false }))
})

async function run(frames: Uint8Array[]): Promise<Run> {
  const peer = scriptedPeer(() => undefined)
  peer.queue.push(...frames)
  const instance = await WebAssembly.instantiate(module, peer.imports)
  peer.attach(instance)
  try {
    ;(instance.exports.ww_main as () => number)()
    return { trapped: undefined, sent: peer.sent }
  } catch (e) {
    return { trapped: String(e), sent: peer.sent }
  }
}

function decode(f: Uint8Array): RpcMessage {
  const root = new Message(f.slice().buffer, false).getRoot(RpcMessage)
  root.which() // touch the union: a malformed frame throws here
  return root
}

const op = fc.oneof(
  fc.record({ k: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ k: fc.constant('word' as const), at: fc.nat(), v: fc.nat(0xffffffff) }),
  fc.record({ k: fc.constant('cut' as const), at: fc.nat() }),
)

function mutate(seed: Uint8Array, ops: Array<{ k: 'flip' | 'word' | 'cut'; at: number; bit?: number; v?: number }>): Uint8Array {
  let b = seed.slice()
  for (const o of ops) {
    if (b.byteLength === 0) break
    const at = o.at % b.byteLength
    if (o.k === 'flip') b[at]! ^= 1 << o.bit!
    else if (o.k === 'word' && b.byteLength >= 4) new DataView(b.buffer).setUint32(Math.min(at & ~3, b.byteLength - 4), o.v!, true)
    else if (o.k === 'cut') b = b.slice(0, at)
  }
  return b
}

describe('a serving guest under hostile incoming frames', () => {
  test('control: the script is answered — echo, counter, a pipelined add, ping — and nothing is aborted', async () => {
    const { trapped, sent } = await run(script())
    expect(trapped).toBeUndefined()
    const msgs = sent.map(decode)
    expect(msgs.filter((m) => m.which() === Message_Which.ABORT)).toHaveLength(0)
    const returns = msgs.filter((m) => m.which() === Message_Which.RETURN).map((m) => m.getReturn())
    const results = returns.filter((r) => r.which() === Return_Which.RESULTS).map((r) => r.getAnswerId()).sort()
    // Bootstrap (0), echo (1), counter (2), add (3), ping (4): all answered with results.
    expect(results).toEqual([0, 1, 2, 3, 4])
    const add = returns.find((r) => r.getAnswerId() === 3)!
    expect(Struct.getStruct(0, testing.Counter_add$Results, add.getResults()).getTotal()).toBe(7n)
  })

  test('mutated frames: never a trap, every frame sent is well-formed', async () => {
    const seeds = script()
    await fc.assert(fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(seeds.length - 1), fc.array(op, { minLength: 0, maxLength: 3 })), { minLength: 1, maxLength: 12 }),
      async (plan) => {
        const frames = plan.map(([i, ops]) => mutate(seeds[i]!, ops))
        const { trapped, sent } = await run(frames)
        expect(trapped).toBeUndefined()
        for (const f of sent) expect(() => decode(f)).not.toThrow()
      },
    ), { numRuns: 300, seed: 20261207 })
  })
})
