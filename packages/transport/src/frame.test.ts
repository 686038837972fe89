import { Message } from 'capnp-ts'
import { Message as RpcMessage } from 'capnp-ts/src/std/rpc.capnp.js'
import { readFrame, writeFrame, frameSize, frameLength, expire } from './frame.js'
import { FrameError, LimitError, ViewExpiredError } from './errors.js'
import { makeLimits } from './limits.js'

function callFrame(payloadBytes = 16): Uint8Array {
  const m = new Message()
  const call = m.initRoot(RpcMessage).initCall()
  call.setQuestionId(7)
  call.setInterfaceId(0x8fd629c338ff292bn)
  call.setMethodId(1)
  call.initTarget().setImportedCap(3)
  const p = call.initParams()
  p.initCapTable(1).get(0).setSenderHosted(9)
  void payloadBytes
  const out = new Uint8Array(frameSize(m))
  writeFrame(m, out)
  return out
}

/** Words as little-endian u32 pairs: frame = header + segment words. */
function frame(segments: number[][][]): Uint8Array {
  const count = segments.length
  const hdr = (4 + 4 * count + 7) & ~7
  const body = segments.reduce((n, s) => n + s.length * 8, 0)
  const out = new Uint8Array(hdr + body)
  const dv = new DataView(out.buffer)
  dv.setUint32(0, count - 1, true)
  segments.forEach((s, i) => dv.setUint32(4 + 4 * i, s.length, true))
  let pos = hdr
  for (const s of segments) for (const [lo, hi] of s) { dv.setUint32(pos, lo! >>> 0, true); dv.setUint32(pos + 4, hi! >>> 0, true); pos += 8 }
  return out
}
const structPtr = (off: number, data: number, ptrs: number): [number, number] => [((off << 2) | 0) >>> 0, data | (ptrs << 16)]
const listPtr = (off: number, size: number, n: number): [number, number] => [((off << 2) | 1) >>> 0, size | (n << 3)]
const farPtr = (padWord: number, seg: number, double = false): [number, number] => [((padWord << 3) | (double ? 4 : 0) | 2) >>> 0, seg]

function read(bytes: Uint8Array, limits = makeLimits()) {
  return readFrame(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, limits)
}

