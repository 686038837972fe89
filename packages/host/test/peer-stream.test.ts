// The libp2p Stream → Node Duplex adapter under load: megabytes each way through one yamux
// stream between two real hosts, with backpressure seen on both sides and bytes intact.
import { once } from 'node:events'
import { libp2pCluster, streamDuplex, type Libp2pCluster, type Libp2pDuplex } from '../src/index.js'

const PROTO = '/ww/test/duplex/1.0.0'

describe('Libp2pDuplex', () => {
  let a: Libp2pCluster
  let b: Libp2pCluster
  beforeAll(async () => {
    a = await libp2pCluster({ ttlMs: 3000 })
    b = await libp2pCluster({ ttlMs: 3000 })
  })
  afterAll(async () => { await Promise.all([a?.close(), b?.close()]) })

  test('8 MiB echoed back, in order, with write backpressure, then a clean end', async () => {
    // b echoes through its own Duplex, honouring write() → false with 'drain'.
    let serverPaused = 0
    await b.libp2p.handle(PROTO, (stream) => {
      const d = streamDuplex(stream)
      d.on('data', (chunk: Buffer) => {
        if (!d.write(chunk)) { serverPaused++; d.pause(); d.once('drain', () => d.resume()) }
      })
      d.on('end', () => d.end())
    })
    const stream = await a.libp2p.dialProtocol(b.libp2p.getMultiaddrs(), PROTO)
    const d: Libp2pDuplex = streamDuplex(stream)
    const TOTAL = 8 * 1024 * 1024
    const src = new Uint8Array(TOTAL)
    for (let i = 0; i < TOTAL; i++) src[i] = (i * 31 + (i >>> 13)) & 0xff
    const got: Buffer[] = []
    let have = 0
    d.on('data', (c: Buffer) => { got.push(Buffer.from(c)); have += c.byteLength })
    const ended = once(d, 'end')
    let clientFull = 0
    for (let off = 0; off < TOTAL; off += 64 * 1024) {
      if (!d.write(src.subarray(off, off + 64 * 1024))) { clientFull++; await once(d, 'drain') }
    }
    d.end()
    await ended
    expect(have).toBe(TOTAL)
    expect(Buffer.concat(got).equals(Buffer.from(src))).toBe(true)
    expect(clientFull).toBeGreaterThan(0)
    expect(serverPaused + clientFull).toBeGreaterThan(1)
    await b.libp2p.unhandle(PROTO)
  }, 30_000)

  test('a reset stream destroys the Duplex with the error', async () => {
    let serverSide: Libp2pDuplex | undefined
    await b.libp2p.handle(PROTO, (stream) => { serverSide = streamDuplex(stream); serverSide.on('error', () => {}) })
    const stream = await a.libp2p.dialProtocol(b.libp2p.getMultiaddrs(), PROTO)
    const d = streamDuplex(stream)
    const failed = once(d, 'error')
    while (serverSide === undefined) await new Promise((r) => setTimeout(r, 5)) // the handler ran (was: at most 0.5 s)
    serverSide!.destroy(new Error('boom'))
    const [e] = await failed as [Error]
    expect(e).toBeInstanceOf(Error)
    expect(d.destroyed).toBe(true)
    await b.libp2p.unhandle(PROTO)
  }, 30_000)
})
