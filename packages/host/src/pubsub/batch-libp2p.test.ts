// Pubsub across two in-process libp2p hosts with small batch bounds: bursts larger than a
// batch, a message over the byte bound, and a topic left right after publishing all
// arrive complete, in order, with their own seq numbers and no gaps.
import { libp2pCluster, type Libp2pCluster } from '../index.js'
import type { Message } from './types.js'

describe('pubsub batching across libp2p hosts', () => {
  let a: Libp2pCluster, b: Libp2pCluster
  beforeAll(async () => {
    a = await libp2pCluster({ ttlMs: 2000, pubsubBatch: { maxMessages: 7, maxBytes: 1000 } })
    b = await libp2pCluster({ ttlMs: 2000, bootstrap: a.addresses() })
  })
  afterAll(async () => { await Promise.all([a?.close(), b?.close()]) })

  const payload = (i: number): Uint8Array => {
    const n = i === 50 ? 5000 : i % 13 // one message over maxBytes, some empty
    const d = new Uint8Array(2 + n).fill(i & 255)
    d[0] = i & 255; d[1] = i >> 8
    return d
  }

  test('bursts across batch bounds arrive whole, in order; leaving flushes what is pending', async () => {
    const N = 300
    const got: Message[] = []
    const done = new Promise<void>((resolve) => {
      b.pubsub.join('batched').subscribe({ capacity: 1024, handler: (m) => { got.push(m); if (got.length === N) resolve() } })
    })
    const out = a.pubsub.join('batched')
    await out.waitForPeers(1, { timeoutMs: 10_000 })
    for (let i = 1; i <= N; i++) {
      void out.publish(payload(i))
      if (i % 100 === 0 && i < N) await new Promise((r) => setImmediate(r)) // three ticks' worth
    }
    out.release() // leaves the topic on A with the last messages still pending
    await done
    expect(got.map((m) => m.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1))
    for (const m of got) {
      expect(m.from).toBe(a.id)
      expect([...m.data]).toEqual([...payload(m.seq)])
    }
    expect(b.gaps()).toBe(0)
  }, 20_000)
})
