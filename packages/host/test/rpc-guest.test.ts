// A real guest: @ww/guest's wasi-hello-host (AssemblyScript, WASI flavour) bootstraps its
// Host over the guest memory transport and uses view, anchors and pubsub.
import { readFile } from 'node:fs/promises'
import { guestPath, type GuestName } from '@ww/guest'
import { runGuest } from '@ww/transport'
import { embeddedCluster, hostCapability, type Cluster, type Message } from '../src/index.js'

const ENOSYS = 52
const ERRNO_BADF = 8

/**
 * The least WASI this guest needs, made here: fd_write on stdout/stderr is captured line
 * by line; every other call answers ENOSYS. (The real restricted WASI is @ww/wasi-restricted.)
 */
function miniWasi(memory: () => WebAssembly.Memory, out: string[]): WebAssembly.ModuleImports {
  let partial = ''
  const dec = new TextDecoder()
  const fd_write = (fd: number, iovs: number, iovsLen: number, nwritten: number): number => {
    if (fd !== 1 && fd !== 2) return ERRNO_BADF
    const dv = new DataView(memory().buffer)
    let n = 0
    for (let i = 0; i < iovsLen; i++) {
      const ptr = dv.getUint32(iovs + i * 8, true)
      const len = dv.getUint32(iovs + i * 8 + 4, true)
      partial += dec.decode(new Uint8Array(memory().buffer, ptr, len))
      n += len
    }
    const lines = partial.split('\n')
    partial = lines.pop()!
    out.push(...lines)
    dv.setUint32(nwritten, n, true)
    return 0
  }
  return new Proxy({ fd_write } as WebAssembly.ModuleImports, {
    get: (t, name: string) => t[name] ?? ((): number => ENOSYS),
  })
}

describe('a real guest on the Host capability', () => {
  let c: Cluster
  beforeEach(() => { c = embeddedCluster({ id: 'host-demo' }) })
  afterEach(() => c.close())

  test('wasi-hello-host: info, view, anchor write/read, publish', async () => {
    // 'wasi-hello-host' is built by @ww/guest but not yet listed in its GuestName type.
    const bytes = new Uint8Array(await readFile(guestPath('wasi-hello-host' as GuestName)))
    const seen: Message[] = []
    const sub = c.pubsub.join('demo').subscribe({ capacity: 16, handler: (m) => { seen.push(m) } })
    const hc = hostCapability(c, { processId: 1, rights: { root: true } })
    const out: string[] = []
    const exit = await runGuest(bytes, {
      bootstrap: hc.server,
      processId: 1,
      entry: 'ww_main',
      // The guest's memory, read on every call (memory.grow replaces its buffer).
      imports: (guest) => ({
        wasi_snapshot_preview1: miniWasi(() => guest.instance!.exports.memory as WebAssembly.Memory, out),
      }),
      signal: AbortSignal.timeout(10_000),
    })
    expect(exit.error).toBeUndefined()
    expect(exit.ok).toBe(true)
    expect(exit.result).toBe(0)
    expect(out).toEqual([
      'hello from a guest on host host-demo (ww 0.1.0)',
      'the cluster has 1 host(s)',
      'wrote demo/greeting (version 1)',
      'read it back: "hello, anchors"',
      'published on topic demo',
    ])
    const v = await c.local.walk('demo/greeting').load()
    expect(v?.kind === 'bytes' && new TextDecoder().decode(v.bytes)).toBe('hello, anchors')
    expect(c.local.walk('demo/greeting').version?.()).toBe(1)
    await new Promise((r) => setImmediate(r))
    expect(seen.map((m) => [m.from, new TextDecoder().decode(m.data)])).toEqual([['host-demo', 'hi from host-demo']])
    sub.close()
    hc.close()
  })
})
