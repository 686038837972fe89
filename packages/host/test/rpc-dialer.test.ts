// The Dialer and Conn over real frames, against real sockets on 127.0.0.1: only allowed
// destinations are reached, restrict only narrows and is revocable, and buffering is
// bounded both ways.
import net from 'node:net'
import type { net as capNet } from '@ww/schema'
import { dialerProvider, embeddedCluster, TcpDialer, type Cluster } from '../src/index.js'
import { codeOf, dec, enc, rig, type Rig } from './rpc-rig.js'
import { waitFor } from './hosts.js'

interface Echo { server: net.Server; addr: string; accepted: number; closed: number }

async function echoServer(): Promise<Echo> {
  const e: Echo = { server: net.createServer({ allowHalfOpen: true }), addr: '', accepted: 0, closed: 0 }
  e.server.on('connection', (s) => {
    e.accepted++
    s.on('close', () => { e.closed++ })
    s.pipe(s)
  })
  await new Promise<void>((r) => e.server.listen(0, '127.0.0.1', r))
  e.addr = `127.0.0.1:${(e.server.address() as net.AddressInfo).port}`
  return e
}
async function readAll(conn: capNet.Conn$Client): Promise<string> {
  let s = ''
  for (;;) {
    const r = await conn.read((q) => q.setMax(0))
    if (r.getEof()) return s
    s += dec.decode(r.getData().toUint8Array())
  }
}

describe('Dialer / Conn over RPC', () => {
  let c: Cluster
  let A: Echo
  let B: Echo
  let r: Rig
  beforeAll(async () => { [A, B] = await Promise.all([echoServer(), echoServer()]) })
  afterAll(async () => { await Promise.all([A, B].map((e) => new Promise((res) => e.server.close(res)))) })
  beforeEach(() => {
    c = embeddedCluster({ id: 'net-host' })
    r = rig(c, { dialer: dialerProvider([A.addr]) })
  })
  afterEach(async () => { r.client.close(); r.hc.close(); await c.close() })

  test('an allowed address is reached; another is ERR_CAP_DENIED and sees no connection', async () => {
    const dialer = r.host.dialer().getDialer()
    expect((await dialer.allowed()).getAddrs().toArray()).toEqual([A.addr])
    const conn = dialer.dial((q) => q.setAddr(A.addr)).getConn()
    await conn.write((q) => q.setData(enc.encode('hello')))
    const got = await conn.read((q) => q.setMax(0))
    expect(dec.decode(got.getData().toUint8Array())).toBe('hello')
    expect((await conn.addrs()).getRemote()).toBe(A.addr)
    const before = B.accepted
    expect(await codeOf(dialer.dial((q) => q.setAddr(B.addr)))).toBe('ERR_CAP_DENIED')
    expect(await codeOf(dialer.dial((q) => q.setAddr(`localhost:${A.addr.split(':')[1]}`)))).toBe('ERR_CAP_DENIED')
    expect(B.accepted).toBe(before)
    // Half-close: the echo server sees eof, echoes the rest and ends; we read eof.
    await conn.write((q) => q.setData(enc.encode(' world')))
    await conn.shutdown((q) => q.setHow(1))
    expect(await readAll(conn)).toBe(' world')
    expect(await codeOf(conn.write((q) => q.setData(enc.encode('late'))))).toBe('ERR_CLOSED')
    await conn.close()
    await conn.close() // idempotent
  })

  test('restrict only narrows; revoking it closes its connections and fails later calls', async () => {
    const dialer = r.host.dialer().getDialer()
    expect(await codeOf(dialer.restrict((q) => { const l = q.initAddrs(1); l.set(0, B.addr) }))).toBe('ERR_CAP_DENIED')
    const narrowed = await dialer.restrict((q) => { const l = q.initAddrs(1); l.set(0, A.addr) })
    const sub = narrowed.getDialer()
    const closedBefore = A.closed
    const conn = sub.dial((q) => q.setAddr(A.addr)).getConn()
    await conn.addrs()
    await narrowed.getRevoker().revoke((q) => q.setReason('done with it'))
    expect(await codeOf(sub.dial((q) => q.setAddr(A.addr)))).toBe('ERR_REVOKED')
    expect(await codeOf(conn.read((q) => q.setMax(0)))).toBe('ERR_REVOKED')
    await waitFor(() => A.closed > closedBefore) // the socket was closed, not leaked
    // The original dialer is untouched.
    const again = dialer.dial((q) => q.setAddr(A.addr)).getConn()
    await again.close()
  })

  test('a refused connection is ERR_HOST_UNREACHABLE; a dropped Conn is closed', async () => {
    const gone = net.createServer()
    await new Promise<void>((res) => gone.listen(0, '127.0.0.1', res))
    const addr = `127.0.0.1:${(gone.address() as net.AddressInfo).port}`
    await new Promise((res) => gone.close(res))
    const r2 = rig(c, { dialer: dialerProvider([addr, A.addr]) })
    const dialer = r2.host.dialer().getDialer()
    expect(await codeOf(dialer.dial((q) => q.setAddr(addr)))).toBe('ERR_HOST_UNREACHABLE')
    const closedBefore = A.closed
    const conn = (await dialer.dial((q) => q.setAddr(A.addr))).getConn()
    conn.dispose()
    await waitFor(() => A.closed > closedBefore)
    r2.client.close(); r2.hc.close()
  })
})

test('bounded buffering: a slow reader holds the sender back; nothing is lost', async () => {
  const CHUNK = 64 * 1024
  const TOTAL = 4 * 1024 * 1024
  const server = net.createServer((s) => {
    let sent = 0
    // A sender that respects backpressure: it writes only when its socket drains.
    const pump = (): void => {
      while (sent < TOTAL) {
        sent += CHUNK
        if (!s.write(Buffer.alloc(CHUNK, sent / CHUNK))) { s.once('drain', pump); return }
      }
      s.end()
    }
    pump()
  })
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res))
  const addr = `127.0.0.1:${(server.address() as net.AddressInfo).port}`
  const limit = 32 * 1024
  const conn = await new TcpDialer([addr], { bufferBytes: limit }).dial(addr)
  // Reads of 4 KiB, one per event-loop turn: far slower than loopback delivers. Without
  // pausing the socket the buffer would grow to megabytes; with it, never past the limit
  // plus one socket chunk.
  let total = 0
  let maxBuffered = 0
  const seen: number[] = []
  try {
    for (;;) {
      const r = await conn.read(4096)
      if (r.eof) break
      total += r.data.byteLength
      if (seen[seen.length - 1] !== r.data[0]) seen.push(r.data[0]!)
      maxBuffered = Math.max(maxBuffered, conn.buffered)
      await new Promise((res) => setImmediate(res))
    }
  } finally {
    conn.close()
    await conn.closed
    await new Promise((res) => server.close(res))
  }
  expect(total).toBe(TOTAL)
  expect(seen).toEqual(Array.from({ length: TOTAL / CHUNK }, (_, i) => (i + 1) & 0xff)) // in order
  expect(maxBuffered).toBeLessThanOrEqual(limit + CHUNK)
})
