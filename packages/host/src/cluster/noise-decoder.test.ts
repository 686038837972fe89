import { NoiseFrameDecoder } from './noise-decoder.js'

/** Noise's framing: a 2-byte big-endian length, then the bytes. */
const framed = (...msgs: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(msgs.reduce((n, m) => n + 2 + m.byteLength, 0))
  let at = 0
  for (const m of msgs) { out[at] = m.byteLength >> 8; out[at + 1] = m.byteLength & 255; out.set(m, at + 2); at += 2 + m.byteLength }
  return out
}
const msg = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)

describe('NoiseFrameDecoder', () => {
  const msgs = [msg(1, 1), msg(300, 2), msg(0, 9), msg(5, 3), msg(0xffff, 4)]
  const wire = framed(...msgs)
  const expected = msgs.filter((m) => m.byteLength > 0).map((m) => [...m.subarray(0, 4)] + ':' + m.byteLength)
  const seen = (out: Uint8Array[]) => out.map((m) => [...m.subarray(0, 4)] + ':' + m.byteLength)

  test('whole chunk: every message, empty ones skipped, as views on the chunk', () => {
    const out = new NoiseFrameDecoder().decode(wire)
    expect(seen(out)).toEqual(expected)
    expect(out[0]!.buffer).toBe(wire.buffer)
  })

  test('split at every byte of the first 700 and in the large message: the same messages', () => {
    for (const at of [...Array.from({ length: 700 }, (_, i) => i), 40_000, wire.byteLength - 1]) {
      const d = new NoiseFrameDecoder()
      expect(seen([...d.decode(wire.subarray(0, at)), ...d.decode(wire.subarray(at))])).toEqual(expected)
    }
  })

  test('one byte at a time, and as a list of parts (a Uint8ArrayList: subarray() joins them)', () => {
    const d = new NoiseFrameDecoder()
    const out: Uint8Array[] = []
    for (let i = 0; i < 400; i++) out.push(...d.decode(wire.subarray(i, i + 1)))
    const rest = wire.subarray(400)
    out.push(...d.decode({ byteLength: rest.byteLength, subarray: () => rest.slice() }))
    expect(seen(out)).toEqual(expected)
  })

  test('a partial message is kept as a copy: the caller may reuse its chunk', () => {
    const d = new NoiseFrameDecoder()
    const chunk = framed(msg(4, 7)).slice()
    expect(d.decode(chunk.subarray(0, 4))).toEqual([])
    chunk.fill(0, 0, 4)
    expect(seen(d.decode(chunk.subarray(4)))).toEqual(['7,7,7,7:4'])
  })
})
