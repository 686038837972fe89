// A C guest (wasi-libc accept/recv/send/poll) serves HTTP/1.1 on a listener its spawner
// bound with listenTcp and granted as fd 3: real clients (fetch, node:http, curl), keep-
// alive, 200 concurrent clients, slow readers, the connection cap, and a clean close.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { connect } from 'node:net'
import { promisify } from 'node:util'
import { createWasi, DEFAULT_POLICY, grant, listenTcp, MemorySink, type TcpListener } from '../src/index.js'
import { serveGuest, type ServingGuest } from '../src/bench/serve-guest.js'
import { cGuest, findClang } from './guests.js'
import { Agent, eventually, get, RawClient } from './http.js'
import { SUSPENDING_IMPORTS } from '../src/index.js'

const clang = await findClang()
if (clang === null) console.warn('wasi-restricted: no clang with wasi-libc found: C HTTP server tests skipped')
const withClang = clang === null ? describe.skip : describe
const CURL = '/usr/bin/curl'
const withCurl = existsSync(CURL) ? test : test.skip
if (!existsSync(CURL)) console.warn('wasi-restricted: /usr/bin/curl not found: curl test skipped')

const server = () => cGuest('http-server', { asyncify: SUSPENDING_IMPORTS.map((f) => `wasi_snapshot_preview1.${f}`), exports: ['ww_asyncify_area'] })
const BIG = 32 << 20 // guests/c/http-server.c BIG_BYTES
const BODY = (path: string) => `hello from a ww guest\npath=${path}\n`

async function start(opts: { maxConnections?: number; limits?: Parameters<typeof listenTcp>[1]; processId?: string } = {}) {
  const listener = await listenTcp('127.0.0.1:0', opts.limits)
  const guest = await serveGuest((await server())!, [listener], {
    processId: opts.processId ?? 'http-1',
    policy: grant(DEFAULT_POLICY, { sockets: { maxConnections: opts.maxConnections ?? 256 } }),
  })
  await eventually(() => guest.stdout.text().includes('listening'), 'the guest starts')
  return { listener, guest, addr: listener.address }
}

async function stop(s: { listener: TcpListener; guest: ServingGuest }): Promise<void> {
  s.guest.wasi.close()
  await s.guest.done
  await s.listener.closed
}

