// A guest that serves capabilities: serve-echo offers an Echo as its bootstrap; the host
// side (a capnp-ts peer on the real guest transport) calls it, pipelines on a Counter the
// guest serves, is called back by the guest while the guest waits, and releases what it
// holds. The guest's tables are read through its test exports.
import { runGuest, type GuestConnection } from '@ww/transport'
import { testing } from '@ww/schema'
import { guestBytes } from '../src/index.js'
import { asString } from './peer.js'

interface Hooks {
  ww_test_exports(): number
  ww_test_counters_released(): number
  ww_test_imports(): number
  ww_test_callback(on: number): void
}

async function start(hostEcho: (conn: () => GuestConnection) => testing.Echo.Server) {
  let conn: GuestConnection | undefined
  let aborted = ''
  const bytes = await guestBytes('serve-echo')
  const ready = new Promise<GuestConnection>((resolve) => {
    const exit = runGuest(bytes, {
      processId: 'serve-echo',
      bootstrap: hostEcho(() => conn!),
      imports: (c) => {
        conn = c
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
    void exit.then((e) => { exited = e })
  })
  let exited: Awaited<ReturnType<typeof runGuest>> | undefined
  const c = await ready
  const hooks = (): Hooks => c.instance!.exports as unknown as Hooks
  const guest = c.rpc.bootstrap(testing.Echo)
  await guest.echo((p) => p.initPayload(1)) // the guest runs: its exports can be read
  return { c, guest, hooks, exited: () => exited, aborted: () => aborted }
}

const quietHost = (): testing.Echo.Server => new testing.Echo.Server({ ping() {}, echo() {}, counter() {} })

describe('a guest serving its bootstrap capability', () => {
  test('echo answers with the bytes sent; an unknown method is unimplemented', async () => {
    const g = await start(quietHost)
    const payload = new Uint8Array(3000).map((_, i) => (i * 7) & 255)
    const r = await g.guest.echo((p) => p.initPayload(payload.byteLength).copyBuffer(payload))
    expect(Buffer.from(r.getPayload().toUint8Array())).toEqual(Buffer.from(payload))
    const unknown = new testing.Counter.Client(g.guest.client).add((p) => p.setN(1n))
    await expect(unknown).rejects.toThrow(/ERR_UNIMPLEMENTED: method bda3e0f1a3acda10\/0 is not implemented/)
    g.c.close()
  })

  test('a Counter the guest serves: pipelined adds before the answer, then released', async () => {
    const g = await start(quietHost)
    const answer = g.guest.counter((p) => p.setStart(40n))
    const counter = answer.getCounter()
    const first = counter.add((p) => p.setN(1n)) // pipelined on the unanswered counter()
    const second = counter.add((p) => p.setN(1n))
    expect((await first).getTotal()).toBe(41n)
    expect((await second).getTotal()).toBe(42n)
    expect(g.hooks().ww_test_exports()).toBe(2) // the Echo and the Counter
    expect(g.hooks().ww_test_counters_released()).toBe(0)
    // The results' handle is the one reference the host holds; the pipelined one counts none.
    ;(await answer).getCounter().client.dispose()
    // The Release reaches the guest with the next frame it reads.
    await g.guest.echo((p) => p.initPayload(1))
    expect(g.hooks().ww_test_counters_released()).toBe(1)
    expect(g.hooks().ww_test_exports()).toBe(1)
    g.c.close()
  })

  test('while the guest waits on the host, the host calls it again: served, no deadlock', async () => {
    const order: string[] = []
    const g = await start((conn) => new testing.Echo.Server({
      async ping() {
        // The guest is inside its own ping, waiting for this answer: call it back.
        order.push('host ping')
        const again = conn().rpc.bootstrap(testing.Echo)
        const r = await again.echo((p) => p.initPayload(2).copyBuffer(new Uint8Array([7, 9])))
        order.push(`guest echoed ${[...r.getPayload().toUint8Array()].join(',')}`)
        again.client.dispose()
      },
      echo() {},
      counter() {},
    }))
    g.hooks().ww_test_callback(1)
    await g.guest.ping()
    expect(order).toEqual(['host ping', 'guest echoed 7,9'])
    g.c.close()
  })

  test('calls nested without end stop at the depth limit with ERR_LIMIT, and the guest carries on', async () => {
    let depth = 0
    const g = await start((conn) => new testing.Echo.Server({
      async ping() {
        // Each host ping calls the guest's ping, which calls the host's ping again.
        depth++
        const again = conn().rpc.bootstrap(testing.Echo)
        try { await again.ping() } finally { again.client.dispose() }
      },
      echo() {},
      counter() {},
    }))
    g.hooks().ww_test_callback(1)
    await expect(g.guest.ping()).rejects.toThrow(/ERR_LIMIT: calls nested 32 deep/)
    expect(depth).toBe(32)
    const r = await g.guest.echo((p) => p.initPayload(1))
    expect(r.getPayload().toUint8Array().byteLength).toBe(1)
    g.c.close()
  })
})
