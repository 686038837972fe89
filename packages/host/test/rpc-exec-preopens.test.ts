// ExecOptions.preopens over real frames: sockets a spawner hands in as capabilities (a
// Listener bound on a real TCP port, a Conn dialled to a real server) reach the child,
// which finds them in BootContext.info() with the fds its WASI numbers them by, and uses
// them through the non-blocking socket adapters a guest's fds are (RpcListener, RpcConn).
// Bad input is a typed error and spawns nothing. The children are JS processes
// (exec-js-runtime.ts) with their own Host over their own connection.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { process as capProcess } from '@ww/schema'
import type { ClientLike } from 'capnp-ts'
import {
  connServer, embeddedCluster, executorProvider, listenerServer, MAX_PREOPENS, preopenSockets, ProcessTree, Scope, TcpAcceptor, TcpDialer, type Cluster,
  type Libp2pCluster,
} from '../src/index.js'
import { jsRuntime, type Body } from './exec-js-runtime.js'
import { tinyModule, tinyRuntime } from '../src/exec/tiny-runtime.js'
import { closeTwoHostTrees, twoHostTrees } from './hosts.js'
import { codeOf, rig, type Rig } from './rpc-rig.js'

const MODULE = tinyModule({ exit: 0 }) // the JS runtime runs bodies; the tree still wants a module

type Entry = [name: string, kind: 'listener' | 'conn', cap: ClientLike | null]
function exec(ex: capProcess.Executor$Client, body: string, preopens: Entry[], fill: (o: capProcess.ExecOptions) => void = () => {}): capProcess.Process$Client {
  return ex.exec((p) => {
    p.initBytecode().setInline(MODULE)
    const o = p.initOptions()
    o.setName(body)
    const l = o.initPreopens(preopens.length)
    preopens.forEach(([name, kind, cap], i) => {
      const e = l.get(i)
      e.setName(name)
      if (cap === null) return // a null capability: the union's default (listener), unset
      if (kind === 'listener') e.setListener(cap)
      else e.setConn(cap)
    })
    fill(o)
  }).getProcess()
}

/** The adapters' wait, as a guest's blocking call would: until `ready()`, woken by `watch`. */
async function until(ready: () => boolean, watch: (wake: () => void) => () => void): Promise<void> {
  while (!ready()) await new Promise<void>((r) => { const off = watch(() => { off(); r() }) })
}

