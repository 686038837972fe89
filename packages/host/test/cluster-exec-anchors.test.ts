// Three libp2p hosts as separate OS processes on 127.0.0.1: a caller on A spawns modules
// on B (through A's Executor capability) and gets their exit status, kills one from A,
// and sees hostLost when B's OS process dies; an anchor written from B is read and
// watched from C.
import { HostProc } from './host-proc.js'

describe('remote spawn and anchors across OS processes', () => {
  let a: HostProc, b: HostProc, c: HostProc
  beforeAll(async () => {
    a = await HostProc.start(['--ttl', '3000'])
    ;[b, c] = await Promise.all([
      HostProc.start(['--ttl', '3000', '--bootstrap', a.addrs[0]!]),
      HostProc.start(['--ttl', '3000', '--bootstrap', a.addrs[0]!]),
    ])
    for (const [h, others] of [[a, [b, c]], [b, [a, c]], [c, [a, b]]] as const) {
      for (const o of others) await h.waitFor((e) => e.ev === 'join' && e.host === o.id, `${o.id} joins`)
    }
  }, 30_000)
  afterAll(async () => { await Promise.all([a, b, c].filter(Boolean).map((h) => h.stop())) })

  test('a caller on A spawns a module on B and gets its exit status; killing it from A works', async () => {
    const done = await a.call<{ handle: number; host: string }>('exec', { module: { exit: 7 }, where: b.id, name: 'seven' })
    expect(done.host).toBe(b.id)
    expect(await a.call('wait', { handle: done.handle })).toBe('exited 7')

    const running = await a.call<{ handle: number; host: string; pid: number }>('exec', { module: { park: true }, where: b.id, name: 'server' })
    const onB = await b.call<Array<{ name: string; pid: number; parent: { host: string; pid: number } }>>('ps')
    expect(onB).toEqual([expect.objectContaining({ name: 'server', pid: running.pid, parent: { host: a.id, pid: 0 } })])
    await a.call('kill', { handle: running.handle })
    expect(await a.call('wait', { handle: running.handle })).toBe('killed')
    expect(await b.call('ps')).toEqual([])
  }, 30_000)

  test('an anchor written from B is read and watched from C', async () => {
    await b.call('anchorStore', { path: 'svc/endpoint', value: 'v1' })
    expect(await c.call('anchorRead', { host: b.id, path: 'svc/endpoint' })).toBe('v1')
    await c.call('anchorWatch', { host: b.id, path: 'svc' })
    for (const v of ['v2', 'v3', 'v4']) await b.call('anchorStore', { path: 'svc/endpoint', value: v })
    const got = await c.waitCount((e) => e.ev === 'anchor', 3, 'three changes')
    expect(got.map((e) => `${String(e.path)}=${String(e.value)}`)).toEqual(['endpoint=v2', 'endpoint=v3', 'endpoint=v4'])
    expect(await c.call('anchorRead', { host: b.id, path: 'svc/endpoint' })).toBe('v4')
  }, 30_000)

  test('B\'s OS process dies: a wait from A on a process there answers hostLost', async () => {
    const running = await a.call<{ handle: number }>('exec', { module: { park: true }, where: b.id })
    const waiting = a.call('wait', { handle: running.handle }, 20_000)
    b.kill('SIGKILL')
    expect(await waiting).toBe(`hostLost ${b.id}`)
    expect(await a.call('ps')).toEqual([])
  }, 30_000)
})
