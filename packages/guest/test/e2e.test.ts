// End to end: the example guests, built from source by this package, run on the real
// host transport (@ww/transport runGuest) against a real capnp-ts Echo server. The server
// answers asynchronously, so the guest really suspends in ww.recv (asyncify on Node 20).
import { WASI } from 'node:wasi'
import { openSync, readFileSync, closeSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runGuest, type GuestConnection } from '@ww/transport'
import { testing } from '@ww/schema'
import { guestBytes, type GuestName } from '../src/index.js'
import { asString } from './peer.js'

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1))

interface Observed {
  calls: string[]
  /** Host exports at each ping (bootstrap Echo, plus any Counter alive). */
  exportsAtPing: number[]
  exportsAtAdd: number[]
}

function echoServer(seen: Observed, conn: () => GuestConnection): testing.Echo.Server {
  const counter = (start: bigint): testing.Counter.Server => {
    let total = start
    return new testing.Counter.Server({
      add(p, r) {
        seen.calls.push('add')
        seen.exportsAtAdd.push(conn().rpc.stats.exports)
        total += p.getN()
        r.setTotal(total)
      },
    })
  }
  return new testing.Echo.Server({
    async ping() {
      seen.calls.push('ping')
      seen.exportsAtPing.push(conn().rpc.stats.exports)
      await tick()
    },
    async echo(p, r) {
      seen.calls.push('echo')
      const bytes = p.getPayload().toUint8Array().slice() // read before the first await
      await tick()
      r.initPayload(bytes.byteLength).copyBuffer(bytes)
    },
    async counter(p, r) {
      seen.calls.push('counter')
      const start = p.getStart()
      // Long enough that the guest's pipelined adds arrive while this is pending.
      await tick()
      r.setCounter(counter(start))
    },
  })
}

async function run(name: GuestName, extra: (c: GuestConnection) => WebAssembly.Imports = () => ({})) {
  const seen: Observed = { calls: [], exportsAtPing: [], exportsAtAdd: [] }
  let conn: GuestConnection | undefined
  let aborted = ''
  const exit = await runGuest(await guestBytes(name), {
    processId: name,
    bootstrap: echoServer(seen, () => conn!),
    imports: (c) => {
      conn = c
      const env = {
        abort(msg: number, file: number, line: number): never {
          const m = c.instance!.exports.memory as WebAssembly.Memory
          aborted = `${asString(m, msg)} (${asString(m, file)}:${line})`
          throw new Error(`guest abort: ${aborted}`)
        },
      }
      return { env, ...extra(c) }
    },
  })
  return { exit, seen, aborted }
}

describe('echo-client on the real host transport', () => {
  test('runs to success: pings, echo, a pipelined add on a promised Counter, the Counter released', async () => {
    const { exit, seen, aborted } = await run('echo-client')
    expect(aborted).toBe('')
    expect(exit.error).toBeUndefined()
    expect(exit.ok).toBe(true)
    expect(exit.result).toBe(0)
    expect(seen.calls).toEqual(['ping', 'ping', 'ping', 'echo', 'counter', 'add', 'add', 'add', 'ping'])
    // While the Counter lived the host exported it beside Echo; after the guest's Release
    // (sent before its last ping) only Echo is left.
    expect(seen.exportsAtAdd).toEqual([2, 2, 2])
    expect(seen.exportsAtPing.at(-1)).toBe(1)
    // The server answered later: the guest waited without blocking the event loop.
    expect(exit.suspensions).toBeGreaterThan(0)
  })

  test('two guests at once on one event loop both finish', async () => {
    const [a, b] = await Promise.all([run('echo-client'), run('echo-client')])
    expect([a.exit.result, b.exit.result]).toEqual([0, 0])
  })
})

test('echo-errors: unimplemented method, pipelined call (and client) on its failure, call on a released cap; an answer disposed early breaks nothing', async () => {
  const { exit, aborted } = await run('echo-errors')
  expect(aborted).toBe('')
  expect(exit.error).toBeUndefined()
  expect(exit.result).toBe(0)
})

test('wasi-echo-client prints each step through fd_write', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ww-guest-'))
  const out = join(dir, 'stdout')
  const fd = openSync(out, 'w')
  const wasi = new WASI({ version: 'preview1', stdout: fd, returnOnExit: true })
  try {
    const { exit } = await run('wasi-echo-client', (c) => {
      // node:wasi needs the instance's memory before the guest's first fd_write.
      const imports = wasi.getImportObject() as WebAssembly.Imports
      const fdWrite = imports.wasi_snapshot_preview1!.fd_write as (...a: number[]) => number
      let ready = false
      imports.wasi_snapshot_preview1!.fd_write = (...a: number[]): number => {
        if (!ready) { wasi.initialize({ exports: { memory: c.instance!.exports.memory } } as unknown as WebAssembly.Instance); ready = true }
        return fdWrite(...a)
      }
      return imports
    })
    expect(exit.error).toBeUndefined()
    expect(exit.result).toBe(0)
  } finally {
    closeSync(fd)
  }
  const text = readFileSync(out, 'utf8')
  expect(text).toContain('ping x3: ok')
  expect(text).toContain('counter(40), pipelined add(1) x2, add(8): total 50: ok')
  expect(text).toContain('counter released; done')
})
