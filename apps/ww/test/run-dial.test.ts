// A guest dials out through the Dialer its Host hands it, and nothing else is reachable:
// @ww/guest's AssemblyScript wasi-http-get and wasi-dial-check (raw builds: the scheduler
// meters and asyncifies them) against real node:http and node:net servers, with a real @ww/host Host capability —
// in this process through the runner `ww run` uses, then through the real `ww` binary.
// (The test lives here, not in @ww/guest: @ww/host already depends on @ww/guest.)
import { execFile } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { createServer as createTcpServer, type AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { guestBytes, guestPath } from '@ww/guest'
import { dialerProvider, embeddedCluster, hostCapability, rpcError } from '@ww/host'
import { process as proc } from '@ww/schema'
import { shellStatus } from '@ww/interface'
import { runGuestProcess } from '../src/guest-process.js'

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const getter = guestPath('wasi-http-get', { asyncify: false })

interface Site { addr: string; body: string; connections: number; paths: string[]; server: Server }

/** A local HTTP server answering every GET with its body, sent in two writes (chunked). */
async function site(body: string): Promise<Site> {
  const s: Site = { addr: '', body, connections: 0, paths: [], server: createServer((req, res) => {
    s.paths.push(req.url ?? '')
    res.setHeader('content-type', 'text/plain')
    res.write(body.slice(0, 5))
    res.end(body.slice(5))
  }) }
  s.server.on('connection', () => { s.connections++ })
  await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve))
  s.addr = `127.0.0.1:${(s.server.address() as AddressInfo).port}`
  return s
}

let a: Site, b: Site
beforeAll(async () => { [a, b] = await Promise.all([site('hello from site A\n'), site('site B says hi\n')]) })
afterAll(async () => { await Promise.all([a, b].map((s) => new Promise((r) => s.server.close(r)))) })
beforeEach(() => { for (const s of [a, b]) { s.connections = 0; s.paths = [] } })

/** What a spawner passing ExecRequest.args would serve: a BootContext with those args. */
function bootContext(args: string): proc.BootContext.Server {
  const none = (): never => { throw rpcError('ERR_NOT_FOUND', 'not part of this test context') }
  return new proc.BootContext.Server({
    args(_p, r) {
      const bytes = new TextEncoder().encode(args)
      r.initArgs(bytes.byteLength).copyBuffer(bytes)
    },
    info: none, self: none, parent: none, caps: none, cap: none,
  })
}

/** A guest in this process on an embedded host, as `ww run` runs it. */
async function runHere(opts: { dial?: string[]; args?: string; guest?: 'wasi-http-get' | 'wasi-dial-check' }) {
  await using cluster = embeddedCluster()
  const out = { 1: '', 2: '' }
  const report = await runGuestProcess(await guestBytes(opts.guest ?? 'wasi-http-get', { asyncify: false }), {
    bootstrap: (processId) => hostCapability(cluster, {
      processId,
      ...(opts.dial ? { dialer: dialerProvider(opts.dial) } : {}),
      ...(opts.args !== undefined ? { context: bootContext(opts.args) } : {}),
    }),
    onOutput: (fd, bytes) => { out[fd] += Buffer.from(bytes).toString('utf8') },
  })
  return { status: shellStatus(report.status), stdout: out[1], stderr: out[2] }
}

function ww(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bin, ...args], { timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      const status = err ? (err as { code?: unknown }).code : 0
      if (typeof status !== 'number') return reject(err)
      resolve({ status, stdout, stderr })
    })
  })
}

