// Custody across threads: a message is copied once out of its sender and every receiver,
// on any worker, reads those same bytes. (Runs the built worker: build first.)
import { WorkerPool } from './pool.js'
import * as G from '../bench/guests.js'

const u32 = (...xs: number[]): Uint8Array => new Uint8Array(new Uint32Array(xs).buffer)
const isShared = (b: ArrayBufferLike): boolean => Object.prototype.toString.call(b) === '[object SharedArrayBuffer]'
const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

let pool: WorkerPool
beforeAll(async () => { pool = await WorkerPool.start({ workers: 2 }) })
afterAll(async () => { await pool.close() })

test("a guest's message to another worker is its one copy: overwriting the sender's memory afterwards changes nothing", async () => {
  const spin = await pool.compile(await G.wat(G.SPIN))
  // The receiver never reads: the message stays in its mailbox for us to look at.
  const receiver = await pool.spawn(spin, { worker: 1 })
  const sender = await pool.spawn(await pool.compile(await G.wat(G.CUSTODY_SENDER)), { worker: 0 })
  await sender.send(u32(0), { cap: receiver })
  // CUSTODY_SENDER sends "hello custody", fills those bytes with 'X', then waits in recv.
  for (;;) {
    const row = await sender.info()
    if (row?.sent === 1 && row.state === 'waiting') break
    await turn()
  }
  let bytes: Uint8Array | undefined
  while ((bytes = await receiver.peekMessage()) === undefined) await turn()
  expect(new TextDecoder().decode(bytes)).toBe('hello custody')
  // It crossed through the ring to worker 1: copied there straight out of the sender's memory.
  const [w0] = await pool.stats()
  expect(w0).toMatchObject({ worker: 0, remoteOut: 1, ring: 1, moved: 0, copied: 0 })
  await Promise.all([receiver.kill(), sender.kill()])
})

test('a host message in shared memory reaches receivers on both workers as the same bytes, not copies', async () => {
  const spin = await pool.compile(await G.wat(G.SPIN))
  const receivers = await Promise.all([0, 1, 1].map((w) => pool.spawn(spin, { worker: w })))
  const m = pool.message(new TextEncoder().encode('shared bytes'))
  expect(isShared(m.buffer)).toBe(true)
  for (const r of receivers) await r.send(m)
  const seen = await Promise.all(receivers.map((r) => r.peekMessage()))
  for (const v of seen) {
    expect(isShared(v!.buffer)).toBe(true)
    expect(new TextDecoder().decode(v)).toBe('shared bytes')
  }
  // A probe only a test may do (messages are immutable by contract): a byte written through
  // this thread's view shows through every worker's view, so they all map one memory.
  m[0] = 'S'.charCodeAt(0)
  for (const v of seen) expect(new TextDecoder().decode(v)).toBe('Shared bytes')
  // Plain bytes from the host are copied once into shared memory, then shared the same way.
  const plain = new TextEncoder().encode('plain')
  await receivers[0]!.kill()
  const fresh = await pool.spawn(spin, { worker: 0 })
  await fresh.send(plain)
  plain[0] = 0
  const got = await fresh.peekMessage()
  expect(isShared(got!.buffer)).toBe(true)
  expect(new TextDecoder().decode(got)).toBe('plain')
  await Promise.all([...receivers, fresh].map((r) => r.kill()))
})

test("with messageMemory 'shared' a guest's message to another worker is shared, not moved: both threads map the same bytes", async () => {
  await using shared = await WorkerPool.start({ workers: 2, scheduler: { messageMemory: 'shared' } })
  const receiver = await shared.spawn(await shared.compile(await G.wat(G.SPIN)), { worker: 1 })
  const sender = await shared.spawn(await shared.compile(await G.wat(G.CUSTODY_SENDER)), { worker: 0 })
  await sender.send(u32(0), { cap: receiver })
  for (;;) {
    const row = await sender.info()
    if (row?.sent === 1 && row.state === 'waiting') break
    await turn()
  }
  let bytes: Uint8Array | undefined
  while ((bytes = await receiver.peekMessage()) === undefined) await turn()
  expect(isShared(bytes.buffer)).toBe(true)
  expect(new TextDecoder().decode(bytes)).toBe('hello custody') // the sender overwrote its own copy
  const [w0] = await shared.stats()
  expect(w0).toMatchObject({ worker: 0, remoteOut: 1, shared: 1, ring: 0, moved: 0, copied: 0 })
})

