// FrameReader: the one reassembly of capnp stream frames from a byte stream's chunks
// (connectStream, @ww/host's libp2p streams). Whatever the chunking, the same frames come
// out in order; a frame split across chunks survives its chunks being reused.
import { Message } from 'capnp-ts'
import { testing } from '@ww/schema'
import { FrameReader, type FrameReceiver } from './frame-reader.js'
import { frameSize, writeFrame } from './frame.js'
import { LimitError } from './errors.js'
import { DEFAULT_LIMITS } from './limits.js'

/** Three frames of different sizes (one spanning many chunks), back to back. */
function stream(): { bytes: Uint8Array; payloads: number[] } {
  const sizes = [0, 3, 5000]
  const frames = sizes.map((n) => {
    const m = new Message()
    m.initRoot(testing.Echo_echo$Params).setPayload(new Uint8Array(n).fill(n & 0xff))
    const buf = new Uint8Array(frameSize(m))
    writeFrame(m, buf)
    return buf
  })
  const bytes = new Uint8Array(frames.reduce((a, f) => a + f.byteLength, 0))
  let at = 0
  for (const f of frames) { bytes.set(f, at); at += f.byteLength }
  return { bytes, payloads: sizes }
}

function collector(): FrameReceiver & { got: number[] } {
  const got: number[] = []
  return { got, closed: false, receive: (m) => { got.push(m.getRoot(testing.Echo_echo$Params).getPayload().getLength()) } }
}

test.each([1, 7, 8, 100, 4096, 1 << 20])('chunks of %i bytes: the same frames, in order', (size) => {
  const { bytes, payloads } = stream()
  const to = collector()
  const reader = new FrameReader(to)
  // Fresh chunks, as a socket's 'data' and a libp2p stream's messages are (the reader keeps
  // the chunks of an unfinished frame until it is whole).
  for (let at = 0; at < bytes.byteLength; at += size) reader.push(Buffer.from(bytes.subarray(at, at + size)))
  expect(to.got).toEqual(payloads)
})

test('a receiver that closed takes no more frames', () => {
  const { bytes } = stream()
  const to = collector()
  const reader = new FrameReader({ get closed() { return to.got.length >= 1 }, receive: to.receive })
  reader.push(bytes)
  expect(to.got).toEqual([0])
})

test('a frame header claiming more segments than the limit is a LimitError (ERR_LIMIT)', () => {
  const reader = new FrameReader(collector(), { ...DEFAULT_LIMITS, maxSegments: 4 })
  const bad = new Uint8Array(16)
  new DataView(bad.buffer).setUint32(0, 99, true)
  expect(() => reader.push(bad)).toThrow(LimitError)
})
