// Host-to-host RPC straight over the libp2p stream (src/peer/rpc-stream.ts): values far
// larger than yamux's window cross intact in both directions, many at once (frames split
// across chunks, sends held back until 'drain'); a peer sending garbage on /ww/rpc/1.0.0
// loses that stream, and the host goes on serving others.
import { PEER_PROTOCOL, libp2pCluster, waitForHost, type Libp2pCluster } from '../src/index.js'
import { cidBytes } from '../src/rpc/cache.js'

describe('RPC over a libp2p stream', () => {
  let a: Libp2pCluster
  let b: Libp2pCluster
  beforeAll(async () => {
    a = await libp2pCluster({})
    b = await libp2pCluster({ bootstrap: a.addresses() })
    await waitForHost(a.view, b.id, { timeoutMs: 10_000 })
    await waitForHost(b.view, a.id, { timeoutMs: 10_000 })
  }, 30_000)
  afterAll(async () => { await Promise.all([a?.close(), b?.close()]) })

  test('eight 768 KiB blobs each way at once, intact', async () => {
    const blob = (i: number): Uint8Array => Uint8Array.from({ length: 768 * 1024 - i }, (_, j) => (j * 7 + i) & 0xff)
    const fetchAll = async (from: Libp2pCluster, to: Libp2pCluster, first: number): Promise<void> => {
      const cids = Array.from({ length: 8 }, (_, i) => to.cache.put(blob(first + i)))
      const link = await from.dialPeer(to.id)
      const got = await Promise.all(cids.map(async (cid) => {
        const r = await link.peer.bytecode((q) => q.setCid(cidBytes(cid)))
        return r.getBytecode().toUint8Array().slice()
      }))
      got.forEach((g, i) => expect(Buffer.compare(Buffer.from(g), Buffer.from(blob(first + i)))).toBe(0))
    }
    await Promise.all([fetchAll(a, b, 0), fetchAll(b, a, 8)])
  }, 60_000)

  test('garbage on /ww/rpc/1.0.0 closes that stream; the host keeps serving', async () => {
    const stream = await a.libp2p.dialProtocol(b.libp2p.getMultiaddrs(), PEER_PROTOCOL)
    const ended = new Promise<string>((resolve) => {
      stream.addEventListener('remoteCloseWrite', () => resolve('remote closed'))
      stream.addEventListener('close', () => resolve('closed'))
    })
    // A frame header claiming 2^31 segments: refused by the frame limits.
    stream.send(Uint8Array.from([0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]))
    expect(await ended).toMatch(/closed/)
    const link = await a.dialPeer(b.id)
    expect((await link.info()).id).toBe(b.id)
    expect((await b.libp2p.getConnections(a.libp2p.peerId)).length).toBeGreaterThan(0)
  }, 30_000)
})
