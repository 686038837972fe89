// The generated AssemblyScript KvServer in a real guest: compiled from test/as/kv-server.ts,
// offered as the guest's bootstrap and called from a capnp-ts peer on @ww/transport's guest
// connection. Checks the generated dispatch (params read, results sized and written), a
// capability in results (a view the guest serves), pipelining on it two deep, a failure
// through call.fail, an unknown method, and the release of the views.
//
// @ww/transport comes from its build output: see kv-client.test.ts for why.

import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import binaryen from 'assemblyscript/binaryen'
import { asString, compileAs, HERE, stubsDir } from './asc.js'
import * as K from './fixtures/kv/kv.js'
import * as F from './fixtures/gen/features.js'

const KV = readFileSync(join(HERE, '../../../examples/kv-service/kv.capnp-request.bin'))
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

describe('generated KvServer in a guest', () => {
  let dir: string | undefined
  afterAll(() => { if (dir !== undefined) rmSync(dir, { recursive: true, force: true }) })

  run('dispatch, typed params and results, a served capability in results, pipelining, failures, release', async () => {
    const { runGuest, asyncifyModule } = await import(TRANSPORT) as Transport
    dir = stubsDir([KV])
    const raw = await compileAs(dir, 'kv-server', ['--debug', '-O2'])
    const wasm = await WebAssembly.compile(new Uint8Array(await asyncifyModule(raw, { imports: ['ww.recv'], features: FEATURES })))
    let aborted = ''
    const ready = new Promise<Conn>((resolve) => {
      void runGuest(wasm, {
        processId: 'kv-server',
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
    const conn = await ready
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
      expect(aborted).toBe('')
    } finally {
      conn.close()
    }
  }, 300_000)
})
