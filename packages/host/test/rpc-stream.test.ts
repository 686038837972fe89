// Host-to-host RPC straight over the libp2p stream (src/peer/rpc-stream.ts): values far
// larger than yamux's window cross intact in both directions, many at once (frames split
// across chunks, sends held back until 'drain'); a peer sending garbage on /ww/rpc/1.0.0
// loses that stream, and the host goes on serving others. The adapter's tuning (aligned
// copies of received chunks, sends gathered per tick) changes no bytes: the same holds
// with it off, and AlignedSlab's copies are aligned, equal and never overwritten.
import { PEER_PROTOCOL, libp2pCluster, waitForHost, type Libp2pCluster } from '../src/index.js'
import { AlignedSlab } from '../src/peer/rpc-stream.js'
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

describe('RPC over a libp2p stream, adapter tuning off', () => {
  test('pings and 300 KiB blobs each way cross intact (per-microtask sends, unaligned chunks)', async () => {
    const rpc = { tuning: { alignChunks: false, gather: 'microtask' as const } }
    const a = await libp2pCluster({ rpc })
    const b = await libp2pCluster({ rpc, bootstrap: a.addresses() })
    try {
      await waitForHost(a.view, b.id, { timeoutMs: 10_000 })
      await waitForHost(b.view, a.id, { timeoutMs: 10_000 })
      const blob = (i: number): Uint8Array => Uint8Array.from({ length: 300 * 1024 + i }, (_, j) => (j * 13 + i) & 0xff)
      for (const [from, to, i] of [[a, b, 1], [b, a, 2]] as const) {
        const link = await from.dialPeer(to.id)
        for (let k = 0; k < 20; k++) await link.ping()
        const cid = to.cache.put(blob(i))
        const got = (await link.peer.bytecode((q) => q.setCid(cidBytes(cid)))).getBytecode().toUint8Array().slice()
        expect(Buffer.compare(Buffer.from(got), Buffer.from(blob(i)))).toBe(0)
      }
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  }, 60_000)
})

describe('AlignedSlab', () => {
  const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, j) => (j * 31 + seed) & 0xff)

  test('an aligned chunk is passed through, not copied', () => {
    const chunk = new Uint8Array(new ArrayBuffer(64), 16, 40)
    expect(new AlignedSlab().aligned(chunk)).toBe(chunk)
  })

  test('unaligned chunks come back aligned, equal, and earlier copies stay intact', () => {
    const slab = new AlignedSlab()
    const sources: Uint8Array[] = []
    const copies: Uint8Array[] = []
    // Enough to fill several slabs, with odd sizes and offsets.
    for (let i = 0; i < 400; i++) {
      const n = 1 + ((i * 173) % 700)
      const backing = new Uint8Array(n + 16)
      const src = backing.subarray(1 + (i % 7), 1 + (i % 7) + n)
      src.set(bytes(n, i))
      sources.push(src.slice())
      const copy = slab.aligned(src)
      expect(copy.byteOffset % 8).toBe(0)
      copies.push(copy)
    }
    copies.forEach((c, i) => expect(Buffer.compare(Buffer.from(c), Buffer.from(sources[i]!))).toBe(0))
  })

  test('a chunk over MAX_COPY passes as it is', () => {
    const src = new Uint8Array(AlignedSlab.MAX_COPY + 4).subarray(3)
    expect(new AlignedSlab().aligned(src)).toBe(src)
  })
})
