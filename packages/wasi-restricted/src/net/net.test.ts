// listenTcp / dialerFor / TcpConn without a guest: attenuation, bounded buffers, typed errors.
import { createServer, type Server, type Socket } from 'node:net'
import { checkSocketGrants, dialerFor, listenTcp, openSocketGrants, parseAddr, TcpConn, DEFAULT_POLICY, grant, ERRNO, type SocketGrant } from '../index.js'
import { passThrough, setup } from '../../test/harness.js'

async function echoServer(): Promise<{ server: Server; addr: string; connections: () => number }> {
  let n = 0
  const server = createServer((s) => { n++; s.pipe(s) })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const a = server.address() as { port: number }
  return { server, addr: `127.0.0.1:${a.port}`, connections: () => n }
}

async function readAll(c: TcpConn, want: number): Promise<Buffer> {
  const parts: Uint8Array[] = []
  let got = 0
  while (got < want) {
    const b = c.read(want - got)
    if (b === null) break
    if (b.length === 0) { await c.readable(); continue }
    parts.push(b); got += b.length
  }
  return Buffer.concat(parts)
}

test('addresses: IPv4, [IPv6], names; anything else is ERR_BAD_ADDRESS', () => {
  expect(parseAddr('127.0.0.1:80')).toEqual({ host: '127.0.0.1', port: 80 })
  expect(parseAddr('[::1]:8080')).toEqual({ host: '::1', port: 8080 })
  expect(parseAddr('example.org:443')).toEqual({ host: 'example.org', port: 443 })
  for (const bad of ['127.0.0.1', ':80', '::1:80', '[nope]:1', 'a b:1', 'x:65536', 'x:080', 'x:-1', '']) {
    expect(() => parseAddr(bad)).toThrow(expect.objectContaining({ code: 'ERR_BAD_ADDRESS' }))
  }
})

test('a dialer granted 127.0.0.1:A reaches A and cannot reach 127.0.0.1:B (nothing sent)', async () => {
  const a = await echoServer(), b = await echoServer()
  const dialer = dialerFor([a.addr])
  const c = await dialer.dial(a.addr)
  expect(c.write(Buffer.from('ping'))).toBe(4)
  expect((await readAll(c, 4)).toString()).toBe('ping')
  await expect(dialer.dial(b.addr)).rejects.toMatchObject({ code: 'ERR_CAP_DENIED', addr: b.addr })
  // Literal comparison: the same port under another spelling is another destination.
  await expect(dialer.dial(a.addr.replace('127.0.0.1', 'localhost'))).rejects.toMatchObject({ code: 'ERR_CAP_DENIED' })
  expect(b.connections()).toBe(0)
  c.close()
  a.server.close(); b.server.close()
})

test('restrict only narrows; typed errors for refused and malformed destinations', async () => {
  const a = await echoServer()
  const closed = await echoServer()
  closed.server.close()
  const d = dialerFor([a.addr, closed.addr])
  expect(d.restrict([a.addr]).allowed).toEqual([a.addr])
  expect(() => d.restrict(['10.0.0.1:1'])).toThrow(expect.objectContaining({ code: 'ERR_CAP_DENIED' }))
  expect(() => d.restrict([a.addr]).restrict([closed.addr])).toThrow(expect.objectContaining({ code: 'ERR_CAP_DENIED' }))
  await expect(d.dial(closed.addr)).rejects.toMatchObject({ code: 'ERR_HOST_UNREACHABLE' })
  expect(() => dialerFor(['not an address'])).toThrow(expect.objectContaining({ code: 'ERR_BAD_ADDRESS' }))
  const ac = new AbortController()
  ac.abort(new Error('stop'))
  await expect(d.dial(a.addr, { signal: ac.signal })).rejects.toThrow('stop')
  a.server.close()
})

test('a fast sender cannot make the host buffer more than bufferBytes (+ one chunk): the socket pauses', async () => {
  const l = await listenTcp('127.0.0.1:0', { bufferBytes: 16 * 1024 })
  const { host, port } = parseAddr(l.address)
  const { connect } = await import('node:net')
  const client: Socket = connect(port, host)
  const total = 4 << 20
  client.write(Buffer.alloc(total, 7))
  await l.acceptable()
  const c = l.accept() as TcpConn
  let maxIn = 0
  let got = 0
  // Read slowly: one small read per event-loop turn, recording the most the host ever held.
  while (got < total) {
    maxIn = Math.max(maxIn, c.stats().bufferedIn)
    const b = c.read(4096)
    if (b === null) break
    if (b.length === 0) { await c.readable(); continue }
    got += b.length
    if (got % (256 * 1024) < 4096) await new Promise((r) => setImmediate(r))
  }
  expect(got).toBe(total)
  expect(maxIn).toBeLessThanOrEqual(16 * 1024 + 64 * 1024)
  client.destroy(); c.close(); l.close()
})

