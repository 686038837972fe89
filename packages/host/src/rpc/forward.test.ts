// The host's forwarder over a service on another connection: its check, its error
// contract, capabilities in params, and an interface outside @ww/schema.
import { getInterfaceClient, Server, setInterfaceClient } from 'capnp-ts'
import { testing } from '@ww/schema'
import { createPair, onReleased, RemoteError, retainClient } from '@ww/transport'
import { forwardingServer } from './forward.js'
import { revoked } from './errors.js'

describe('forwardingServer', () => {
  test('forwards any method, checks each call, and passes on what the target does not implement', async () => {
    let total = 0n
    let live = true
    const service = new testing.Echo.Server({
      ping() {}, echo(p, r) { r.setPayload(p.getPayload().toUint8Array()) },
      counter(p, r) { total = p.getStart(); r.setCounter(new testing.Counter.Server({ add(q, s) { total += q.getN(); s.setTotal(total) } })) },
    })
    // client → (frames) → forwarder → (frames) → service: both hops on the wire.
    const [toService] = createPair({ frames: true, b: { bootstrap: service } })
    const fwd = forwardingServer(toService.bootstrap(testing.Echo).client, { check: () => { if (!live) throw revoked('gone') } })
    const [a] = createPair({ frames: true, b: { bootstrap: fwd } })
    const echo = a.bootstrap(testing.Echo)
    expect((await echo.echo((p) => p.setPayload(new Uint8Array([7, 8])))).getPayload().toUint8Array()).toEqual(new Uint8Array([7, 8]))
    expect((await echo.echo((p) => p.setPayload(new Uint8Array(0)))).getPayload().toUint8Array()).toEqual(new Uint8Array(0))
    expect((await echo.counter((p) => p.setStart(5n)).getCounter().add((p) => p.setN(2n))).getTotal()).toBe(7n)
    await echo.ping() // empty params and results (a zero-sized struct)
    const other = { interfaceId: 0x1234n, interfaceName: 'Other', methodId: 0, methodName: 'x', ParamsClass: testing.Echo_ping$Params, ResultsClass: testing.Echo_ping$Results }
    await expect(echo.client.call(other)).rejects.toMatchObject({ type: 'unimplemented' })
    live = false
    const err = await echo.ping().then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(RemoteError)
    expect((err as RemoteError).remoteCode).toBe('ERR_REVOKED')
    a.close()
    toService.close()
  })

  test('forwards an interface no one on the host knows (a Kv.get-shaped method, by id only)', async () => {
    // Kv (examples/kv-service/kv.capnp) is not in @ww/schema: its get is served here with
    // Echo.echo's struct layouts (one Data pointer in and out) under Kv's ids.
    const KV = 0x88d40ffc4008b236n
    const get = { interfaceId: KV, interfaceName: 'Kv', methodId: 0, methodName: 'get', ParamsClass: testing.Echo_echo$Params, ResultsClass: testing.Echo_echo$Results }
    const kv = new Server([{ ...get, impl: (p: testing.Echo_echo$Params, r: testing.Echo_echo$Results) => { r.setPayload(new Uint8Array([...p.getPayload().toUint8Array()].reverse())) } }])
    const [toService] = createPair({ frames: true, b: { bootstrap: kv } })
    const [a] = createPair({ frames: true, b: { bootstrap: forwardingServer(toService.bootstrap(testing.Echo).client) } })
    const r = await a.bootstrap(testing.Echo).client.call(get, (p: testing.Echo_echo$Params) => p.setPayload(new Uint8Array([1, 2, 3])))
    expect([...r.getPayload().toUint8Array()]).toEqual([3, 2, 1])
    // The owner's connection closes: the next call fails at once, typed.
    toService.close()
    await expect(a.bootstrap(testing.Echo).client.call(get, () => {})).rejects.toMatchObject({ remoteCode: 'ERR_CLOSED' })
    a.close()
  })

  test('a capability in forwarded params stays usable by a service that keeps it, and is released when that service lets go', async () => {
    const tick = async (): Promise<void> => { for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)) }
    const counter = new testing.Counter.Server({ add(q, s) { s.setTotal(q.getN() * 10n) } })
    let released = 0
    onReleased(counter, () => { released++ })
    let kept: testing.Counter$Client | undefined
    // Echo.echo with a Counter in its params' pointer 0 (forwarded as a raw struct): the
    // service keeps it past the call, the way a subscribe keeps its handler.
    const service = new testing.Echo.Server({
      ping() {}, counter() {},
      echo(p) { kept = retainClient(new testing.Counter.Client(getInterfaceClient(0, p))) },
    })
    const [toService] = createPair({ frames: true, b: { bootstrap: service } })
    const fwd = forwardingServer(toService.bootstrap(testing.Echo).client)
    const [a, b] = createPair({ frames: true, b: { bootstrap: fwd } })
    await a.bootstrap(testing.Echo).echo((p) => setInterfaceClient(0, counter, p))
    await tick()
    expect(released).toBe(0)
    expect((await kept!.add((q) => q.setN(3n))).getTotal()).toBe(30n) // service → forwarder → a
    kept!.dispose()
    await tick()
    expect(released).toBe(1)
    expect(b.stats.imports).toBe(0)
    a.close()
    toService.close()
  })
})
