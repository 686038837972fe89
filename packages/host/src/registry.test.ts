import { createRegistry, type ControlChannel } from './registry.js'
import { decodeRegistryMessage, encodeAnnouncement } from './registry-wire.js'

/** Registries joined by an in-memory broadcast, as pubsub joins hosts. */
function bus(now: () => number): (self: string) => ReturnType<typeof createRegistry> {
  const subs = new Map<string, (from: string, d: Uint8Array) => void>()
  const chan = (self: string): ControlChannel => ({
    publish: (d) => { for (const [id, cb] of subs) if (id !== self) queueMicrotask(() => cb(self, d)) },
    onMessage: (cb) => { subs.set(self, cb); return () => subs.delete(self) },
  })
  return (self) => createRegistry({ self, channel: chan(self), now })
}
function pair(now: () => number): [ReturnType<typeof createRegistry>, ReturnType<typeof createRegistry>] {
  const mk = bus(now)
  return [mk('A'), mk('B')]
}

describe('registry', () => {
  test('provide here, find here and on another host; release withdraws', async () => {
    let t = 0
    const [a, b] = pair(() => t)
    const svc = { hello: () => 'hi' }
    const p = a.provide('echo', svc, { ttlMs: 1000 })
    expect((await a.findProviders('echo'))[0]).toMatchObject({ host: 'A', service: svc })
    const found = await b.findProviders('echo', { min: 1, timeoutMs: 1000 })
    expect(found).toEqual([expect.objectContaining({ name: 'echo', host: 'A', id: p.id })])
    expect(found[0]!.service).toBeUndefined() // remote: reached by host and id
    p.release()
    await new Promise((r) => setImmediate(r))
    expect(await b.findProviders('echo')).toEqual([])
    expect(() => p.refresh()).toThrow(expect.objectContaining({ code: 'ERR_RELEASED' }))
  })

  test('a lease expires unless refreshed, here and remotely', async () => {
    let t = 0
    const [a, b] = pair(() => t)
    const p = a.provide('svc', {}, { ttlMs: 100 })
    await b.findProviders('svc', { min: 1, timeoutMs: 1000 })
    t = 90
    p.refresh()
    await new Promise((r) => setImmediate(r))
    t = 150
    expect(await a.findProviders('svc')).toHaveLength(1)
    expect(await b.findProviders('svc')).toHaveLength(1)
    t = 300
    expect(await a.findProviders('svc')).toHaveLength(0)
    expect(await b.findProviders('svc')).toHaveLength(0)
  })

  test('a host that joins late asks, and providers answer', async () => {
    const mk = bus(Date.now)
    const a = mk('A')
    const p = a.provide('late', {}, { ttlMs: 10_000 })
    const b = mk('B') // missed the announcement
    expect(await b.findProviders('late')).toEqual([])
    const found = await b.findProviders('late', { min: 1, timeoutMs: 1000 })
    expect(found).toEqual([expect.objectContaining({ host: 'A', id: p.id })])
    a.close()
    b.close()
  })

  test('announcements carry the provider process, token and labels', async () => {
    const [a, b] = pair(Date.now)
    const p = a.provide('labelled', {}, { ttlMs: 5000, meta: ['version=2', 'zone=eu'], pid: 42n })
    const [r] = await b.findProviders('labelled', { min: 1, timeoutMs: 1000 })
    expect(r).toMatchObject({ host: 'A', pid: 42n, token: p.token, meta: ['version=2', 'zone=eu'] })
    expect(a.provision(p.token)).toMatchObject({ pid: 42n, service: {} })
    expect(b.provision(p.token)).toBeUndefined() // only the provider's host answers for it
    p.release()
    expect(a.provision(p.token)).toBeUndefined()
  })

  test('an announcement for a provider on another host than its sender is dropped', async () => {
    const subs = new Map<string, (from: string, d: Uint8Array) => void>()
    const b = createRegistry({ self: 'B', channel: { publish: () => {}, onMessage: (cb) => { subs.set('B', cb); return () => {} } } })
    const forged = { name: 'svc', host: 'A', pid: 1n, token: 7n, ttlMs: 5000, meta: [], withdrawn: false }
    subs.get('B')!('C', encodeAnnouncement(forged)) // C claims a provider on A
    expect(await b.findProviders('svc')).toEqual([])
    subs.get('B')!('A', encodeAnnouncement(forged))
    expect(await b.findProviders('svc')).toEqual([expect.objectContaining({ host: 'A', token: 7n })])
    subs.get('B')!('C', encodeAnnouncement({ ...forged, withdrawn: true })) // nor withdraw it
    expect(await b.findProviders('svc')).toHaveLength(1)
    b.forgetHost('A')
    expect(await b.findProviders('svc')).toEqual([])
  })

  test('malformed registry messages are ignored', () => {
    expect(decodeRegistryMessage(new Uint8Array([1, 0, 0, 0, 0, 9, 9]))).toBeUndefined()
    expect(decodeRegistryMessage(new Uint8Array([9, 1]))).toBeUndefined()
    expect(decodeRegistryMessage(new Uint8Array([2, 0xff]))).toBeUndefined() // not UTF-8
    expect(decodeRegistryMessage(new Uint8Array(70_000).fill(2))).toBeUndefined()
  })

  test('labels are bounded', () => {
    const [a] = pair(Date.now)
    expect(() => a.provide('x', {}, { ttlMs: 10, meta: Array.from({ length: 65 }, () => 'k=v') })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => a.provide('x', {}, { ttlMs: 10, meta: ['k='.padEnd(70_000, 'v')] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })

  test('findProviders honours an AbortSignal', async () => {
    const [a] = pair(Date.now)
    const ac = new AbortController()
    const p = a.findProviders('nothing', { min: 1, signal: ac.signal })
    ac.abort()
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' })
  })
})

describe('registry over a lossy channel', () => {
  test('a find that is waiting asks again: a query lost while the mesh formed does not leave it empty-handed', async () => {
    const subs = new Map<string, (from: string, d: Uint8Array) => void>()
    let queriesDropped = 0
    const chan = (self: string): ControlChannel => ({
      publish: (d) => {
        // The first query B sends reaches nobody (as before pubsub's mesh reaches A).
        if (self === 'B' && decodeRegistryMessage(d)?.kind === 'query' && queriesDropped++ === 0) return
        for (const [id, cb] of subs) if (id !== self) queueMicrotask(() => cb(self, d))
      },
      onMessage: (cb) => { subs.set(self, cb); return () => subs.delete(self) },
    })
    const a = createRegistry({ self: 'A', channel: chan('A') })
    // A provides before B is listening: its announcement reaches nobody either.
    const p = a.provide('late', { svc: 1 }, { ttlMs: 60_000 })
    const b = createRegistry({ self: 'B', channel: chan('B') })
    const found = await b.findProviders('late', { min: 1, timeoutMs: 30_000 })
    expect(found).toEqual([expect.objectContaining({ name: 'late', host: 'A', id: p.id })])
    expect(queriesDropped).toBeGreaterThanOrEqual(2)
    p.release()
    a.close()
    b.close()
  })
})