test('a spawner-dialled conn is socket fd 3; a send takes at most bufferBytes', async () => {
  const a = await echoServer()
  const conn = await dialerFor([a.addr], { bufferBytes: 8 }).dial(a.addr)
  const h = setup(grant(DEFAULT_POLICY, { sockets: { maxConnections: 1 } }), { conns: [conn] })
  h.ok(h.call('fd_fdstat_get', 3, 0))
  expect(h.u8()[0]).toBe(6) // SOCKET_STREAM
  h.fails(ERRNO.EBADF, () => h.call('fd_prestat_get', 3, 0)) // not a preopened dir: wasi-libc stops probing
  h.str(100, 'abcdefghijkl')
  h.ok(h.call('sock_send', 3, ...h.iovs(200, [[100, 12]]), 0, 300))
  expect(h.u32(300)).toBe(8) // at most bufferBytes taken per send (the kernel may drain it at once)
  expect(conn.stats().bufferedOut).toBeLessThanOrEqual(8)
  h.wasi.close()
  a.server.close()
})

test('fd_write / fd_read / sock_shutdown on a real TCP connection fd (suspending reads)', async () => {
  const a = await echoServer()
  const conn = await dialerFor([a.addr]).dial(a.addr)
  const h = setup(grant(DEFAULT_POLICY, { sockets: true }), { conns: [conn], suspend: passThrough })
  h.str(100, 'hello, echo')
  expect(await h.callAsync('fd_write', 3, ...h.iovs(200, [[100, 5], [105, 6]]), 300)).toBe(0)
  expect(h.u32(300)).toBe(11)
  h.ok(h.call('sock_shutdown', 3, 2)) // FIN: the echo server ends its side after echoing
  let text = ''
  for (;;) {
    expect(await h.callAsync('fd_read', 3, ...h.iovs(200, [[400, 4], [404, 4]]), 300)).toBe(0)
    const n = h.u32(300)
    if (n === 0) break // end of stream
    text += h.read(400, n)
  }
  expect(text).toBe('hello, echo')
  const iov = h.iovs(200, [[100, 1]])
  h.fails(ERRNO.EPIPE, () => h.call('fd_write', 3, ...iov, 300))
  h.wasi.close()
  a.server.close()
})

test('socket grants as data: checked without the network, opened in fd order, closed again when one fails', async () => {
  const a = await echoServer()
  expect(checkSocketGrants([{ listen: '127.0.0.1:0' }, { dial: a.addr }, { listen: '[::1]:0' }])).toEqual({ listeners: 2, conns: 1 })
  expect(() => checkSocketGrants([{ listen: 'localhost' }])).toThrow(expect.objectContaining({ code: 'ERR_BAD_ADDRESS' }))
  expect(() => checkSocketGrants([{ dial: a.addr, limits: { bufferBytes: 0 } }])).toThrow(RangeError)
  expect(() => checkSocketGrants([{} as SocketGrant])).toThrow(TypeError)
  expect(a.connections()).toBe(0) // nothing dialled by a check

  // Dials listed first still come after the listeners: the order createWasi numbers fds in.
  const opened = await openSocketGrants([{ dial: a.addr }, { listen: '127.0.0.1:0' }])
  expect(opened.listeners.map((l) => l.address)).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+$/)])
  expect(opened.conns).toHaveLength(1)
  const c = opened.conns[0]!
  expect(c.write(Buffer.from('ping'))).toBe(4)
  expect((await readAll(c, 4)).toString()).toBe('ping')
  const bound = opened.listeners[0]!.address
  opened.close()
  await opened.listeners[0]!.closed

  // The listener is bound before the dial fails; the failure closes it (its port is free).
  const gone = await echoServer()
  gone.server.close()
  await expect(openSocketGrants([{ listen: bound }, { dial: gone.addr }])).rejects.toMatchObject({ code: 'ERR_HOST_UNREACHABLE' })
  const again = await listenTcp(bound)
  await again[Symbol.asyncDispose]()
  a.server.close()
})
