// The AssemblyScript HTTP server guest (guests/wasi-http-server.ts), built from source by
// this package, on a real TCP listener granted through @ww/wasi-restricted: Node fetch,
// keep-alive reuse, Debian curl, 200 concurrent clients, and a clean close when its
// process's WASI is closed.
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { request, Agent } from 'node:http'
import { connect } from 'node:net'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { createSuspender } from '@ww/transport'
import { createWasi, DEFAULT_POLICY, grant, listenTcp, MemorySink, type TcpListener } from '@ww/wasi-restricted'

const WASM = fileURLToPath(new URL('../build/wasi-http-server.wasm', import.meta.url))
const CURL = '/usr/bin/curl'
const BODY = (path: string): string => `hello from a ww guest\npath=${path}\n`

async function start(maxConnections = 256) {
  const listener = await listenTcp('127.0.0.1:0')
  const suspender = createSuspender('auto')
  const stdout = new MemorySink(), stderr = new MemorySink()
  const wasi = createWasi(grant(DEFAULT_POLICY, { sockets: { maxConnections } }), {
    processId: 'as-http', sinks: { stdout, stderr }, sockets: [listener], suspend: (fn) => suspender.wrapImport(fn),
  })
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(readFileSync(WASM)), {
    wasi_snapshot_preview1: wasi.imports as unknown as WebAssembly.ModuleImports,
  })
  wasi.attach(instance)
  suspender.attach(instance)
  const done = suspender.run(instance.exports.ww_main as () => number).then((r) => ({ result: r }), (error: unknown) => ({ error }))
  while (!stdout.text().includes('listening')) await new Promise((r) => setTimeout(r, 1))
  return { listener, wasi, done, stdout, addr: listener.address }
}

function get(addr: string, path: string, agent: Agent | false = false): Promise<{ status: number; body: string }> {
  const [host, port] = addr.split(':')
  return new Promise((resolve, reject) => {
    request({ host, port: Number(port), path, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode!, body }))
    }).on('error', reject).end()
  })
}

async function stop(s: Awaited<ReturnType<typeof start>>, listener: TcpListener = s.listener): Promise<void> {
  s.wasi.close()
  await s.done
  await listener.closed
}

test('the guest finds its listener at fd 3 and answers fetch', async () => {
  const s = await start()
  expect(s.stdout.text()).toBe('listening on fd 3\n')
  const r = await fetch(`http://${s.addr}/hello/world?q=1`)
  expect(r.status).toBe(200)
  expect(r.headers.get('content-type')).toBe('text/plain')
  expect(await r.text()).toBe(BODY('/hello/world?q=1'))
  await stop(s)
  expect(s.wasi.audit().denials).toBe(0)
})

test('keep-alive: many requests over one connection', async () => {
  const s = await start()
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  for (let i = 0; i < 20; i++) expect(await get(s.addr, `/r${i}`, agent)).toEqual({ status: 200, body: BODY(`/r${i}`) })
  expect(s.listener.stats().accepted).toBe(1)
  agent.destroy()
  await stop(s)
})

;(existsSync(CURL) ? test : test.skip)('Debian curl: correct bodies, one reused connection', async () => {
  const s = await start()
  const { stdout, stderr } = await promisify(execFile)(CURL, ['-sv', '--http1.1', `http://${s.addr}/x`, `http://${s.addr}/y`], { encoding: 'utf8' })
  expect(stdout).toBe(BODY('/x') + BODY('/y'))
  expect(stderr).toMatch(/Re-using existing connection|Reusing existing/i)
  expect(s.listener.stats().accepted).toBe(1)
  await stop(s)
})

test('200 concurrent clients are all answered', async () => {
  const s = await start()
  const paths = Array.from({ length: 200 }, (_, i) => `/c/${i}`)
  const rs = await Promise.all(paths.map((p) => get(s.addr, p)))
  expect(rs.map((r) => r.body)).toEqual(paths.map(BODY))
  expect(s.listener.stats().accepted).toBe(200)
  await stop(s)
})

test('more clients holding connections than the policy has fds (maxFds 64): the guest waits for a free fd instead of giving up its listener', async () => {
  const s = await start()
  const room = DEFAULT_POLICY.maxFds - 4 // fds left for connections after stdio and the listener
  const N = room + 20
  let answered = 0
  let enough!: () => void
  const allRoomUsed = new Promise<void>((r) => { enough = r })
  const client = async (i: number): Promise<string> => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const r = await get(s.addr, `/k/${i}`, agent)
      if (++answered === room) enough()
      // Hold the connection (and its fd in the guest) until every fd the guest has is in
      // use and answered; the other 20 clients wait on the listener meanwhile.
      await allRoomUsed
      return r.body
    } finally {
      agent.destroy() // frees its fd in the guest, so a waiting client can be accepted
    }
  }
  const bodies = await Promise.all(Array.from({ length: N }, (_, i) => client(i)))
  expect(bodies).toEqual(Array.from({ length: N }, (_, i) => BODY(`/k/${i}`)))
  expect(s.listener.stats().accepted).toBe(N)
  expect(s.stdout.text()).not.toContain('listener closed')
  await stop(s)
})

test('closing the process: its clients see a clean close (FIN), the port refuses', async () => {
  const s = await start()
  const sock = connect(Number(s.addr.split(':')[1]), '127.0.0.1')
  let got = ''
  const ended = new Promise<string>((resolve) => {
    sock.on('data', (d) => { got += d.toString() })
    sock.on('end', () => resolve('fin'))
    sock.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code}`))
  })
  sock.write('GET /bye HTTP/1.1\r\nHost: x\r\n\r\n')
  while (!got.endsWith(BODY('/bye'))) await new Promise((r) => setTimeout(r, 1))
  s.wasi.close()
  expect(await ended).toBe('fin')
  expect(await s.done).toEqual({ error: expect.objectContaining({ code: 'ERR_WASI_STATE' }) })
  await s.listener.closed
  const refused = await new Promise<string>((resolve) => {
    const c = connect(Number(s.addr.split(':')[1]), '127.0.0.1')
    c.on('connect', () => { c.destroy(); resolve('connected') })
    c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'))
  })
  expect(refused).toBe('ECONNREFUSED')
})

test('without a sockets grant the guest has no listener: socket calls are EBADF on fds that are not open, ENOTCAPABLE on stdio', async () => {
  const suspender = createSuspender('auto')
  const stdout = new MemorySink(), stderr = new MemorySink()
  const wasi = createWasi(DEFAULT_POLICY, { processId: 'no-grant', sinks: { stdout, stderr }, suspend: (fn) => suspender.wrapImport(fn) })
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(readFileSync(WASM)), {
    wasi_snapshot_preview1: wasi.imports as unknown as WebAssembly.ModuleImports,
  })
  wasi.attach(instance)
  suspender.attach(instance)
  expect(await suspender.run(instance.exports.ww_main as () => number)).toBe(2)
  expect(stdout.text()).toBe('no listener granted\n')
  const imp = wasi.imports as unknown as Record<string, (...a: number[]) => number>
  for (const [fd, errno] of [[3, 8], [4, 8], [1, 76]] as const) {
    expect(imp.sock_accept!(fd, 0, 0)).toBe(errno)
    expect(imp.sock_recv!(fd, 0, 0, 0, 0, 0)).toBe(errno)
    expect(imp.sock_send!(fd, 0, 0, 0, 0)).toBe(errno)
    expect(imp.sock_shutdown!(fd, 3)).toBe(errno)
  }
  wasi.close()
})