withClang('C HTTP server guest on a granted TCP listener', () => {
  test('answers fetch; keep-alive reuses one connection for many requests', async () => {
    const s = await start()
    const r = await fetch(`http://${s.addr}/hello?x=1`)
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('text/plain')
    expect(await r.text()).toBe(BODY('/hello?x=1'))

    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const before = s.listener.stats().accepted
    for (let i = 0; i < 5; i++) expect((await get(s.addr, `/k${i}`, agent)).body).toBe(BODY(`/k${i}`))
    expect(s.listener.stats().accepted - before).toBe(1)
    agent.destroy()

    // Pipelined on one raw connection: both answered in order.
    const c = new RawClient(s.addr)
    c.send('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n')
    await c.until((x) => x.responses().length === 2)
    expect(c.responses().map((x) => x.split('\r\n\r\n')[1])).toEqual([BODY('/a'), BODY('/b')])
    c.close()
    await stop(s)
    expect(s.guest.wasi.audit().denials).toBe(0)
  })

  withCurl('Debian curl gets correct responses over one reused connection', async () => {
    const s = await start()
    const { stdout, stderr } = await promisify(execFile)(CURL, ['-sv', '--http1.1', `http://${s.addr}/one`, `http://${s.addr}/two`], { encoding: 'utf8' })
    expect(stdout).toBe(BODY('/one') + BODY('/two'))
    expect(stderr).toMatch(/< HTTP\/1.1 200 OK/)
    expect(stderr).toMatch(/Re-using existing connection|Reusing existing/i)
    expect(s.listener.stats().accepted).toBe(1)
    await stop(s)
  })

  test('200 concurrent clients, each on its own connection, are all answered', async () => {
    const s = await start()
    const paths = Array.from({ length: 200 }, (_, i) => `/client/${i}`)
    const rs = await Promise.all(paths.map((p) => get(s.addr, p)))
    expect(rs.map((r) => r.body)).toEqual(paths.map(BODY))
    expect(rs.every((r) => r.status === 200)).toBe(true)
    expect(s.listener.stats().accepted).toBe(200)
    await stop(s)
  })

  test('closing the process closes its listener and its connections with a FIN', async () => {
    const s = await start()
    const a = new RawClient(s.addr), b = new RawClient(s.addr)
    a.send('GET /a HTTP/1.1\r\nHost: x\r\n\r\n'); b.send('GET /b HTTP/1.1\r\nHost: x\r\n\r\n')
    await a.until((x) => x.responses().length === 1)
    await b.until((x) => x.responses().length === 1)
    s.guest.wasi.close()
    await a.until((x) => x.ended !== undefined)
    await b.until((x) => x.ended !== undefined)
    expect([a.ended, b.ended]).toEqual(['fin', 'fin']) // a clean close, not a reset
    const ended = await s.guest.done
    expect(ended).toEqual({ error: expect.objectContaining({ code: 'ERR_WASI_STATE' }) })
    await s.listener.closed
    const refused = await new Promise<string>((resolve) => {
      const sock = connect(Number(s.addr.split(':')[1]), '127.0.0.1')
      sock.on('connect', () => { sock.destroy(); resolve('connected') })
      sock.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'))
    })
    expect(refused).toBe('ECONNREFUSED')
    a.close(); b.close()
  })

  test('a slow reader never makes the host buffer without bound; others are still served', async () => {
    const bufferBytes = 64 * 1024
    const s = await start({ limits: { bufferBytes } })
    const slow = new RawClient(s.addr)
    slow.keep = false
    await slow.connected
    slow.socket.pause()
    slow.send('GET /big HTTP/1.1\r\nHost: x\r\n\r\n')
    // The guest writes until the host's send queue for this connection is full…
    await eventually(() => !slowWritable(s.listener), 'the send queue fills')
    // …and meanwhile keeps serving everyone else.
    for (let i = 0; i < 3; i++) expect((await get(s.addr, `/fast${i}`)).body).toBe(BODY(`/fast${i}`))
    const st = s.listener.stats()
    expect(st.bufferedOut).toBeLessThanOrEqual(bufferBytes)
    expect(slow.bytes).toBeLessThan(BIG)
    // Reading resumes: every byte arrives, none were dropped.
    slow.socket.resume()
    await slow.until((x) => x.bytes >= (BIG))
    expect(slow.bytes - (BIG)).toBeGreaterThan(50) // the headers
    slow.close()
    await stop(s)
  })

  test('at the connection cap a further client waits in the queue, then is served when a slot frees', async () => {
    const s = await start({ maxConnections: 2 })
    const a = new RawClient(s.addr), b = new RawClient(s.addr)
    for (const c of [a, b]) { c.send('GET /x HTTP/1.1\r\nHost: x\r\n\r\n'); await c.until((x) => x.responses().length === 1) }
    const c = new RawClient(s.addr)
    c.send('GET /c HTTP/1.1\r\nHost: x\r\n\r\n')
    await eventually(() => s.listener.stats().pending === 1, 'the third client is queued')
    a.send('GET /again HTTP/1.1\r\nHost: x\r\n\r\n')
    await a.until((x) => x.responses().length === 2) // the guest is alive and polling…
    expect(c.bytes).toBe(0) // …but did not take the third connection
    expect(s.listener.stats()).toMatchObject({ open: 2, pending: 1 })
    b.close() // the guest sees EOF, closes its fd: a slot frees
    await c.until((x) => x.responses().length === 1)
    expect(c.responses()[0]).toContain(BODY('/c'))
    a.close(); c.close()
    await stop(s)
  })

  test('an idle connection is closed after the grant\'s idle timeout', async () => {
    const s = await start({ limits: { idleTimeoutMs: 500 } }) // long enough for the answer on a loaded machine
    const a = new RawClient(s.addr)
    a.send('GET /x HTTP/1.1\r\nHost: x\r\n\r\n')
    await a.until((x) => x.ended !== undefined)
    expect(a.responses().length).toBe(1)
    expect(a.ended).toBe('fin')
    await stop(s)
  })

  test('a second process cannot take the first one\'s listener, nor reach its connections', async () => {
    const s = await start({ processId: 'owner' })
    const sinks = { stdout: new MemorySink(), stderr: new MemorySink() }
    const policy = grant(DEFAULT_POLICY, { sockets: true })
    expect(() => createWasi(policy, { processId: 'intruder', sinks, sockets: [s.listener] })).toThrow(expect.objectContaining({ code: 'ERR_CAP_IN_USE' }))
    const a = new RawClient(s.addr)
    a.send('GET /x HTTP/1.1\r\nHost: x\r\n\r\n')
    await a.until((x) => x.responses().length === 1)
    // The owner holds fd 3 (listener) and fd 4 (the connection); another process's fd 4 is nothing.
    const other = createWasi(policy, { processId: 'other', sinks })
    other.attach(new WebAssembly.Memory({ initial: 1 }))
    const imp = other.imports as unknown as Record<string, (...a: number[]) => number>
    expect(imp.sock_accept!(3, 0, 0)).toBe(8) // EBADF
    expect(imp.sock_send!(4, 0, 0, 0, 0)).toBe(8)
    other.close()
    a.close()
    await stop(s)
  })
})

function slowWritable(l: TcpListener): boolean {
  return l.stats().bufferedOut < l.limits.bufferBytes
}
