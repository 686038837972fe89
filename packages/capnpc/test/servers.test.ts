// Generated AssemblyScript servers in real guests, offered as the guest's bootstrap and
// called from a capnp-ts peer on @ww/transport's guest connection: the KvServer of
// test/as/kv-server.ts (dispatch, params read, results sized and written, a capability in
// results pipelined on two deep, call.fail, an unknown method, release) and the
// LoudEchoServer of test/as/loud-server.ts (methods of three interfaces: its own, Echo's
// and imported Named's, each under its own interface id).
//
// @ww/transport comes from its build output: see kv-client.test.ts for why.

import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import binaryen from 'assemblyscript/binaryen'
import { Text } from 'capnp-ts'
import { asString, compileAs, HERE, stubsDir } from './asc.js'
import * as K from './fixtures/kv/kv.js'
import * as F from './fixtures/gen/features.js'
import * as I from './fixtures/gen/imported.js'

const KV = readFileSync(join(HERE, '../../../examples/kv-service/kv.capnp-request.bin'))
const FEATURES_REQUEST = readFileSync(join(HERE, 'fixtures/features.request.bin'))
const TRANSPORT = join(HERE, '../../transport/dist/index.js')

interface Conn {
  instance?: WebAssembly.Instance
  rpc: { bootstrap<T>(c: { Client: new (c: never) => T }): T }
  close(): void
}
interface Transport {
  runGuest(module: WebAssembly.Module, opts: {
    processId: string
    suspension: 'asyncify'
    imports: (c: Conn) => WebAssembly.Imports
  }): Promise<{ ok: boolean; result?: number; error?: Error }>
  asyncifyModule(bytes: Uint8Array, opts: { imports: readonly string[]; features?: number }): Promise<Uint8Array>
}

const B = binaryen.Features
const FEATURES = B.MVP | B.MutableGlobals | B.SignExt | B.NontrappingFPToInt | B.BulkMemory | B.BulkMemoryOpt

const run = existsSync(TRANSPORT) ? test : test.skip
if (!existsSync(TRANSPORT)) console.warn(`kv-server.test: ${TRANSPORT} is not built (pnpm build); skipped`)

const text = (b: Uint8Array): string => new TextDecoder().decode(b)
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

const dirs: string[] = []
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

/** Compile test/as/<entry>.ts over the stubs of `requests` and start it; its connection. */
async function serve(entry: string, requests: Uint8Array[]): Promise<{ conn: Conn; aborted: () => string }> {
  const { runGuest, asyncifyModule } = await import(TRANSPORT) as Transport
  const dir = stubsDir(requests)
  dirs.push(dir)
  const raw = await compileAs(dir, entry, ['--debug', '-O2'])
  const wasm = await WebAssembly.compile(new Uint8Array(await asyncifyModule(raw, { imports: ['ww.recv'], features: FEATURES })))
  let aborted = ''
  const conn = await new Promise<Conn>((resolve) => {
    void runGuest(wasm, {
      processId: entry,
      suspension: 'asyncify', // the module is instrumented here (on Node 24 too)
      imports: (c) => {
        resolve(c)
        return {
          env: {
            abort(msg: number, file: number, line: number): never {
              const m = c.instance!.exports.memory as WebAssembly.Memory
              aborted = `${asString(m, msg)} (${asString(m, file)}:${line})`
              throw new Error(`guest abort: ${aborted}`)
            },
          },
        }
      },
    })
  })
  return { conn, aborted: () => aborted }
}

describe('generated servers in guests', () => {
  run('dispatch, typed params and results, a served capability in results, pipelining, failures, release', async () => {
    const { conn, aborted } = await serve('kv-server', [KV])
    try {
      const kv = conn.rpc.bootstrap(K.Kv)
      expect((await kv.put((p) => { p.setKey('a'); p.setValue(bytes('1')) })).getVersion()).toBe(1n)

      // Two views deep, pipelined: neither sub is waited for before the put.
      const s1 = kv.sub((p) => p.setPrefix('x/'))
      const deep = s1.getKv().sub((p) => p.setPrefix('y/')).getKv()
      expect((await deep.put((p) => { p.setKey('k'); p.setValue(bytes('v')) })).getVersion()).toBe(2n)

      const got = await kv.get((p) => p.setKey('x/y/k'))
      expect([got.getFound(), text(got.getValue().toUint8Array())]).toEqual([true, 'v'])
      const miss = await kv.get((p) => p.setKey('nope'))
      expect([miss.getFound(), miss.hasValue()]).toEqual([false, false])
      expect((await kv.keys()).getKeys().toArray()).toEqual(['a', 'x/y/k'])
      expect((await deep.keys()).getKeys().toArray()).toEqual(['k'])

      await expect(kv.sub((p) => p.setPrefix('')).getKv().keys()).rejects.toThrow(/ERR_EMPTY_PREFIX/)
      // A method of another interface: the generated dispatch returns false.
      await expect(new F.Counter.Client(kv.client).add((p) => p.setN(1n))).rejects.toThrow(/not implemented/)

      // The results' handle is the peer's one reference to the view; the Release reaches the
      // guest with the next frame it reads, and the generated server's released() runs.
      const hooks = conn.instance!.exports as unknown as { ww_test_views_released(): number }
      expect(hooks.ww_test_views_released()).toBe(0)
      ;(await s1).getKv().dispose()
      await kv.keys()
      expect(hooks.ww_test_views_released()).toBe(1)
      expect(aborted()).toBe('')
    } finally {
      conn.close()
    }
  }, 300_000)

  run('LoudEchoServer: its own methods, Echo\'s and Named\'s (three interface ids), a served Counter, unions in params', async () => {
    const { conn, aborted } = await serve('loud-server', [FEATURES_REQUEST])
    try {
      const loud = conn.rpc.bootstrap(F.LoudEcho)
      expect((await loud.shout((p) => p.setText('hey'))).getText()).toBe('HEY')
      const echo = await loud.echo((p) => { p.setPayload(bytes('abc')); p.setTag('t') })
      expect([text(echo.getPayload().toUint8Array()), echo.getTag()]).toEqual(['abc', 't!'])
      expect((await loud.name()).getName()).toBe('loud') // imported.capnp's Named
      await loud.ping()
      // A Counter the guest serves, pipelined on before counter() is answered.
      const counter = loud.counter((p) => p.setStart(40n)).getCounter()
      expect((await counter.add((p) => p.setN(1n))).getTotal()).toBe(41n)
      expect((await counter.add((p) => p.setN(1n))).getTotal()).toBe(42n)
      expect((await loud.shape((p) => { const r = p.initShape().initRect(); r.setWidth(2); r.setHeight(3) })).getArea()).toBe(6)
      expect((await loud.shape((p) => p.initShape().setCircle(1))).getArea()).toBe(3)
      await expect(loud.shape((p) => { p.initShape().setName('dot'); p.getShape().setEmpty() })).rejects.toThrow(/ERR_SHAPE: no area for dot/)
      const holder = await loud.holder()
      expect([holder.getBox().getCount(), Text.fromPointer(holder.getBox().getValue()).get(0)]).toEqual([7, 'in a box'])
      await expect(loud.named((p) => p.setName('x'))).rejects.toThrow(/ERR_UNSUPPORTED: named x/)
      // Named alone (its own interface id) reaches the same server.
      const named = new I.Named.Client(loud.client)
      expect((await named.name()).getName()).toBe('loud')
      expect(aborted()).toBe('')
    } finally {
      conn.close()
    }
  }, 300_000)
})