describe('in process, with a real Host capability', () => {
  test('told A (BootContext args) and allowed A: the body of A arrives on stdout', async () => {
    const r = await runHere({ dial: [a.addr], args: `${a.addr}/greeting?x=1` })
    expect(r).toEqual({ status: 0, stdout: a.body, stderr: '' })
    expect(a.paths).toEqual(['/greeting?x=1'])
    expect(a.connections).toBe(1)
  })

  test('told B but allowed only A: ERR_CAP_DENIED, exit 1, and B sees no connection', async () => {
    const r = await runHere({ dial: [a.addr], args: b.addr })
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(new RegExp(`^dial ${b.addr} failed: ERR_CAP_DENIED: `))
    expect([a.connections, b.connections]).toEqual([0, 0])
  })

  test('no dialer granted: Host.dialer() is ERR_CAP_DENIED, and the dial pipelined on it fails with that reason', async () => {
    const r = await runHere({ args: a.addr })
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(new RegExp(`^dial ${a.addr} failed: ERR_CAP_DENIED: dialer`))
    expect(a.connections).toBe(0)
  })

  test('a 300 KB body with Content-Length (many reads) arrives whole', async () => {
    const big = Array.from({ length: 300_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('')
    const server = createServer((_req, res) => { res.setHeader('content-length', big.length); res.end(big) })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const r = await runHere({ dial: [addr], args: addr })
      expect(r.stderr).toBe('')
      expect(r.stdout.length).toBe(big.length)
      expect(r.stdout === big).toBe(true)
      expect(r.status).toBe(0)
    } finally {
      server.close()
    }
  })

  test('a 404 prints its body and the status line, exit 4; not HTTP, exit 3; an allowed address where nothing listens is ERR_HOST_UNREACHABLE, exit 1', async () => {
    const missing = createServer((_req, res) => { res.statusCode = 404; res.end('no such page\n') })
    const garbage = createTcpServer((sock) => { sock.end('SSH-2.0-not-http\r\n') })
    const closed = createTcpServer()
    await Promise.all([missing, garbage, closed].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))))
    const [notFound, notHttp, nobody] = [missing, garbage, closed].map((s) => `127.0.0.1:${(s.address() as AddressInfo).port}`) as [string, string, string]
    await new Promise((r) => closed.close(r)) // its port now refuses
    try {
      const [r404, bad, refused] = await Promise.all([
        runHere({ dial: [notFound], args: `${notFound}/nope` }),
        runHere({ dial: [notHttp], args: notHttp }),
        runHere({ dial: [nobody], args: nobody }),
      ])
      expect(r404).toEqual({ status: 4, stdout: 'no such page\n', stderr: 'HTTP/1.1 404 Not Found\n' })
      expect(bad).toEqual({ status: 3, stdout: '', stderr: `malformed response from ${notHttp}\n` })
      expect(refused.status).toBe(1)
      expect(refused.stderr).toMatch(new RegExp(`^dial ${nobody} failed: ERR_HOST_UNREACHABLE`))
    } finally {
      missing.close()
      garbage.close()
    }
  })

  test('no context: the guest dials the first address its dialer allows', async () => {
    const r = await runHere({ dial: [b.addr, a.addr] })
    expect(r).toEqual({ status: 0, stdout: b.body, stderr: '' })
    expect([a.connections, b.connections]).toEqual([0, 1])
  })

  test('every Dialer and Conn method from the SDK: attenuation only narrows, a round trip with shutdown and eof, revocation', async () => {
    // An echo server that ends its side once the client has ended its own.
    const echo = createTcpServer({ allowHalfOpen: true }, (sock) => { sock.pipe(sock) })
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve))
    const addr = `127.0.0.1:${(echo.address() as AddressInfo).port}`
    try {
      const r = await runHere({ guest: 'wasi-dial-check', dial: [addr, b.addr] })
      expect(r.stderr).toBe('')
      expect(r.stdout.split('\n')).toEqual([
        `allowed [${addr},${b.addr}]`,
        `narrowed [${addr}]`,
        expect.stringMatching(/^widen ERR_CAP_DENIED: /),
        expect.stringMatching(new RegExp(`^narrowed dial ${b.addr} ERR_CAP_DENIED: `)),
        `remote ${addr} local is 127.0.0.1: yes`,
        'write ok',
        'shutdown ok',
        'echoed ping from the guest',
        'close ok',
        expect.stringMatching(/^write after close ERR_CLOSED/),
        'revoke ok',
        expect.stringMatching(/^dial after revoke ERR_REVOKED/),
        '',
      ])
      expect(r.status).toBe(0)
      expect(b.connections).toBe(0)
    } finally {
      echo.close()
    }
  })
})

describe('through the ww binary', () => {
  test('ww run get.wasm --dial A prints the body of A', async () => {
    const r = await ww('run', getter, '--dial', a.addr, '--timeout', '30s')
    expect(r).toEqual({ status: 0, stdout: a.body, stderr: '' })
    expect([a.connections, b.connections]).toEqual([1, 0])
  })

  test('without --dial the guest reports ERR_CAP_DENIED and exits 1; nothing is reached', async () => {
    const r = await ww('run', getter, '--timeout', '30s')
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^dialer: ERR_CAP_DENIED: dialer/)
    expect([a.connections, b.connections]).toEqual([0, 0])
  })

  test('--dial B reaches B only (ww run gives a guest no args: it is told only what its dialer allows)', async () => {
    const r = await ww('run', getter, '--dial', b.addr, '--timeout', '30s')
    expect(r).toEqual({ status: 0, stdout: b.body, stderr: '' })
    expect([a.connections, b.connections]).toEqual([0, 1])
  })
})
