// The link between two workers, both ends on this thread: records keep their order in
// both directions, across the ring and the port; a full ring pushes back and loses
// nothing; a corrupt record ends the link with a typed error, not the host.
import { MessageChannel } from 'node:worker_threads'
import { PeerLink, type PeerHandlers } from './peer-link.js'
import type { WireMessage } from './protocol.js'
import { RING_MAX_MESSAGE, RingCorruptError, RingReader, RingWriter, ringMemory } from './ring.js'

interface Got { to: number; from: number; cap: number; box: number; seq: number; len: number; via: 'ring' | 'port' }

/** Two ends of one link: a → b and b → a, each with what it received. */
function linked(ringBytes?: number): { a: PeerLink; b: PeerLink; ab: SharedArrayBuffer; got: { a: Got[]; b: Got[] }; acks: { a: number[]; b: number[] }; failed: { a: Error[]; b: Error[] }; close(): void } {
  const { port1, port2 } = new MessageChannel()
  const ab = ringMemory(ringBytes)
  const ba = ringMemory(ringBytes)
  const bells = [new SharedArrayBuffer(4), new SharedArrayBuffer(4)]
  const got = { a: [] as Got[], b: [] as Got[] }
  const acks = { a: [] as number[], b: [] as number[] }
  const failed = { a: [] as Error[], b: [] as Error[] }
  const ends: { a?: PeerLink; b?: PeerLink } = {}
  const handlers = (me: 'a' | 'b'): PeerHandlers => ({
    message: (to, from, cap, box, src, start, end) => {
      got[me].push({ to, from, cap, box, seq: new DataView(src.buffer, src.byteOffset + start, 4).getUint32(0, true), len: end - start, via: 'ring' })
      ends[me]!.ack(box, 0)
    },
    deliver: (m: WireMessage) => {
      got[me].push({ to: m.to, from: m.from, cap: m.cap ?? 0, box: m.ack!, seq: new DataView(m.bytes.buffer, m.bytes.byteOffset, 4).getUint32(0, true), len: m.bytes.byteLength, via: 'port' })
      ends[me]!.ack(m.ack!, 0)
    },
    acknowledged: (box) => { acks[me].push(box) },
    failed: (e) => { failed[me].push(e) },
    wake: () => { ends[me]!.poll() },
  })
  ends.a = new PeerLink(port1, { out: ab, in: ba, bell: bells[1]! }, handlers('a'))
  ends.b = new PeerLink(port2, { out: ba, in: ab, bell: bells[0]! }, handlers('b'))
  return { a: ends.a, b: ends.b, ab, got, acks, failed, close: () => { ends.a!.close(); ends.b!.close() } }
}

const message = (seq: number, bytes = 16, cap?: number): WireMessage => {
  const b = new Uint8Array(bytes)
  new DataView(b.buffer).setUint32(0, seq, true)
  return { to: 2, from: 1, kind: 'user', bytes: b, ...(cap !== undefined ? { cap } : {}) }
}
const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

/** Polls both ends until `done` (each turn lets port messages and room waits through). */
async function until(l: { a: PeerLink; b: PeerLink }, done: () => boolean): Promise<void> {
  while (!done()) {
    l.a.poll()
    l.b.poll()
    await turn()
  }
}

test('records keep their order in both directions, messages and acknowledgements alike', async () => {
  const l = linked()
  const n = 3000
  for (let i = 0; i < n; i++) {
    l.a.send(message(i), 7, false, [])
    l.b.send(message(i), 9, false, [])
  }
  await until(l, () => l.got.a.length === n && l.got.b.length === n && l.acks.a.length === n && l.acks.b.length === n)
  expect(l.got.b.map((g) => g.seq)).toEqual(Array.from({ length: n }, (_, i) => i))
  expect(l.got.a.map((g) => g.seq)).toEqual(Array.from({ length: n }, (_, i) => i))
  expect(new Set(l.got.b.map((g) => g.box))).toEqual(new Set([7]))
  expect(new Set(l.acks.a)).toEqual(new Set([7])) // a's outbox 7 got its n answers back through b's ring
  expect(l.got.b.every((g) => g.via === 'ring')).toBe(true)
  l.close()
})

