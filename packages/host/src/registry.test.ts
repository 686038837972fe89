import { createRegistry, type ControlChannel } from './registry.js'

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

  test('findProviders honours an AbortSignal', async () => {
    const [a] = pair(Date.now)
    const ac = new AbortController()
    const p = a.findProviders('nothing', { min: 1, signal: ac.signal })
    ac.abort()
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' })
  })
})
