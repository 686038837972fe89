// The same pubsub and anchor behaviour through the Cluster interface, embedded.
import { embeddedCluster, type Cluster } from '../src/index.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

describe('embedded cluster', () => {
  let c: Cluster
  beforeEach(() => { c = embeddedCluster() })
  afterEach(() => c.close())

  test('view: one host, itself', () => {
    expect(c.view.hosts().map((h) => h.id)).toEqual([c.id])
    c.setLoad(3)
    expect(c.view.get(c.id)).toMatchObject({ load: 3, addresses: [] })
  })

  test('pubsub: two publishers, every subscriber sees each in order', async () => {
    const t = c.pubsub.join('chat')
    const seen: string[][] = [[], []]
    const subs = [0, 1].map((i) => t.subscribe({ capacity: 64, handler: (m) => { seen[i]!.push(dec.decode(m.data)) } }))
    const p1 = c.pubsub.join('chat')
    const p2 = c.pubsub.join('chat')
    // Interleaved publishers, each honouring backpressure (awaits its publish).
    await Promise.all([
      (async () => { for (let i = 0; i < 200; i++) await p1.publish(enc.encode(`a${i}`)) })(),
      (async () => { for (let i = 0; i < 200; i++) await p2.publish(enc.encode(`b${i}`)) })(),
    ])
    await new Promise((r) => setImmediate(r))
    for (const s of seen) {
      expect(s.filter((x) => x[0] === 'a')).toEqual(Array.from({ length: 200 }, (_, i) => `a${i}`))
      expect(s.filter((x) => x[0] === 'b')).toEqual(Array.from({ length: 200 }, (_, i) => `b${i}`))
    }
    for (const s of subs) s.close()
    t.release(); p1.release(); p2.release()
    expect(c.pubsub.stats().topics).toBe(0)
  })

  test('anchors: this host owns the subtree under its id; write, read and watch through the root', async () => {
    const mine = c.anchors.walk(c.id)
    const events: string[] = []
    const w = mine.walk('svc').watch({ handler: (e) => { events.push(`${e.kind} ${e.path}`) } })
    await c.local.walk('svc/db').store(enc.encode('postgres://'))
    const v = await c.anchors.walk(`${c.id}/svc/db`).load()
    expect(v?.kind === 'bytes' && dec.decode(v.bytes)).toBe('postgres://')
    expect(await c.anchors.ls()).toEqual([c.id])
    await expect(c.anchors.store(enc.encode('x'))).rejects.toMatchObject({ code: 'ERR_CAP_DENIED' })
    await expect(c.anchors.walk('some-other-host/x').load()).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
    await new Promise((r) => setImmediate(r))
    expect(events).toEqual(['set db'])
    w.close()
  })

  test('registry and bytecode cache are there', async () => {
    const p = c.registry.provide('echo', { ok: true }, { ttlMs: 1000 })
    expect(await c.registry.findProviders('echo')).toHaveLength(1)
    p.release()
    const cid = c.cache.put(new Uint8Array([0, 97, 115, 109]))
    expect(c.cache.has(cid)).toBe(true)
  })
})
