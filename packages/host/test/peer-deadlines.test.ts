// PeerLink calls bounded by the link's default timeout share one timer
// (src/util/deadlines.ts): each still ends — answered, ERR_TIMEOUT, or ERR_HOST_UNREACHABLE
// when the link closes — and a settled call's deadline never fires.
import { libp2pCluster, waitForHost } from '../src/index.js'
import { Deadlines } from '../src/util/deadlines.js'

const codeIn = (e: unknown): string => (e as { code?: string }).code ?? String(e)

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try { await p } catch (e) { return codeIn(e) }
  return 'resolved'
}

test('calls on the default bound: answered, then timed out while the remote holds back, then unreachable', async () => {
  const a = await libp2pCluster({ rpc: { callTimeoutMs: 300 } })
  const c = await libp2pCluster({ bootstrap: a.addresses() })
  try {
    await waitForHost(a.view, c.id, { timeoutMs: 10_000 })
    const link = await a.dialPeer(c.id)
    for (let i = 0; i < 50; i++) await link.ping()
    const served = c.libp2p.getConnections(a.libp2p.peerId).flatMap((x) => x.streams)
      .filter((s) => s.protocol === '/ww/rpc/1.0.0' && s.direction === 'inbound')
    expect(served).toHaveLength(1)
    served[0]!.pause()
    // watch: the same bound for a call made elsewhere (a forwarder's), without a promise.
    const ended: string[] = []
    const stop = link.watch(() => 'an ended call', () => { ended.push('fired after it ended') })
    stop()
    const watched = new Promise<string>((res) => { link.watch(() => 'a held call', (e) => res(codeIn(e))) })
    const codes = await Promise.all([link.ping(), link.info(), link.ping(), watched].map((p) => codeOf(p)))
    // Deadlines expire in the order they were set: the ended call's would have fired by now.
    expect(codes).toEqual(['ERR_TIMEOUT', 'ERR_TIMEOUT', 'ERR_TIMEOUT', 'resolved'])
    expect(await watched).toBe('ERR_TIMEOUT')
    expect(ended).toEqual([])
    const pending = codeOf(link.ping())
    const watchedAtClose = new Promise<string>((res) => { link.watch(() => 'a held call', (e) => res(codeIn(e))) })
    link.close()
    expect(await pending).toBe('ERR_HOST_UNREACHABLE')
    expect(await watchedAtClose).toBe('ERR_HOST_UNREACHABLE')
    expect(await codeOf(link.ping())).toBe('ERR_HOST_UNREACHABLE')
    expect(await new Promise<string>((res) => { link.watch(() => 'a late call', (e) => res(codeIn(e))) })).toBe('ERR_HOST_UNREACHABLE')
  } finally {
    await Promise.all([a.close(), c.close()])
  }
}, 30_000)

test('Deadlines: only calls not settled in time expire, in order; clear forgets the rest', async () => {
  const d = new Deadlines(20)
  const expired: number[] = []
  const calls = [0, 1, 2, 3].map((i) => d.add(() => expired.push(i)))
  expect(d.settle(calls[1]!)).toBe(true)
  expect(d.settle(calls[1]!)).toBe(false)
  await new Promise<void>((resolve) => d.add(() => resolve())) // the last one added expires last
  expect(expired).toEqual([0, 2, 3])
  expect(d.settle(calls[0]!)).toBe(false) // expired: too late to settle
  const later = d.add(() => expired.push(9))
  d.clear()
  expect(d.size).toBe(0)
  expect(d.settle(later)).toBe(false)
})

test('a call whose function throws at once fails with that error, and the link closing later leaves no rejection unhandled', async () => {
  const a = await libp2pCluster()
  const c = await libp2pCluster({ bootstrap: a.addresses() })
  const unhandled: unknown[] = []
  const onUnhandled = (e: unknown): void => { unhandled.push(e) }
  process.on('unhandledRejection', onUnhandled)
  try {
    await waitForHost(a.view, c.id, { timeoutMs: 10_000 })
    const link = await a.dialPeer(c.id)
    const boom = new Error('thrown before any call was sent')
    // Bounded by its own options (not the default timeout): the path that races the link's end.
    for (const opts of [{ timeoutMs: 60_000 }, { signal: new AbortController().signal }]) {
      await expect(link.call('a throwing call', () => { throw boom }, opts)).rejects.toBe(boom)
    }
    link.close()
    // Node reports an unhandled rejection after the microtasks of the turn it happened in.
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r))
    expect(unhandled).toEqual([])
  } finally {
    process.off('unhandledRejection', onUnhandled)
    await Promise.all([a.close(), c.close()])
  }
}, 30_000)
