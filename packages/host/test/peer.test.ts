// Host-to-host RPC on /ww/rpc/1.0.0: two libp2p hosts in this process call each other's
// Peer capability; one link per host, reused; a host that goes away fails calls typed.
import { libp2pCluster, isHostError, PeerLink, type Libp2pCluster } from '../src/index.js'
import { joined, waitFor } from './hosts.js'

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try { await p } catch (e) { return isHostError(e) ? e.code : `untyped: ${String(e)}` }
  return 'resolved'
}

describe('host-to-host Peer RPC over libp2p', () => {
  let a: Libp2pCluster
  let b: Libp2pCluster
  beforeAll(async () => {
    a = await libp2pCluster({ ttlMs: 3000 })
    b = await libp2pCluster({ ttlMs: 3000, bootstrap: a.addresses() })
    await joined(a, b)
  })
  afterAll(async () => { await Promise.all([a?.close(), b?.close()]) })

  test('ping and info across hosts, both ways', async () => {
    const ab = await a.dialPeer(b.id)
    await ab.ping()
    const info = await ab.info()
    expect(info.id).toBe(b.id)
    expect(info.addresses).toEqual(b.addresses())
    const ba = await b.dialPeer(a.id)
    expect((await ba.info()).id).toBe(a.id)
  }, 20_000)

  test('one link per host, reused by every caller, also when dialled concurrently', async () => {
    const [l1, l2] = await Promise.all([a.dialPeer(b.id), a.dialPeer(b.id)])
    expect(l1).toBe(l2)
    expect(l1).toBeInstanceOf(PeerLink)
    expect(await a.dialPeer(b.id)).toBe(l1)
    await Promise.all(Array.from({ length: 50 }, () => l1.ping()))
    const streams = a.libp2p.getConnections(b.libp2p.peerId)
      .flatMap((c) => c.streams).filter((s) => s.protocol === '/ww/rpc/1.0.0' && s.direction === 'outbound')
    expect(streams).toHaveLength(1)
  }, 20_000)

  test('the remote anchor subtree is reachable through Peer.anchors', async () => {
    const link = await a.dialPeer(b.id)
    const root = link.anchors()
    await root.walk((p) => p.setPath('greeting')).getAnchor().set((p) => p.initValue().setData(new TextEncoder().encode('hi from a')))
    const node = b.local.walk('greeting')
    const got = await node.load()
    node.release()
    expect(got?.kind === 'bytes' ? new TextDecoder().decode(got.bytes) : got).toBe('hi from a')
    const path = await root.path()
    expect(path.getPath()).toBe(`/${b.id}`)
  }, 20_000)

  test('dialling self or an unknown host fails typed', async () => {
    expect(await codeOf(a.dialPeer(a.id))).toBe('ERR_INVALID_ARGUMENT')
    expect(await codeOf(a.dialPeer('12D3KooWNotAHostInThisClusterAtAll'))).toBe('ERR_HOST_UNREACHABLE')
  })
})

describe('a host that goes away', () => {
  test('pending and later calls fail ERR_HOST_UNREACHABLE, never hang', async () => {
    const a = await libp2pCluster({ ttlMs: 3000 })
    const c = await libp2pCluster({ ttlMs: 3000, bootstrap: a.addresses() })
    try {
      await waitFor(() => a.view.get(c.id) !== undefined)
      const link = await a.dialPeer(c.id)
      await link.ping()
      // A call whose answer never comes: c's anchor watch of a value set later... simpler:
      // a call made on c's Peer just as c stops, and one after.
      // Hold c's side of the stream back: a call sent now is pending until c answers.
      const served = c.libp2p.getConnections(a.libp2p.peerId).flatMap((x) => x.streams)
        .filter((s) => s.protocol === '/ww/rpc/1.0.0' && s.direction === 'inbound')
      expect(served).toHaveLength(1)
      served[0]!.pause()
      expect(await codeOf(link.ping({ timeoutMs: 200 }))).toBe('ERR_TIMEOUT')
      const pending = link.call('Peer.info', (p) => p.info(), { timeoutMs: 10_000 })
      const stopping = c.close()
      expect(await codeOf(pending)).toBe('ERR_HOST_UNREACHABLE')
      await stopping
      await waitFor(() => link.closed)
      expect(await codeOf(link.ping())).toBe('ERR_HOST_UNREACHABLE')
      expect(await codeOf(link.info({ timeoutMs: 5000 }))).toBe('ERR_HOST_UNREACHABLE')
      await waitFor(() => a.view.get(c.id) === undefined)
      expect(await codeOf(a.dialPeer(c.id, { timeoutMs: 2000 }))).toBe('ERR_HOST_UNREACHABLE')
    } finally {
      await Promise.all([a.close(), c.close()])
    }
  }, 30_000)
})
