// Issue 17: sockets for guests on pool workers. The spawner describes them (SocketGrant),
// checked against the policy on its thread; the worker that runs the guest opens them.
// Real sockets on loopback, real guests: @ww/guest's AssemblyScript wasi-http-server on a
// listener, the CONN_ECHO guest on a dialled connection.
import { guestBytes } from '@ww/guest'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { DEFAULT_POLICY, grant, listenTcp, MemorySink } from '@ww/wasi-restricted'
import { compileGuest, Scheduler, spawnGuest, spawnPoolGuest, WorkerPool } from '../src/index.js'
import * as G from '../src/bench/guests.js'
import * as W from './wasi-guests.js'

const SOCKETS = grant(DEFAULT_POLICY, { sockets: true })
const text = (s: MemorySink): string => Buffer.concat(s.records.map((r) => r.bytes)).toString('utf8')

let pool: WorkerPool
beforeAll(async () => { pool = await WorkerPool.start({ workers: 2 }) })
afterAll(async () => { await pool.close() })

async function oneClientServer(): Promise<{ server: Server; addr: string; peer: Promise<Socket> }> {
  const server = createServer({ allowHalfOpen: true })
  const peer = new Promise<Socket>((resolve) => server.once('connection', resolve))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, addr: `127.0.0.1:${(server.address() as AddressInfo).port}`, peer }
}

/** A raw client on `addr`: connected, with everything it receives and whether the server ended its side. */
async function client(addr: string): Promise<{ socket: Socket; received: () => string; ended: Promise<void> }> {
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))]
  const socket = connect({ host, port })
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  let got = ''
  socket.on('data', (b: Buffer) => { got += b.toString() })
  const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()))
  socket.on('error', () => {})
  return { socket, received: () => got, ended }
}

async function until(f: () => boolean): Promise<void> {
  while (!f()) await new Promise((r) => setTimeout(r, 5))
}

/** True once `addr` can be bound again (the guest's listener is closed). */
async function free(addr: string): Promise<boolean> {
  const l = await listenTcp(addr)
  await l[Symbol.asyncDispose]()
  return true
}

