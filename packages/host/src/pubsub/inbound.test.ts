import { FrameCounter } from './inbound.js'

// Length-prefixed frames of assorted sizes (1- to 3-byte prefixes), as one byte string.
const frames = [0, 1, 5, 127, 128, 300, 16_383, 16_384, 70_000].map((n) => new Uint8Array(n).fill(7))
const varint = (n: number): number[] => { const out: number[] = []; while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) } out.push(n); return out }
const wire = (): Uint8Array => {
  const parts = frames.map((f) => Uint8Array.from([...varint(f.byteLength), ...f]))
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.byteLength }
  return out
}

test('FrameCounter counts length-prefixed frames wherever the chunks split them', () => {
  const bytes = wire()
  expect(new FrameCounter().feed(bytes)).toBe(frames.length)
  // Every split point of a 1-, 2- or 3-byte chunking, including splits inside a prefix.
  for (const size of [1, 2, 3, 1000]) {
    const c = new FrameCounter()
    let n = 0
    for (let o = 0; o < bytes.byteLength; o += size) n += c.feed(bytes.subarray(o, o + size))
    expect(n).toBe(frames.length)
  }
})
