// ExecOptions.preopens on real guests, in-thread and on a worker pool: a spawner hands the
// host's Executor (real RPC) a Listener capability served from a real TCP listener, or a
// Conn capability over a real connection; the guest finds it as its WASI socket fd 3.
// @ww/guest's AssemblyScript wasi-http-server answers a TCP client on that listener; the
// CONN_ECHO guest echoes on that connection. The guest's end closes what it was handed.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { connServer, executorProvider, hostCapability, listenerServer, Scope, TcpAcceptor, TcpDialer } from '@ww/host'
import { guestBytes } from '@ww/guest'
import { host as capHost, type process as capProcess } from '@ww/schema'
import { createPair } from '@ww/transport'
import { MemoryListener, type Policy } from '@ww/wasi-restricted'
import { withChildGrants } from '../src/compose/child-grants.js'
import * as G from '../src/bench/guests.js'
import { guestTree, type GuestTree } from './guest-tree.js'
import * as W from './wasi-guests.js'

async function spawner(g: GuestTree): Promise<{ host: capHost.Host$Client; [Symbol.asyncDispose](): Promise<void> }> {
  const hc = hostCapability(g.cluster, { processId: 0, rights: { view: true }, executor: executorProvider(g.tree) })
  const [client] = createPair({ frames: true, b: { bootstrap: hc.server } })
  return { host: client.bootstrap(capHost.Host), [Symbol.asyncDispose]: async () => { client.close(); hc.close() } }
}

function exec(host: capHost.Host$Client, bytes: Uint8Array, fill: (o: capProcess.ExecOptions) => void): capProcess.Process$Client {
  return host.executor().getExecutor().exec((q) => { q.initBytecode().setInline(bytes); fill(q.initOptions()) }).getProcess()
}

test.each(['thread', 'pool'] as const)('on the %s: wasi-http-server answers a TCP client on the Listener its spawner handed in; killing it closes the listener', async (on) => {
  await using g = await guestTree(on)
  await using s = await spawner(g)
  const scope = new Scope()
  const acceptor = await TcpAcceptor.listen('127.0.0.1:0')
  const bytes = await guestBytes('wasi-http-server', { asyncify: false })
  const p = exec(s.host, bytes, (o) => { const e = o.initPreopens(1).get(0); e.setName('http'); e.setListener(listenerServer(acceptor, scope)) })
  const pid = Number((await p.pid()).getSelf().getPid())
  const [host, port] = acceptor.address.split(':')
  const sock: Socket = connect({ host: host!, port: Number(port) })
  sock.on('error', () => {})
  let got = ''
  const answered = new Promise<void>((resolve) => sock.on('data', (b: Buffer) => { got += b.toString(); if (got.includes('path=/preopened?x=1\n')) resolve() }))
  sock.write('GET /preopened?x=1 HTTP/1.1\r\nHost: x\r\n\r\n')
  await answered
  expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
  expect(g.output(pid)).toContain('listening on fd 3')
  await p.kill()
  expect((await p.wait()).getStatus().isKilled()).toBe(true)
  // Its end closed the listener through the capability: no more accepts.
  while (!acceptor.closed) await new Promise((r) => setTimeout(r, 5))
  await expect(acceptor.accept()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  sock.destroy()
  scope.revoke('test over')
})

test.each(['thread', 'pool'] as const)('on the %s: CONN_ECHO reads and writes the Conn its spawner handed in as fd 3; the peer\'s end ends it, and its end closes the connection', async (on) => {
  await using g = await guestTree(on)
  await using s = await spawner(g)
  const server = createServer({ allowHalfOpen: true })
  const peerP = new Promise<Socket>((resolve) => server.once('connection', resolve))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`
  const scope = new Scope()
  const conn = await new TcpDialer([addr]).dial(addr)
  const p = exec(s.host, await G.wat(W.CONN_ECHO), (o) => { const e = o.initPreopens(1).get(0); e.setName('peer'); e.setConn(connServer(conn, scope)) })
  const peer = await peerP
  let echoed = ''
  const both = new Promise<void>((resolve) => peer.on('data', (b: Buffer) => { echoed += b.toString(); if (echoed === 'ping pong') resolve() }))
  peer.write('ping ')
  peer.write('pong')
  await both
  peer.end() // end of stream: the guest's loop ends, exit 0
  const st = (await p.wait()).getStatus()
  expect(st.isExited() && st.getExited()).toBe(0)
  await conn.closed // the guest's end closed it (FIN to the peer)
  await new Promise<void>((resolve) => { if (peer.readableEnded) resolve(); else peer.once('end', () => resolve()) })
  peer.destroy()
  server.close()
  scope.revoke('test over')
})

test('a composition that leaves the preopens out fails the spawn (ERR_POLICY); one that gives them gets the sockets granted', () => {
  const child = { preopens: [{ name: 'http', kind: 'listener' as const, cap: {} as never }] }
  expect(() => withChildGrants({}, child)).toThrow(expect.objectContaining({ code: 'ERR_POLICY', path: 'sockets' }))
  const sockets = [new MemoryListener()]
  const g: { sockets?: readonly MemoryListener[]; policy?: Policy } = withChildGrants({ sockets } as { sockets: MemoryListener[]; policy?: Policy }, child)
  expect(g.sockets).toBe(sockets)
  expect(g.policy?.sockets).toEqual({ maxConnections: 64 })
  expect(withChildGrants({}, {})).toEqual({}) // nothing asked, nothing widened
})