describe('readFrame', () => {
  it('decodes a single-segment frame in place and round-trips', () => {
    const bytes = callFrame()
    const { message, borrowed, bytes: used } = read(bytes)
    expect(borrowed).toBe(true)
    expect(used).toBe(bytes.byteLength)
    const call = message.getRoot(RpcMessage).getCall()
    expect(call.getQuestionId()).toBe(7)
    expect(call.getTarget().getImportedCap()).toBe(3)
    expect(call.getParams().getCapTable().get(0).getSenderHosted()).toBe(9)
    // re-framing the borrowed message reproduces the bytes
    const again = new Uint8Array(frameSize(message))
    writeFrame(message, again)
    expect(again).toEqual(bytes)
  })

  it('decodes in place at a non-zero offset of a larger buffer', () => {
    const bytes = callFrame()
    const big = new Uint8Array(4096)
    big.fill(0xff)
    big.set(bytes, 1024)
    const { message, borrowed } = readFrame(big.buffer, 1024, bytes.byteLength + 500)
    expect(borrowed).toBe(true)
    expect(message.getRoot(RpcMessage).getCall().getMethodId()).toBe(1)
  })

  it('copies an unaligned frame', () => {
    const bytes = callFrame()
    const big = new Uint8Array(bytes.byteLength + 4)
    big.set(bytes, 4)
    const r = readFrame(big.buffer, 4, bytes.byteLength)
    expect(r.borrowed).toBe(false)
    expect(r.message.getRoot(RpcMessage).getCall().getQuestionId()).toBe(7)
  })

  it('expire() makes every later read throw ViewExpiredError', () => {
    const { message } = read(callFrame())
    const call = message.getRoot(RpcMessage).getCall()
    expire(message)
    expect(() => call.getQuestionId()).toThrow(ViewExpiredError)
    expect(() => message.getRoot(RpcMessage)).toThrow(ViewExpiredError)
  })

  it('rejects truncated frames', () => {
    const bytes = callFrame()
    for (const n of [0, 3, 7, 8, 15, bytes.byteLength - 8]) {
      expect(() => read(bytes.subarray(0, n))).toThrow(FrameError)
    }
  })

  it('rejects huge segment tables with LimitError', () => {
    const b = new Uint8Array(16)
    new DataView(b.buffer).setUint32(0, 0xffffffff, true)
    expect(() => read(b)).toThrow(LimitError)
    expect(() => frameLength(b)).toThrow(LimitError)
    // a table within the limit but longer than the bytes: truncated
    new DataView(b.buffer).setUint32(0, 100, true)
    expect(() => read(b)).toThrow(/truncated/)
    expect(frameLength(b)).toBeUndefined()
  })

  it('rejects a frame over maxFrameBytes', () => {
    const f = frame([[structPtr(0, 1, 0), [0, 0]]])
    expect(() => read(f, makeLimits({ maxFrameBytes: 16 }))).toThrow(LimitError)
  })

  it('rejects out-of-bounds struct and list pointers, naming the pointer', () => {
    expect(() => read(frame([[structPtr(0, 2, 0), [0, 0]]]))).toThrow(/root: struct of 16 bytes/)
    expect(() => read(frame([[structPtr(-2, 0, 0)]]))).toThrow(FrameError)
    expect(() => read(frame([[listPtr(0, 2, 9), [0, 0]]]))).toThrow(/root: list of 16 bytes/)
    expect(() => read(frame([[structPtr(0, 0, 1), listPtr(0, 5, 2), [0, 0]]]))).toThrow(/root\.p0: list/)
  })

  it('checks a 1 MiB Data blob by extent only', () => {
    const words = (1 << 20) / 8
    const seg: number[][] = [structPtr(0, 0, 1), listPtr(0, 2, 1 << 20)]
    for (let i = 0; i < words; i++) seg.push([i, i])
    const r = read(frame([seg]))
    expect(r.borrowed).toBe(true)
  })

  it('ends pointer cycles with LimitError', () => {
    // root struct with one pointer pointing back at itself (offset -1 from the pointer end)
    expect(() => read(frame([[structPtr(0, 0, 1), structPtr(-1, 0, 1)]]))).toThrow(LimitError)
  })

  it('ends amplification with LimitError', () => {
    // a list of 1000 pointers all to the same 100-word struct
    const seg: number[][] = [listPtr(0, 6, 1000)]
    for (let i = 0; i < 1000; i++) seg.push(structPtr(999 - i, 100, 0))
    for (let i = 0; i < 100; i++) seg.push([0, 0])
    expect(() => read(frame([seg]), makeLimits({ traversalLimitWords: 50_000 }))).toThrow(/traversal limit/)
    expect(read(frame([seg])).borrowed).toBe(true)
  })

  it('ends deep nesting with LimitError', () => {
    const seg: number[][] = []
    for (let i = 0; i < 100; i++) seg.push(structPtr(0, 0, 1))
    seg.push([0, 0])
    expect(() => read(frame([seg]))).toThrow(/nesting limit/)
    expect(read(frame([seg]), makeLimits({ nestingLimit: 200 })).borrowed).toBe(true)
  })

  it('follows far and double-far pointers across segments and copies such frames', () => {
    const f = frame([[farPtr(0, 1)], [structPtr(0, 1, 0), [42, 0]]])
    const r = read(f)
    expect(r.borrowed).toBe(false)
    const d = frame([[farPtr(0, 1, true)], [farPtr(0, 2), structPtr(0, 1, 0)], [[5, 0]]])
    expect(read(d).borrowed).toBe(false)
  })

  it('rejects far-pointer chains and bad landing pads', () => {
    expect(() => read(frame([[farPtr(0, 1)], [farPtr(0, 0)]]))).toThrow(/itself a far pointer/)
    expect(() => read(frame([[farPtr(5, 1)], [structPtr(0, 0, 0)]]))).toThrow(/landing pad .* outside segment 1/)
    expect(() => read(frame([[farPtr(0, 7)]]))).toThrow(/segment 7/)
    expect(() => read(frame([[farPtr(0, 1, true)], [structPtr(0, 0, 0), structPtr(0, 0, 0)]]))).toThrow(/double-far/)
    expect(() => read(frame([[farPtr(0, 1, true)], [farPtr(0, 2), structPtr(0, 1, 0)], []]))).toThrow(FrameError)
  })

  it('rejects inline-composite tags that lie about sizes', () => {
    // list says 2 words, tag claims 3 elements of 1 word
    expect(() => read(frame([[listPtr(0, 7, 2), [3 << 2, 1], [0, 0], [0, 0]]]))).toThrow(/tag claims 3 elements/)
    expect(() => read(frame([[listPtr(0, 7, 2), [1, 1], [0, 0], [0, 0]]]))).toThrow(/not a struct tag/)
    expect(() => read(frame([[listPtr(0, 7, 5), [1 << 2, 1], [0, 0]]]))).toThrow(/composite list/)
    expect(read(frame([[listPtr(0, 7, 2), [2 << 2, 1], [1, 0], [2, 0]]])).borrowed).toBe(true)
  })

  it('rejects reserved pointer kinds and accepts capabilities', () => {
    expect(() => read(frame([[[7, 0]]]))).toThrow(/reserved pointer kind/)
    expect(read(frame([[[3, 5]]])).borrowed).toBe(true)
  })

  it('frameLength reports incomplete headers and the full length', () => {
    const bytes = callFrame()
    expect(frameLength(bytes.subarray(0, 3))).toBeUndefined()
    expect(frameLength(bytes.subarray(0, 8))).toBe(bytes.byteLength)
  })
})
