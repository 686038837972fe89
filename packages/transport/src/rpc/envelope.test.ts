import { Message } from 'capnp-ts'
import { Message as RpcMessage, Message_Which, MessageTarget_Which, Return_Which } from 'capnp-ts/src/std/rpc.capnp.js'
import { readFrame, writeFrame, frameSize } from '../frame.js'
import { writeCall, writeReturn, writeFinish, slabMessage, baseOf, segmentOf, CALL_PARAMS_PTR, RETURN_RESULTS_PTR } from './envelope.js'
import { getStruct } from 'capnp-ts/src/serialization/pointers/struct.js'
import { testing } from '@ww/schema'

/** Frame `m`, validate it with readFrame and read it back with capnp-ts. */
function reread(m: Message): RpcMessage {
  const buf = new Uint8Array(frameSize(m))
  writeFrame(m, buf)
  return readFrame(buf.buffer, 0, buf.byteLength).message.getRoot(RpcMessage)
}

describe('raw envelopes', () => {
  it('a Call reads back through capnp-ts with every field, params written by capnp-ts', () => {
    const m = writeCall(7, 0x8fd629c338ff292bn, 3, 11, 1, 0)
    new testing.Counter_add$Params(segmentOf(m), baseOf(m) + CALL_PARAMS_PTR).setN(42n)
    const root = reread(m)
    expect(root.which()).toBe(Message_Which.CALL)
    const call = root.getCall()
    expect(call.getQuestionId()).toBe(7)
    expect(call.getInterfaceId()).toBe(0x8fd629c338ff292bn)
    expect(call.getMethodId()).toBe(3)
    expect(call.getSendResultsTo().isCaller()).toBe(true)
    expect(call.getTarget().which()).toBe(MessageTarget_Which.IMPORTED_CAP)
    expect(call.getTarget().getImportedCap()).toBe(11)
    expect(call.getParams().hasCapTable()).toBe(false)
    expect(getStruct(0, testing.Counter_add$Params, call.getParams()).getN()).toBe(42n)
  })

  it('a Call whose params have pointers grows its own buffer, not a shared one', () => {
    const m = writeCall(1, 5n, 1, 0, 0, 1)
    expect(baseOf(m)).toBe(0)
    new testing.Echo_echo$Params(segmentOf(m), CALL_PARAMS_PTR).setPayload(new Uint8Array(500).fill(7))
    const p = getStruct(0, testing.Echo_echo$Params, reread(m).getCall().getParams()).getPayload().toUint8Array()
    expect(p.byteLength).toBe(500)
    expect(p.every((b: number) => b === 7)).toBe(true)
  })

  it('a Return and a Finish read back with their flags (defaults are stored XORed)', () => {
    const r = writeReturn(9, 1, 0)
    new testing.Counter_add$Results(segmentOf(r), baseOf(r) + RETURN_RESULTS_PTR).setTotal(99n)
    const ret = reread(r).getReturn()
    expect(ret.getAnswerId()).toBe(9)
    expect(ret.which()).toBe(Return_Which.RESULTS)
    expect(ret.getReleaseParamCaps()).toBe(false)
    expect(ret.getNoFinishNeeded()).toBe(false)
    expect(getStruct(0, testing.Counter_add$Results, ret.getResults()).getTotal()).toBe(99n)
    const f = reread(writeFinish(12)).getFinish()
    expect(f.getQuestionId()).toBe(12)
    expect(f.getReleaseResultCaps()).toBe(false)
    expect(f.getRequireEarlyCancellationWorkaround()).toBe(true)
  })

  it('slab messages own disjoint ranges and serialize with capnp-ts APIs as their own bytes', () => {
    const a = writeFinish(1)
    const b = writeFinish(2)
    expect(baseOf(b)).toBeGreaterThanOrEqual(baseOf(a) + 32)
    // toArrayBuffer (what a sink using capnp-ts serialization calls) frames only b's bytes.
    const buf = b.toArrayBuffer()
    expect(buf.byteLength).toBe(8 + 32)
    expect(new Message(buf, false).getRoot(RpcMessage).getFinish().getQuestionId()).toBe(2)
    expect(new Message(b.toPackedArrayBuffer()).getRoot(RpcMessage).getFinish().getQuestionId()).toBe(2)
  })

  it('an allocation in a slab message goes to a new segment, never into the next message', () => {
    const m = slabMessage(16)
    const next = writeFinish(77)
    // Root pointer then an empty struct; initRoot-style growth must not touch `next`.
    const seg = segmentOf(m)
    const p = seg.allocate(64)
    expect(p.segment).not.toBe(seg)
    expect(reread(next).getFinish().getQuestionId()).toBe(77)
  })
})
