// The registry across hosts that are separate OS processes: B finds A's provider and calls
// it; cancel on A is ERR_REVOKED for B's held reference; a SIGKILLed provider host is
// ERR_HOST_UNREACHABLE, promptly.
import { HostProc } from './host-proc.js'

type Called = { ok?: string; code?: string; ms: number }

describe('registry across host processes', () => {
  let a: HostProc, b: HostProc
  afterAll(async () => { await Promise.all([a, b].filter(Boolean).map((h) => h.stop())) })

  test('find and call across processes; cancel revokes; a killed host is unreachable', async () => {
    a = await HostProc.start(['--ttl', '3000'])
    b = await HostProc.start(['--ttl', '3000', '--bootstrap', a.addrs[0]!])
    await a.waitFor((e) => e.ev === 'join' && e.host === b.id, 'B joins (A)')
    await b.waitFor((e) => e.ev === 'join' && e.host === a.id, 'A joins (B)')

    await a.call('provide', { name: 'echo' })
    expect(await b.call('find', { name: 'echo', waitMs: 10_000 })).toEqual([{ host: a.id, pid: 1, meta: ['version=1'] }])
    expect(await b.call<Called>('callHeld', { name: 'echo', payload: 'hi' })).toMatchObject({ ok: `${a.id}:hi` })
    await a.call('cancel', { name: 'echo' })
    expect(await b.call<Called>('callHeld', { name: 'echo', payload: 'again' })).toMatchObject({ code: 'ERR_REVOKED' })
    expect(await b.call('find', { name: 'echo', waitMs: 100 })).toEqual([])

    await a.call('provide', { name: 'echo2' })
    await b.call('find', { name: 'echo2', waitMs: 10_000 })
    expect(await b.call<Called>('callHeld', { name: 'echo2', payload: 'x' })).toMatchObject({ ok: `${a.id}:x` })
    a.kill('SIGKILL')
    await b.waitFor((e) => e.ev === 'leave' && e.host === a.id, 'A leaves (B)', 15_000)
    const lost = await b.call<Called>('callHeld', { name: 'echo2', payload: 'y' })
    // The link closed with the connection: the call fails with the host's code (a hang would
    // meet the test's own bound; how long it took is not asserted: load decides that).
    expect(lost.code).toBe('ERR_HOST_UNREACHABLE')
    expect(await b.call('find', { name: 'echo2', waitMs: 100 })).toEqual([]) // forgotten with the host
  })
})
