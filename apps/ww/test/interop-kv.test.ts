// Interop with the official Cap'n Proto C++ library (Debian capnproto + libcapnp-dev) on
// a `ww host --rpc` endpoint, with a schema the host has never seen: one C++ connection
// provides a Kv (examples/kv-service/kv.capnp) in the registry, a second finds it and
// calls get/put/keys and a pipelined sub(prefix).put(...). The host forwards every call
// without the schema (issue 14's failing case: "method 88d40ffc4008b236/0 is not
// implemented"). The program also compiles a Host server overriding bootContext.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { removeHome, startHost, ww, type HostChild } from './hosts.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const source = fileURLToPath(new URL('./interop/kv-interop.c++', import.meta.url))
const missing = [
  ['g++', ['/usr/bin/g++', '/usr/local/bin/g++'].find((p) => existsSync(p))],
  ['capnp', ['/usr/bin/capnp', '/usr/local/bin/capnp'].find((p) => existsSync(p))],
  ['libcapnp-dev', existsSync('/usr/include/capnp/ez-rpc.h') ? 'yes' : undefined],
].filter(([, found]) => found === undefined).map(([name]) => name)
if (missing.length > 0) console.warn(`SKIPPED interop with the C++ Cap'n Proto library: ${missing.join(', ')} not installed (apt-get install g++ capnproto libcapnp-dev)`)
const maybe = missing.length === 0 ? describe : describe.skip

function run(cmd: string, args: string[], timeout = 300_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')}…: ${err.message}\n${stderr}`))
      else resolve(stdout)
    })
  })
}

// The ww schemas the program uses (Host and what it imports) and the user's kv.capnp.
const schemas = ['common', 'cluster', 'pubsub', 'anchor', 'registry', 'process', 'net', 'debug', 'host'].map((n) => join(root, 'schemas', `${n}.capnp`))
const kvSchema = join(root, 'examples/kv-service/kv.capnp')

/**
 * The C++ program, compiled in `dir`. The root test command gives $WW_TEST_BUILDS (emptied
 * at the start of each run): the program is compiled once per run there, keyed by its
 * sources, so the Node 24 pass reuses the Node 20 pass's build (g++ is most of this file's
 * time) instead of compiling the same sources again.
 */
async function buildProgram(dir: string): Promise<string> {
  const builds = process.env.WW_TEST_BUILDS
  const key = createHash('sha256')
  for (const f of [source, ...schemas, kvSchema]) key.update(f).update(readFileSync(f))
  const kept = builds ? join(builds, `kv-interop-${key.digest('hex').slice(0, 16)}`) : undefined
  if (kept && existsSync(kept)) return kept
  await run('capnp', ['compile', `--src-prefix=${join(root, 'schemas')}`, `-oc++:${dir}`, ...schemas])
  await run('capnp', ['compile', `--src-prefix=${join(root, 'examples/kv-service')}`, `-oc++:${dir}`, kvSchema])
  const exe = join(dir, 'kv-interop')
  const units = readdirSync(dir).filter((f) => f.endsWith('.c++')).map((f) => join(dir, f))
  await run('g++', ['-std=c++20', '-O0', `-I${dir}`, ...units, source, '-lcapnp-rpc', '-lcapnp', '-lkj-async', '-lkj', '-o', exe])
  if (!kept) return exe
  // Copied whole, then renamed into place: a reader never finds a half-written program.
  mkdirSync(builds!, { recursive: true })
  copyFileSync(exe, `${kept}.${process.pid}`)
  renameSync(`${kept}.${process.pid}`, kept)
  return kept
}

maybe('C++ (EzRpcClient) provider and finder of a user-defined Kv through ww host', () => {
  let dir: string
  let exe: string
  let host: HostChild
  let addr: string
  let provider: ChildProcess | undefined

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ww-kv-interop-'))
    exe = await buildProgram(dir)
    host = startHost(['--rpc', '127.0.0.1:0'])
    addr = String((await host.ready()).rpc)
  }, 600_000)

  afterAll(async () => {
    provider?.kill()
    if (host) { await host.stop(); removeHome(host) }
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  test('one connection provides Kv, another finds it and calls it, pipelining on sub()', async () => {
    provider = spawn(exe, ['provide', addr, 'kv'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    provider.stderr!.on('data', (b: Buffer) => { err += b.toString() })
    const lines = createInterface({ input: provider.stdout! })
    await new Promise<void>((resolve, reject) => {
      lines.on('line', (l) => { if (l === 'provided') resolve() })
      provider!.once('exit', (code) => reject(new Error(`provider exited ${code}: ${err}`)))
    })
    const out = await run(exe, ['find', addr, 'kv'], 60_000)
    expect(out.trim().split('\n')).toEqual([
      'put a 1',
      'put b 2',
      'get a found 1',
      'get zz missing',
      'sub put y 3', // pipelined on sub("p/")'s answer, through the host's forwarder
      'get p/y 3',
      'keys a b p/y',
    ])
  }, 120_000)

  // The same program against guests (examples/kv-service, AssemblyScript with generated
  // stubs): a C++ provider called by a guest, and a guest provider called by C++.
  const guest = (name: string): string => join(root, 'examples/kv-service/build', `${name}.wasm`)
  const on = (): NodeJS.ProcessEnv => ({ WW_HOME: host.home })

  test('a guest finds the Kv a C++ connection provides and calls it, pipelining on sub()', async () => {
    const cxx = spawn(exe, ['provide', addr, 'kv-cxx'], { stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: cxx.stdout! }).on('line', (l) => { if (l === 'provided') resolve() })
        cxx.once('exit', (code) => reject(new Error(`provider exited ${code}`)))
      })
      const r = await ww(['spawn', guest('client'), '--args', 'kv-cxx', '--wait', '--json'], on())
      expect(JSON.parse(r.stdout)).toMatchObject({ status: { kind: 'exited', code: 0 } })
      const said = host.events.filter((e) => e.event === 'output').map((e) => String(e.text))
      expect(said).toEqual(expect.arrayContaining(['users/ada = lovelace', 'keys: greeting, users/ada']))
    } finally {
      cxx.kill()
    }
  }, 240_000)

  test('the C++ finder calls the Kv a guest serves, with the same answers as from C++', async () => {
    expect((await ww(['spawn', guest('provider'), '--args', 'kv-guest', '--name', 'kv-guest'], on())).status).toBe(0)
    await host.next((e) => e.event === 'output' && e.text === 'providing kv as kv-guest', 'the guest providing kv-guest')
    const out = await run(exe, ['find', addr, 'kv-guest'], 60_000)
    expect(out.trim().split('\n')).toEqual(['put a 1', 'put b 2', 'get a found 1', 'get zz missing', 'sub put y 3', 'get p/y 3', 'keys a b p/y'])
  }, 240_000)
})
