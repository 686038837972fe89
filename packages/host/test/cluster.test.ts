// Three libp2p hosts as separate OS processes on 127.0.0.1.
import { HostProc, type Ev } from './host-proc.js'

const msgs = (h: HostProc, from: string, prefix: string): Ev[] =>
  h.events.filter((e) => e.ev === 'msg' && e.from === from && String(e.data).startsWith(prefix))

describe('three hosts as OS processes', () => {
  let a: HostProc, b: HostProc, c: HostProc
  afterAll(async () => { await Promise.all([a, b, c].filter(Boolean).map((h) => h.stop())) })

  test('join, pubsub in order per publisher, and a killed host is seen leaving with nothing lost', async () => {
    a = await HostProc.start(['--ttl', '3000'])
    ;[b, c] = await Promise.all([
      HostProc.start(['--ttl', '3000', '--bootstrap', a.addrs[0]!]),
      HostProc.start(['--ttl', '3000', '--bootstrap', a.addrs[0]!]),
    ])
    // Everyone sees everyone (B and C learn of each other through A, then connect).
    for (const [h, others] of [[a, [b, c]], [b, [a, c]], [c, [a, b]]] as const) {
      for (const o of others) await h.waitFor((e) => e.ev === 'join' && e.host === o.id, `${o.id} joins`)
    }
    expect(await a.call('hosts')).toEqual([a.id, b.id, c.id].sort())

    await Promise.all([a, b, c].map((h) => h.call('subscribe', { topic: 'chat' })))
    await Promise.all([a.call('waitPeers', { topic: 'chat', n: 2 }), b.call('waitPeers', { topic: 'chat', n: 2 })])

    // Two publishers at once; each subscriber sees each publisher's messages in order.
    const N = 300
    await Promise.all([a.call('publish', { topic: 'chat', count: N, prefix: 'a' }), b.call('publish', { topic: 'chat', count: N, prefix: 'b' })])
    for (const [h, pub, prefix] of [[b, a, 'a'], [c, a, 'a'], [a, b, 'b'], [c, b, 'b']] as const) {
      await h.waitCount((e) => e.ev === 'msg' && e.from === pub.id && String(e.data).startsWith(prefix), N, `${N} from ${prefix}`)
      const got = msgs(h, pub.id, prefix)
      expect(got.map((e) => e.data)).toEqual(Array.from({ length: N }, (_, i) => `${prefix}${i}`))
      expect(got.map((e) => e.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1))
    }

    // Publish, then kill C's process at once: A and B see it leave, B loses nothing.
    const K = 200
    await a.call('publish', { topic: 'chat', count: K, prefix: 'k' })
    c.kill('SIGKILL')
    // Seen to leave: by the TCP reset, else the 3 s TTL (60 s is a hang bound, not a speed one).
    const [leaveA, leaveB] = await Promise.all([
      a.waitFor((e) => e.ev === 'leave' && e.host === c.id, 'C leaves (A)', 60_000),
      b.waitFor((e) => e.ev === 'leave' && e.host === c.id, 'C leaves (B)', 60_000),
    ])
    expect([leaveA.reason, leaveB.reason]).toEqual(expect.arrayContaining([expect.stringMatching(/disconnect|ttl/)]))
    await b.waitCount((e) => e.ev === 'msg' && e.from === a.id && String(e.data).startsWith('k'), K, `${K} before the kill`)
    expect(msgs(b, a.id, 'k').map((e) => e.data)).toEqual(Array.from({ length: K }, (_, i) => `k${i}`))
    expect(await a.call('hosts')).toEqual([a.id, b.id].sort())
    expect(await b.call('gaps')).toBe(0)
  })

  test('a frozen host (SIGSTOP: connection open, no heartbeats) leaves by TTL', async () => {
    const d = await HostProc.start(['--ttl', '1500', '--bootstrap', a.addrs[0]!])
    try {
      await a.waitFor((e) => e.ev === 'join' && e.host === d.id, 'D joins')
      d.kill('SIGSTOP')
      const leave = await a.waitFor((e) => e.ev === 'leave' && e.host === d.id, 'D leaves by ttl', 15_000)
      expect(leave.reason).toBe('ttl')
    } finally {
      d.kill('SIGKILL')
    }
  })
})
