import { createPubSub } from './pubsub.js'
import { Mailbox } from './mailbox.js'
import type { Message } from './types.js'
import { isHostError } from '../errors.js'

const bytes = (n: number): Uint8Array => new Uint8Array([n & 255, n >> 8])
const num = (m: Message): number => m.data[0]! | (m.data[1]! << 8)

describe('pubsub (embedded)', () => {
  test('fan-out to every subscriber, in publish order, with seq from 1', async () => {
    const ps = createPubSub({ self: 'h1' })
    const t = ps.join('news')
    const got: number[][] = [[], []]
    const s1 = t.subscribe({ capacity: 1024, handler: (m) => { got[0]!.push(num(m)) } })
    const s2 = t.subscribe({ capacity: 1024 })
    for (let i = 0; i < 500; i++) await t.publish(bytes(i))
    const it = s2[Symbol.asyncIterator]()
    for (let i = 0; i < 500; i++) {
      const r = await it.next()
      expect(r.value.seq).toBe(i + 1)
      expect(r.value.from).toBe('h1')
      got[1]!.push(num(r.value))
    }
    await new Promise((r) => setImmediate(r))
    const expected = Array.from({ length: 500 }, (_, i) => i)
    expect(got[0]).toEqual(expected)
    expect(got[1]).toEqual(expected)
    s1.close(); s2.close(); t.release()
  })

  test('block policy: publisher waits for room, nothing is dropped', async () => {
    const ps = createPubSub({ self: 'h' })
    const t = ps.join('x')
    const sub = t.subscribe({ capacity: 4, policy: 'block' })
    const pubs = [0, 1, 2, 3].map((i) => t.publish(bytes(i)))
    let fifthDone = false
    const fifth = t.publish(bytes(4)).then(() => { fifthDone = true })
    await Promise.all(pubs)
    await new Promise((r) => setImmediate(r))
    expect(fifthDone).toBe(false)
    expect(sub.stats()).toMatchObject({ queued: 4, blocked: 1, dropped: 0 })
    const it = sub[Symbol.asyncIterator]()
    expect(num((await it.next()).value)).toBe(0)
    await fifth
    const rest: number[] = []
    for (let i = 0; i < 4; i++) rest.push(num((await it.next()).value))
    expect(rest).toEqual([1, 2, 3, 4])
    expect(sub.stats().dropped).toBe(0)
    sub.close()
  })

  test('block policy: too many waiting producers fail with ERR_QUEUE_FULL', async () => {
    const box = new Mailbox<number>({ capacity: 1, policy: 'block', maxBlocked: 1 })
    box.offer(1)
    const waiting = box.offer(2)
    await expect(box.offer(3)).rejects.toMatchObject({ code: 'ERR_QUEUE_FULL' })
    box.close()
    await waiting // closing releases waiting producers
    expect(box.stats().dropped).toBe(3)
  })

  test('dropOldest keeps the latest, dropNewest keeps the first; both count drops', async () => {
    const ps = createPubSub({ self: 'h' })
    const t = ps.join('x')
    const oldest = t.subscribe({ capacity: 3, policy: 'dropOldest' })
    const newest = t.subscribe({ capacity: 3, policy: 'dropNewest' })
    for (let i = 0; i < 10; i++) await t.publish(bytes(i))
    const drain = async (s: typeof oldest): Promise<number[]> => {
      const it = s[Symbol.asyncIterator]()
      const out: number[] = []
      for (let i = 0; i < 3; i++) out.push(num((await it.next()).value))
      return out
    }
    expect(await drain(oldest)).toEqual([7, 8, 9])
    expect(await drain(newest)).toEqual([0, 1, 2])
    expect(oldest.stats()).toMatchObject({ dropped: 7, delivered: 3 })
    expect(newest.stats()).toMatchObject({ dropped: 7, delivered: 3 })
  })

  test('an async handler is awaited before the next message', async () => {
    const ps = createPubSub({ self: 'h' })
    const t = ps.join('x')
    const order: string[] = []
    t.subscribe({
      capacity: 16,
      handler: async (m) => { order.push(`start ${num(m)}`); await new Promise((r) => setTimeout(r, 2)); order.push(`end ${num(m)}`) },
    })
    await t.publish(bytes(1))
    await t.publish(bytes(2))
    while (order.length < 4) await new Promise((r) => setTimeout(r, 2))
    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2'])
  })

  test('the topic is left when its last handle and subscription go (refcount)', () => {
    const ps = createPubSub({ self: 'h' })
    const a = ps.join('t')
    const b = ps.join('t')
    const s = a.subscribe()
    expect(ps.stats()).toMatchObject({ topics: 1, subscriptions: 1 })
    a.release()
    b.release()
    expect(ps.stats().topics).toBe(1) // the subscription still holds it
    s.close()
    expect(ps.stats()).toMatchObject({ topics: 0, subscriptions: 0 })
    a.release() // idempotent
    expect(ps.stats().topics).toBe(0)
  })

  test('attenuation: publish-only and subscribe-only handles', async () => {
    const ps = createPubSub({ self: 'h' })
    const t = ps.join('t')
    const pub = t.publishOnly()
    const sub = t.subscribeOnly()
    expect(() => pub.subscribe()).toThrow(expect.objectContaining({ code: 'ERR_CAP_DENIED' }))
    await expect(sub.publish(bytes(1))).rejects.toMatchObject({ code: 'ERR_CAP_DENIED' })
    // An attenuated handle cannot widen itself back.
    expect(pub.subscribeOnly().canSubscribe).toBe(false)
    const s = sub.subscribe({ capacity: 2 })
    await pub.publish(bytes(7))
    expect(num((await s[Symbol.asyncIterator]().next()).value)).toBe(7)
    t.release()
    await expect(t.publish(bytes(1))).rejects.toMatchObject({ code: 'ERR_RELEASED' })
  })

  test('bad topic names and bad data are typed errors', async () => {
    const ps = createPubSub({ self: 'h' })
    expect(() => ps.join('')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => ps.join('a b')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    const t = ps.join('ok')
    await t.publish('nope' as unknown as Uint8Array).catch((e: unknown) => expect(isHostError(e, 'ERR_INVALID_ARGUMENT')).toBe(true))
  })

  test('waitForPeers without a network times out with ERR_TIMEOUT', async () => {
    const t = createPubSub({ self: 'h' }).join('x')
    await expect(t.waitForPeers(1, { timeoutMs: 20 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' })
    await expect(t.waitForPeers(0)).resolves.toBeUndefined()
  })
})

describe('pubsub over a network', () => {
  test("a host's seq on a topic goes on after every handle let go (other hosts de-duplicate by host and seq)", async () => {
    const sent: number[] = []
    const ps = createPubSub({
      self: 'h',
      network: { join() {}, leave() {}, publish: (_t, seq) => { sent.push(seq) }, peers: () => [], onPeersChange: () => () => {} },
    })
    // Two publishers one after the other, as two `ww pub` runs: the topic is unused between them.
    for (const n of [1, 2]) {
      const t = ps.join('news')
      await t.publish(bytes(n))
      t.release()
    }
    const t = ps.join('other')
    await t.publish(bytes(3))
    t.release()
    expect(sent).toEqual([1, 2, 1])
  })
})