test("a guest's bytes go straight into the ring; the sender's buffer is free again at once", () => {
  const l = linked()
  const guest = new Uint8Array(64)
  new DataView(guest.buffer).setUint32(8, 42, true)
  expect(l.a.tryMessage(2, 1, 0, 3, guest, 8, 24)).toBe(true)
  guest.fill(0xff) // the sender overwrites its memory: the ring holds its own copy
  l.b.poll()
  expect(l.got.b).toEqual([{ to: 2, from: 1, cap: 0, box: 3, seq: 42, len: 16, via: 'ring' }])
  expect(l.a.tryMessage(2, 1, 0, 3, new Uint8Array(RING_MAX_MESSAGE + 1), 0, RING_MAX_MESSAGE + 1)).toBe(false) // too large: by port
  l.close()
})

test('a full ring pushes back: the writer waits for room, nothing is dropped and nothing grows past the ring', async () => {
  const l = linked(1024) // room for 21 records of 48 bytes
  const n = 500
  for (let i = 0; i < n; i++) l.a.send(message(i), 1, false, [])
  // Nothing reads yet: the ring holds what fits, the rest waits on the writer's side.
  expect(l.a.tryMessage(2, 1, 0, 1, new Uint8Array(16), 0, 16)).toBe(false)
  l.b.poll()
  expect(l.got.b.length).toBeGreaterThan(0)
  expect(l.got.b.length).toBeLessThan(n)
  await until(l, () => l.got.b.length === n)
  expect(l.got.b.map((g) => g.seq)).toEqual(Array.from({ length: n }, (_, i) => i))
  l.close()
})

test('messages by port (large, or shared) and capabilities interleaved with ring records keep their order', async () => {
  const l = linked()
  const n = 300
  const shared = new Uint8Array(new SharedArrayBuffer(16))
  for (let i = 0; i < n; i++) {
    if (i % 7 === 0) l.a.send(message(i, RING_MAX_MESSAGE + 100), 5, false, []) // too large for the ring
    else if (i % 11 === 0) { new DataView(shared.buffer).setUint32(0, i, true); l.a.send({ ...message(i), bytes: shared.slice() }, 5, true, []) }
    else l.a.send(message(i, 16, i % 3 === 0 ? 1000 + i : undefined), 5, false, [])
  }
  await until(l, () => l.got.b.length === n)
  expect(l.got.b.map((g) => g.seq)).toEqual(Array.from({ length: n }, (_, i) => i))
  for (const g of l.got.b) {
    expect(g.via).toBe(g.seq % 7 === 0 || g.seq % 11 === 0 ? 'port' : 'ring')
    expect(g.cap).toBe(g.via === 'ring' && g.seq % 3 === 0 ? 1000 + g.seq : 0)
  }
  l.close()
})

test('a corrupt record is a RingCorruptError from the reader; through a link it ends that link with the reason', () => {
  const sab = ringMemory(1024)
  const w = new RingWriter(sab)
  expect(w.message(2, 1, 0, 1, new Uint8Array(8), 0, 8)).toBe(true)
  // Scribble over the record's length field, as a broken or hostile peer could.
  new Int32Array(sab, 256)[5] = 4096
  const reader = new RingReader(sab)
  let visited = 0
  const visitor = { message: () => { visited++ }, ack: () => { visited++ }, port: () => true }
  expect(() => reader.read(visitor)).toThrow(RingCorruptError)
  expect(visited).toBe(0)
  try { reader.read(visitor) } catch (e) { expect((e as RingCorruptError).code).toBe('ERR_RING_CORRUPT') }

  const l = linked(1024)
  l.a.send(message(1), 1, false, [])
  l.a.send(message(2), 1, false, [])
  new Int32Array(l.ab, 256)[12 + 1] = 99 // the second record's type: no such type
  expect(() => l.b.poll()).not.toThrow()
  expect(l.got.b.map((g) => g.seq)).toEqual([1]) // what came before it was delivered
  expect(l.failed.b).toHaveLength(1)
  expect(l.failed.b[0]).toBeInstanceOf(RingCorruptError)
  expect(l.b.ended).toBe(l.failed.b[0])
  expect(l.b.ended?.message).toMatch(/type 99/)
  // The link is over: nothing more is read from it or written to it.
  l.a.send(message(3), 1, false, [])
  expect(l.b.poll()).toBe(false)
  expect(l.b.pending).toBe(false)
  l.close()
})
