// The SDK's reader against hostile frames: each is placed so that it ends exactly at the
// end of the guest's memory, so a single read past the frame would trap instead of
// quietly reading heap bytes. The reader must report the right error instead.
import { guestBytes } from '../src/index.js'
import { scriptedPeer } from './peer.js'

const E = { none: 0, truncated: 1, segmentTable: 2, outOfBounds: 3, badFar: 4, wrongKind: 5, traversal: 6, depth: 7 } as const

const structPtr = (off: number, dw: number, pc: number): bigint =>
  (BigInt((dw | (pc << 16)) >>> 0) << 32n) | BigInt((off << 2) >>> 0)
const listPtr = (off: number, size: number, count: number): bigint =>
  (BigInt((size | (count << 3)) >>> 0) << 32n) | BigInt(((off << 2) | 1) >>> 0)
const farPtr = (seg: number, pad: number, double = false): bigint =>
  (BigInt(seg) << 32n) | BigInt(((pad << 3) | (double ? 4 : 0) | 2) >>> 0)

/** Stream framing around the given segments (words). */
function frame(...segments: bigint[][]): Uint8Array {
  const tableWords = Math.ceil((4 + 4 * segments.length) / 8)
  const total = tableWords + segments.reduce((n, s) => n + s.length, 0)
  const dv = new DataView(new ArrayBuffer(total * 8))
  dv.setUint32(0, segments.length - 1, true)
  segments.forEach((s, i) => dv.setUint32(4 + 4 * i, s.length, true))
  let at = tableWords * 8
  for (const s of segments) for (const w of s) { dv.setBigUint64(at, BigInt.asUintN(64, w), true); at += 8 }
  return new Uint8Array(dv.buffer)
}

interface Guest {
  read(bytes: Uint8Array, traversal?: bigint): number
  rootU64(bytes: Uint8Array, off: number): bigint
}

async function loadGuest(): Promise<Guest> {
  const peer = scriptedPeer(() => undefined)
  const module = await WebAssembly.compile(await guestBytes('conformance', { asyncify: false }))
  const instance = await WebAssembly.instantiate(module, peer.imports)
  peer.attach(instance)
  const x = instance.exports as unknown as {
    memory: WebAssembly.Memory
    alloc(n: number): number
    read_frame(p: number, l: number, t: bigint): number
    read_root_u64(p: number, l: number, o: number): bigint
  }
  // Warm the heap so reading never needs memory.grow: the tail page then stays the end.
  x.alloc(1 << 20)
  const place = (bytes: Uint8Array): number => {
    x.memory.grow(1)
    const end = x.memory.buffer.byteLength
    new Uint8Array(x.memory.buffer).set(bytes, end - bytes.byteLength)
    return end - bytes.byteLength
  }
  const checked = <T>(f: () => T): T => {
    const pages = x.memory.buffer.byteLength
    const r = f()
    // Still the last page: any out-of-frame read would have trapped.
    expect(x.memory.buffer.byteLength).toBe(pages)
    return r
  }
  return {
    read: (bytes, traversal = -1n) => { const p = place(bytes); return checked(() => x.read_frame(p, bytes.byteLength, traversal)) },
    rootU64: (bytes, off) => { const p = place(bytes); return checked(() => x.read_root_u64(p, bytes.byteLength, off)) },
  }
}

let g: Guest
beforeAll(async () => { g = await loadGuest() })

describe('well-formed frames', () => {
  test('a struct with a text and a list', () => {
    const f = frame([structPtr(0, 1, 2), 0x2an, listPtr(1, 2, 3), listPtr(1, 4, 2), 0x00434241n, 0x0000000200000001n])
    expect(g.read(f)).toBe(E.none)
    expect(g.rootU64(f, 0)).toBe(0x2an)
  })

  test('multi-segment: single far pointer and its landing pad', () => {
    const f = frame([farPtr(1, 0)], [structPtr(0, 1, 0), 77n])
    expect(g.read(f)).toBe(E.none)
    expect(g.rootU64(f, 0)).toBe(77n)
  })

  test('multi-segment: double far pointer (landing pad of two words)', () => {
    const f = frame([farPtr(1, 0, true)], [farPtr(2, 0), structPtr(0, 1, 0)], [99n])
    expect(g.read(f)).toBe(E.none)
    expect(g.rootU64(f, 0)).toBe(99n)
  })

  test('schema evolution: a smaller struct reads its missing fields as 0', () => {
    const f = frame([structPtr(0, 1, 0), 5n])
    expect(g.rootU64(f, 8)).toBe(0n)
    expect(g.rootU64(frame([structPtr(0, 0, 0)]), 0)).toBe(0n)
  })
})

describe('hostile frames report an error and read nothing outside the frame', () => {
  test.each([
    ['empty', new Uint8Array(0), E.truncated],
    ['four bytes', new Uint8Array(4), E.truncated],
    ['segment table shorter than the count says', new Uint8Array([3, 0, 0, 0, 1, 0, 0, 0]), E.truncated],
    ['huge segment count', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]), E.segmentTable],
    ['segment longer than the frame', frame([structPtr(0, 1, 0), 1n]).slice(0, 16), E.truncated],
  ])('%s', (_name, bytes, code) => {
    expect(g.read(bytes)).toBe(code)
  })

  test.each([
    ['struct past the segment end', frame([structPtr(0, 5, 0), 1n]), E.outOfBounds],
    ['struct at a huge offset', frame([structPtr(0x1fffffff, 1, 0)]), E.outOfBounds],
    ['struct at a negative offset', frame([structPtr(-4, 1, 0)]), E.outOfBounds],
    ['list longer than the segment', frame([structPtr(0, 0, 1), listPtr(0, 2, 1000)]), E.outOfBounds],
    ['composite list whose tag claims more than its words', frame([structPtr(0, 0, 1), listPtr(0, 7, 1), structPtr(5, 1, 0), 0n]), E.outOfBounds],
    ['far pointer to a missing segment', frame([farPtr(3, 0)]), E.badFar],
    ['far pointer past its segment', frame([farPtr(1, 9)], [0n]), E.badFar],
    ['landing pad that is itself far', frame([farPtr(1, 0)], [farPtr(0, 0)]), E.badFar],
    ['a list where a struct was expected', frame([listPtr(0, 2, 0)]), E.wrongKind],
  ])('%s', (_name, bytes, code) => {
    expect(g.read(bytes)).toBe(code)
  })

  test('pointer cycle: a struct whose pointer points at itself', () => {
    // Root struct (0 data, 1 ptr) at word 1; its pointer (word 1) points to word 1 again.
    const f = frame([structPtr(0, 0, 1), structPtr(-1, 0, 1)])
    expect([E.depth, E.traversal]).toContain(g.read(f))
  })

  test('far-pointer chain that loops between segments', () => {
    const f = frame([farPtr(1, 0)], [farPtr(0, 0)])
    expect(g.read(f)).toBe(E.badFar)
  })

  test('amplification: many pointers to one big list exceed the traversal limit', () => {
    const words: bigint[] = [structPtr(0, 0, 64)]
    for (let i = 0; i < 64; i++) words.push(listPtr(63 - i, 5, 64))
    for (let i = 0; i < 64; i++) words.push(BigInt(i))
    const f = frame(words)
    expect(g.read(f)).toBe(E.traversal)
    // The same frame within an explicit, large enough budget is fine.
    expect(g.read(f, 100_000n)).toBe(E.none)
  })
})