test('a guest on a worker accepts on the listener its worker bound and answers; killing it frees the port and ends its connections', async () => {
  const mod = await compileGuest(pool, await guestBytes('wasi-http-server', { asyncify: false }))
  const stdout = new MemorySink()
  const g = await spawnPoolGuest(pool, mod, { policy: SOCKETS, socketGrants: [{ listen: '127.0.0.1:0' }], stdout, worker: 1 })
  expect(g.worker).toBe(1)
  expect(g.listening).toEqual([expect.stringMatching(/^127\.0\.0\.1:[1-9]\d*$/)])
  const addr = g.listening[0]!
  // A keep-alive connection the guest still holds when it is killed: the client sees the end (FIN).
  const c = await client(addr)
  c.socket.write('GET /on-a-worker?x=1 HTTP/1.1\r\nHost: x\r\n\r\n')
  await until(() => c.received().endsWith('path=/on-a-worker?x=1\n'))
  expect(c.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
  expect(await g.kill()).toMatchObject({ kind: 'killed' })
  await c.ended
  expect(await free(addr)).toBe(true)
  expect(text(stdout)).toContain('listening on fd 3')
  c.socket.destroy()
})

test('a guest on a worker reads and writes the connection its worker dialled; its end closes it', async () => {
  const srv = await oneClientServer()
  const mod = await compileGuest(pool, await G.wat(W.CONN_ECHO))
  const g = await spawnPoolGuest(pool, mod, { policy: SOCKETS, socketGrants: [{ dial: srv.addr }] })
  expect(g.listening).toEqual([])
  const peer = await srv.peer
  let echoed = ''
  const both = new Promise<void>((resolve) => peer.on('data', (b: Buffer) => { echoed += b.toString(); if (echoed === 'ping pong') resolve() }))
  peer.write('ping ')
  setTimeout(() => peer.write('pong'), 5) // the guest waits for it in fd_read
  await both
  peer.end() // end of stream: the guest's loop ends, exit 0
  expect(await g.wait()).toEqual({ kind: 'exited', code: 0 })
  await new Promise<void>((resolve) => { if (peer.readableEnded) resolve(); else peer.once('end', () => resolve()) })
  peer.destroy()
  srv.server.close()
})

test('without a grant a guest gets the same errno on a worker as on the spawner\'s thread (EBADF: no fd 3)', async () => {
  await using s = new Scheduler()
  const here = spawnGuest(s, await compileGuest(s, await G.wat(W.CONN_ECHO)), { policy: SOCKETS })
  const there = await spawnPoolGuest(pool, await compileGuest(pool, await G.wat(W.CONN_ECHO)), { policy: SOCKETS })
  const plain = await spawnPoolGuest(pool, await compileGuest(pool, await G.wat(W.CONN_ECHO)))
  expect(await here.wait()).toEqual({ kind: 'exited', code: 8 })
  expect(await there.wait()).toEqual({ kind: 'exited', code: 8 })
  expect(await plain.wait()).toEqual({ kind: 'exited', code: 8 })
})

test('the spawner decides: grants the policy does not allow, or malformed, are refused here and nothing is opened', async () => {
  const mod = await compileGuest(pool, await G.wat(W.CONN_ECHO))
  const srv = await oneClientServer()
  let connections = 0
  srv.server.on('connection', () => { connections++ })
  await expect(spawnPoolGuest(pool, mod, { socketGrants: [{ dial: srv.addr }] })).rejects.toMatchObject({ code: 'ERR_POLICY', path: 'sockets' })
  const oneConn = grant(DEFAULT_POLICY, { sockets: { maxConnections: 1 } })
  await expect(spawnPoolGuest(pool, mod, { policy: oneConn, socketGrants: [{ dial: srv.addr }, { dial: srv.addr }] })).rejects.toMatchObject({ code: 'ERR_POLICY', path: 'sockets.maxConnections' })
  await expect(spawnPoolGuest(pool, mod, { policy: SOCKETS, socketGrants: [{ listen: 'localhost' }] })).rejects.toMatchObject({ code: 'ERR_BAD_ADDRESS' })
  const noWasi = await compileGuest(pool, await G.wat('(module (memory (export "memory") 1) (func (export "_start")))'))
  await expect(spawnPoolGuest(pool, noWasi, { policy: SOCKETS, socketGrants: [{ listen: '127.0.0.1:0' }] })).rejects.toMatchObject({ code: 'ERR_BAD_MODULE' })
  expect(connections).toBe(0)
  srv.server.close()
})

test('a listen the worker cannot bind, or a dial it cannot make, ends the spawn with its NetError; what it opened is closed', async () => {
  const mod = await compileGuest(pool, await G.wat(W.CONN_ECHO))
  const taken = await oneClientServer()
  const refused = await oneClientServer()
  refused.server.close()
  const before = (await pool.ps()).length
  await expect(spawnPoolGuest(pool, mod, { policy: SOCKETS, socketGrants: [{ listen: taken.addr }] })).rejects.toMatchObject({ code: 'ERR_LIMIT', message: expect.stringContaining(taken.addr) })
  // The first listener was bound before the dial failed: it is closed again (its port is free).
  const first = await listenTcp('127.0.0.1:0')
  const firstAddr = first.address
  await first[Symbol.asyncDispose]()
  await expect(spawnPoolGuest(pool, mod, { policy: SOCKETS, socketGrants: [{ listen: firstAddr }, { dial: refused.addr }] })).rejects.toMatchObject({ code: 'ERR_HOST_UNREACHABLE' })
  expect(await free(firstAddr)).toBe(true)
  expect((await pool.ps()).length).toBe(before)
  taken.server.close()
})

test('closing the pool closes its guests\' sockets, opened there or served from here: the port is free, the peers see the end', async () => {
  const own = await WorkerPool.start({ workers: 1 })
  const mod = await compileGuest(own, await guestBytes('wasi-http-server', { asyncify: false }))
  const g = await spawnPoolGuest(own, mod, { policy: SOCKETS, socketGrants: [{ listen: '127.0.0.1:0' }] })
  const addr = g.listening[0]!
  const c = await client(addr)
  c.socket.write('GET /before-close HTTP/1.1\r\nHost: x\r\n\r\n')
  await until(() => c.received().includes('path=/before-close'))
  // A connection of this thread, served to a guest there: the worker's end closes it here.
  const srv = await oneClientServer()
  const { dialerFor } = await import('@ww/wasi-restricted')
  await spawnPoolGuest(own, await compileGuest(own, await G.wat(W.CONN_ECHO)), { policy: SOCKETS, conns: [await dialerFor([srv.addr]).dial(srv.addr)] })
  const peer = await srv.peer
  const peerEnded = new Promise<void>((resolve) => peer.once('end', () => resolve()))
  await own.close()
  await c.ended
  await peerEnded
  expect(await free(addr)).toBe(true)
  c.socket.destroy()
  peer.destroy()
  srv.server.close()
})

// Live sockets of the spawner's thread, served to the worker over ports (socket-port.ts):
// what ExecOptions.preopens need (a socket that exists only here, e.g. over RPC).
describe('sockets and conns of the spawner\'s thread, served to a guest on a worker', () => {
  test('a listener bound here: the guest on a worker accepts and answers; its end closes the listener and the connection', async () => {
    const listener = await listenTcp('127.0.0.1:0')
    const mod = await compileGuest(pool, await guestBytes('wasi-http-server', { asyncify: false }))
    const g = await spawnPoolGuest(pool, mod, { policy: SOCKETS, sockets: [listener] })
    const c = await client(listener.address)
    for (const path of ['/one', '/two']) {
      c.socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`)
      await until(() => c.received().endsWith(`path=${path}\n`))
    }
    expect(c.received().match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2)
    expect(await g.kill()).toMatchObject({ kind: 'killed' })
    await c.ended
    await listener.closed
    expect(await free(listener.address)).toBe(true)
    c.socket.destroy()
  })

  test('a connection dialled here: the guest on a worker echoes each message, in order; the peer\'s end ends it', async () => {
    const srv = await oneClientServer()
    const { dialerFor } = await import('@ww/wasi-restricted')
    const conn = await dialerFor([srv.addr]).dial(srv.addr)
    const peer = await srv.peer
    const mod = await compileGuest(pool, await G.wat(W.CONN_ECHO))
    const g = await spawnPoolGuest(pool, mod, { policy: SOCKETS, conns: [conn] })
    let got = Buffer.alloc(0)
    peer.on('data', (b: Buffer) => { got = Buffer.concat([got, b]) })
    // One message at a time, each under the guest's 4 KiB read (CONN_ECHO writes back what it read once).
    for (let i = 0; i < 32; i++) {
      const m = Buffer.alloc(3000, i)
      const want = got.length + m.length
      peer.write(m)
      await until(() => got.length >= want)
      expect(got.subarray(want - m.length).equals(m)).toBe(true)
    }
    peer.end()
    expect(await g.wait()).toEqual({ kind: 'exited', code: 0 })
    await new Promise<void>((resolve) => { if (peer.readableEnded) resolve(); else peer.once('end', () => resolve()) })
    peer.destroy()
    srv.server.close()
  })

  test('any Binder: an in-memory listener of this thread (as a capability reached over RPC would be)', async () => {
    const { MemoryListener } = await import('@ww/wasi-restricted')
    const listener = new MemoryListener()
    const mod = await compileGuest(pool, await guestBytes('wasi-http-server', { asyncify: false }))
    const g = await spawnPoolGuest(pool, mod, { policy: SOCKETS, sockets: [listener] })
    const c = listener.connect()
    const req = Buffer.from('GET /in-memory HTTP/1.1\r\nHost: x\r\n\r\n')
    expect(c.write(req)).toBe(req.length)
    let answer = ''
    while (!answer.endsWith('path=/in-memory\n')) {
      const b = c.read(4096)
      if (b === null) break
      if (b.length === 0) { await c.readable(); continue }
      answer += Buffer.from(b).toString()
    }
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*hello from a ww guest\npath=\/in-memory\n$/)
    await g.kill()
    // Its end closed the connection: the client reads end of stream.
    for (;;) { const b = c.read(4096); if (b === null) break; if (b.length === 0) await c.readable() }
  })

  test('a listener claimed by another process is refused (ERR_CAP_IN_USE); live sockets need the grant too', async () => {
    const listener = await listenTcp('127.0.0.1:0')
    listener.claim('someone else')
    const mod = await compileGuest(pool, await G.wat(W.CONN_ECHO))
    await expect(spawnPoolGuest(pool, mod, { policy: SOCKETS, sockets: [listener] })).rejects.toMatchObject({ code: 'ERR_CAP_IN_USE' })
    await expect(spawnPoolGuest(pool, mod, { sockets: [listener] })).rejects.toMatchObject({ code: 'ERR_POLICY', path: 'sockets' })
    await listener[Symbol.asyncDispose]()
  })
})