describe('exec with preopens over RPC', () => {
  let c: Cluster
  let tree: ProcessTree
  let peerServer: Server
  let peerAddr: string
  let peers: Socket[]
  const bodies: Record<string, Body> = {}
  const rigs: Rig[] = []
  const spawner = (): Rig => {
    const r = rig(c, { processId: 0, rights: { executor: true }, executor: executorProvider(tree) })
    rigs.push(r)
    return r
  }
  beforeEach(async () => {
    c = embeddedCluster({ id: 'host-p' })
    tree = new ProcessTree({ runtime: jsRuntime(c, bodies), cache: c.cache, host: c.id })
    peers = []
    peerServer = createServer({ allowHalfOpen: true }, (s) => { peers.push(s) })
    await new Promise<void>((r) => peerServer.listen(0, '127.0.0.1', r))
    peerAddr = `127.0.0.1:${(peerServer.address() as AddressInfo).port}`
  })
  afterEach(async () => {
    for (const r of rigs.splice(0)) { r.client.close(); r.hc.close() }
    await tree.close()
    await c.close()
    for (const s of peers) s.destroy()
    await new Promise<void>((r) => peerServer.close(() => r()))
  })

  test('a Listener and a Conn: BootContext.info() lists them with their fds; the child accepts a real client and echoes on the connection through the socket adapters; its end closes both', async () => {
    const r = spawner()
    const scope = new Scope()
    const acceptor = await TcpAcceptor.listen('127.0.0.1:0')
    const conn = await new TcpDialer([peerAddr]).dial(peerAddr)
    bodies.user = async (host, spec) => {
      const info = (await host.bootContext().getContext().info()).getInfo()
      const listed = info.getPreopens().toArray().map((p) => `${p.getName()}=${p.getFd()}:${p.isListener() ? 'listener' : 'conn'}`)
      // What its fds are: adapters over the capabilities the tree holds for it.
      const { sockets, conns } = preopenSockets(spec.child?.preopens)
      const [l, upstream] = [sockets[0]!, conns[0]!]
      await until(() => l.canAccept(), (w) => l.watchAcceptable!(w))
      const client = l.accept()!
      // Echo what the client says to the upstream conn, and the upstream's answer back.
      let said = ''
      while (!said.endsWith('\n')) {
        await until(() => client.canRead(), (w) => client.watchReadable!(w))
        const got = client.read(1024)
        if (got === null) return 1 // ended before the line
        said += Buffer.from(got).toString()
      }
      upstream.write(Buffer.from(`relay ${said}`))
      upstream.shutdown(2)
      let answer = ''
      for (;;) {
        await until(() => upstream.canRead(), (w) => upstream.watchReadable!(w))
        const got = upstream.read(1024)
        if (got === null) break
        answer += Buffer.from(got).toString()
      }
      client.write(Buffer.from(`${listed.join(' ')} | ${answer}`))
      await until(() => client.canWrite(), (w) => client.watchWritable!(w))
      client.close()
      l.close(); upstream.close()
      return 0
    }
    const p = exec(r.host.executor().getExecutor(), 'user', [['up', 'conn', connServer(conn, scope)], ['http', 'listener', listenerServer(acceptor, scope)]])
    const [host, port] = acceptor.address.split(':')
    const sock = connect({ host: host!, port: Number(port) })
    let got = ''
    sock.on('data', (b: Buffer) => { got += b.toString() })
    const ended = new Promise<void>((res) => sock.once('end', () => res()))
    sock.write('hello\n')
    // The upstream peer answers once it has read all the relay wrote (to its FIN).
    const peer = await new Promise<Socket>((res) => { if (peers[0]) res(peers[0]); else peerServer.once('connection', res) })
    let relayed = ''
    peer.on('data', (b: Buffer) => { relayed += b.toString() })
    await new Promise<void>((res) => peer.once('end', () => res()))
    peer.end(`upstream got: ${relayed}`)
    await ended
    // Listed in the spawner's order; listeners take the fds first (3), then connections (4).
    expect(got).toBe('up=4:conn http=3:listener | upstream got: relay hello\n')
    expect((await p.wait()).getStatus().getExited()).toBe(0)
    sock.destroy()
    // The child closed them through the capabilities: the listener refuses further accepts.
    await conn.closed
    await expect(acceptor.accept()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    scope.revoke('test over')
  })

  test('with a scratch dir granted, the sockets come after it (fd 4 on): wasi-libc finds the dir first', async () => {
    const r = spawner()
    const acceptor = await TcpAcceptor.listen('127.0.0.1:0')
    let fds: number[] = []
    bodies.user = async (host) => {
      fds = (await host.bootContext().getContext().info()).getInfo().getPreopens().toArray().map((p) => p.getFd())
      return 0
    }
    const scope = new Scope()
    const p = exec(r.host.executor().getExecutor(), 'user', [['a', 'listener', listenerServer(acceptor, scope)]], (o) => o.initGrants().setScratchBytes(4096n))
    expect((await p.wait()).getStatus().getExited()).toBe(0)
    expect(fds).toEqual([4])
    scope.revoke('test over')
    acceptor.close()
  })

  test('a Conn whose holder fails is end of stream and an ended write side to the child, never a host error', async () => {
    const r = spawner()
    const scope = new Scope()
    const conn = await new TcpDialer([peerAddr]).dial(peerAddr)
    const seen: unknown[] = []
    bodies.user = async (_host, spec) => {
      const up = preopenSockets(spec.child?.preopens).conns[0]!
      scope.revoke('the spawner took it back') // every call on it now fails ERR_REVOKED
      await until(() => up.canRead(), (w) => up.watchReadable!(w))
      seen.push(up.read(100))
      up.write(Buffer.from('x'))
      await until(() => up.writeEnded!(), (w) => up.watchWritable!(w))
      try { up.write(Buffer.from('y')) } catch (e) { seen.push((e as { code?: string }).code) }
      up.close()
      return 0
    }
    const p = exec(r.host.executor().getExecutor(), 'user', [['up', 'conn', connServer(conn, scope)]])
    expect((await p.wait()).getStatus().getExited()).toBe(0)
    expect(seen).toEqual([null, 'ERR_CONN_CLOSED'])
  })

  test('bad preopens are typed errors and spawn nothing: empty, long or duplicate names, a null capability, too many', async () => {
    const r = spawner()
    const ex = r.host.executor().getExecutor()
    const scope = new Scope()
    const acceptor = await TcpAcceptor.listen('127.0.0.1:0')
    const l = listenerServer(acceptor, scope)
    bodies.user = async () => 0
    expect(await codeOf(exec(ex, 'user', [['', 'listener', l]]).pid())).toBe('ERR_INVALID_ARGUMENT')
    expect(await codeOf(exec(ex, 'user', [['x', 'listener', l], ['x', 'listener', l]]).pid())).toBe('ERR_INVALID_ARGUMENT')
    expect(await codeOf(exec(ex, 'user', [['x'.repeat(129), 'listener', l]]).pid())).toBe('ERR_INVALID_ARGUMENT')
    expect(await codeOf(exec(ex, 'user', [['null', 'listener', null]]).pid())).toBe('ERR_INVALID_ARGUMENT')
    const many = Array.from({ length: MAX_PREOPENS + 1 }, (_, i): Entry => [`s${i}`, 'listener', l])
    expect(await codeOf(exec(ex, 'user', many).pid())).toBe('ERR_LIMIT')
    expect(tree.counters().spawned).toBe(0)
    scope.revoke('test over')
    acceptor.close()
  })
})

describe('exec with preopens across hosts (Peer.exec)', () => {
  let a: Libp2pCluster
  let b: Libp2pCluster
  let ta: ProcessTree
  let tb: ProcessTree
  const bodies: Record<string, Body> = {}
  const rigs: Rig[] = []
  beforeAll(async () => { ({ a, b, ta, tb } = await twoHostTrees(tinyRuntime(), (b) => jsRuntime(b, bodies))) })
  afterAll(() => closeTwoHostTrees({ a, b, ta, tb }, rigs))

  test("a child on B accepts on a listener of A's spawner: the Listener travels in Peer.exec's options; its fd is in B's BootContext", async () => {
    const r = rig(a, { processId: 0, rights: { executor: true }, executor: executorProvider(ta) })
    rigs.push(r)
    const scope = new Scope()
    const acceptor = await TcpAcceptor.listen('127.0.0.1:0')
    bodies.remote = async (host, spec) => {
      const fds = (await host.bootContext().getContext().info()).getInfo().getPreopens().toArray().map((p) => `${p.getName()}=${p.getFd()}`)
      const l = preopenSockets(spec.child?.preopens).sockets[0]!
      await until(() => l.canAccept(), (w) => l.watchAcceptable!(w))
      const conn = l.accept()!
      conn.write(Buffer.from(`on ${spec.host === b.id ? 'B' : 'A'}: ${fds.join(' ')}\n`))
      await until(() => conn.canWrite(), (w) => conn.watchWritable!(w))
      conn.close()
      l.close()
      return 0
    }
    const p = exec(r.host.executor().getExecutor(), 'remote', [['http', 'listener', listenerServer(acceptor, scope)]], (o) => o.setWhere(b.id))
    const [h, port] = acceptor.address.split(':')
    const sock = connect({ host: h!, port: Number(port) })
    let got = ''
    sock.on('data', (d: Buffer) => { got += d.toString() })
    await new Promise<void>((res) => sock.once('end', () => res()))
    expect(got).toBe('on B: http=3\n')
    expect((await p.wait()).getStatus().getExited()).toBe(0)
    while (!acceptor.closed) await new Promise((res) => setTimeout(res, 5))
    sock.destroy()
    scope.revoke('test over')
  })
})
