import { Message } from 'capnp-ts'
import { MultiSegmentArena } from 'capnp-ts/src/serialization/arena/multi-segment-arena.js'
import { Message as RpcMessage } from 'capnp-ts/src/std/rpc.capnp.js'
import { getStruct } from 'capnp-ts/src/serialization/pointers/struct.js'
import { testing } from '@ww/schema'
import { frameSize, readFrame, writeFrame } from '../frame.js'
import { writeReturn, writeFinish, segmentOf, baseOf, RETURN_RESULTS_PTR } from '../rpc/envelope.js'
import { zeroCopyIO } from './frame-io.js'

/** What writeFrame writes for `m`. */
function framed(m: Message): Uint8Array {
  const out = new Uint8Array(frameSize(m))
  writeFrame(m, out)
  return out
}

/** zeroCopyIO.write of `m` at byte 24 of a 64 KiB "guest memory" filled with 0xee. */
function written(m: Message): Uint8Array {
  const memory = new ArrayBuffer(65536)
  new Uint8Array(memory).fill(0xee)
  const w = zeroCopyIO.write(m, memory, 24, 65536 - 24)
  expect(w).toEqual({ n: frameSize(m), copied: 0 })
  expect(new Uint8Array(memory, 0, 24).every((b) => b === 0xee)).toBe(true)
  expect(new Uint8Array(memory, 24 + w.n, 16).every((b) => b === 0xee)).toBe(true)
  return new Uint8Array(memory, 24, w.n)
}

describe('zeroCopyIO.write', () => {
  it('writes small envelopes at a slab offset, a plain message and a multi-segment one exactly as writeFrame does', () => {
    const finish = writeFinish(7)
    const ret = writeReturn(3, 1, 0)
    new testing.Counter_add$Results(segmentOf(ret), baseOf(ret) + RETURN_RESULTS_PTR).setTotal(99n)
    const plain = new Message()
    plain.initRoot(testing.Echo_echo$Params).setPayload(new Uint8Array([1, 2, 3, 4, 5]))
    const multi = new Message(new MultiSegmentArena())
    const root = multi.initRoot(testing.Echo_echo$Params)
    root.setPayload(new Uint8Array(9000).fill(5)) // past the first segment: a second one
    expect(multi._capnp.segments.length).toBeGreaterThan(1)
    for (const m of [finish, ret, plain, multi]) expect(written(m)).toEqual(framed(m))
    const back = readFrame(written(ret).slice().buffer, 0, frameSize(ret)).message.getRoot(RpcMessage).getReturn()
    expect(back.getAnswerId()).toBe(3)
    expect(getStruct(0, testing.Counter_add$Results, back.getResults()).getTotal()).toBe(99n)
  })

  it('leaves a frame that does not fit queued: -needed, nothing written', () => {
    const m = writeFinish(1)
    const memory = new ArrayBuffer(64)
    expect(zeroCopyIO.write(m, memory, 0, frameSize(m) - 8)).toEqual({ n: -frameSize(m), copied: 0 })
    expect(new Uint8Array(memory).every((b) => b === 0)).toBe(true)
  })
})
