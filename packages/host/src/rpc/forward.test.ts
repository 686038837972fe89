// copyPointer: what a forwarder copies between messages, capabilities included; and a
// forwarder over a local server, with its check and an interface outside @ww/schema.
import { Client, getInterfaceClient, Message, Server, setInterfaceClient } from 'capnp-ts'
import { registry as capReg, testing } from '@ww/schema'
import { createPair, onReleased, RemoteError, retainClient } from '@ww/transport'
import { copyPointer, forwardingServer } from './forward.js'
import { revoked } from './errors.js'

describe('copyPointer', () => {
  test('a pointer cycle (a struct whose pointer points at itself) ends in ERR_LIMIT, not a stack overflow', () => {
    // Word 0: root → struct at word 1 (0 data words, 1 pointer). Word 1: that pointer, offset -1 → itself.
    const words = new BigUint64Array([0x0001_0000_0000_0000n, 0x0001_0000_ffff_fffcn])
    const src = new Message(words.buffer, false, true).getRoot(testing.Echo_echo$Params)
    const dst = new Message().initRoot(testing.Echo_echo$Params)
    expect(() => copyPointer(src, dst, (c) => c)).toThrow(/ERR_LIMIT/)
  })

  test('shared targets cannot amplify a copy: 1,000 pointers to one 1 MiB blob (a 1 MiB message) end in ERR_LIMIT', () => {
    const N = 1000, BLOB = 1 << 20, B = 2 + N
    const listPtr = (from: number, to: number, size: bigint, count: number): bigint =>
      1n | (BigInt(((to - from - 1) << 2) >>> 0)) | (size << 32n) | (BigInt(count) << 35n)
    const words = new BigUint64Array(B + BLOB / 8)
    words[0] = 0x0001_0000_0000_0000n // root → struct at word 1, one pointer
    words[1] = listPtr(1, 2, 6n, N) // → N pointers at word 2
    for (let i = 0; i < N; i++) words[2 + i] = listPtr(2 + i, B, 2n, BLOB) // each → the same bytes at B
    const src = new Message(words.buffer, false, true).getRoot(testing.Echo_echo$Params)
    const dst = new Message().initRoot(testing.Echo_echo$Params)
    expect(() => copyPointer(src, dst, (c) => c)).toThrow(/ERR_LIMIT/)
  })

  test('structs, composite and text lists, data, nested structs and capabilities', () => {
    const svc = new testing.Echo.Server({ ping() {}, echo() {}, counter() {} })
    const src = new Message().initRoot(capReg.Registry_find$Results)
    const list = src.initProviders(2)
    for (let i = 0; i < 2; i++) {
      const p = list.get(i)
      p.setName(`svc-${i}`)
      if (i === 1) setInterfaceClient(1, svc, p)
      const ref = p.initProvider()
      ref.setHost(`host-${i}`)
      ref.setPid(BigInt(100 + i))
      const meta = p.initMeta(i + 1)
      for (let k = 0; k <= i; k++) meta.set(k, `k${k}=v${i}`)
      p.setExpiresInMs(1000 * (i + 1))
    }
    const seen: Array<Client | null> = []
    const dst = new Message().initRoot(capReg.Registry_find$Results)
    copyPointer(src, dst, (c) => { seen.push(c); return c })
    const out = new Message(dst.segment.message.toArrayBuffer(), false)
    out._capnp.capTable = dst.segment.message._capnp.capTable
    const got = out.getRoot(capReg.Registry_find$Results).getProviders()
    expect(got.getLength()).toBe(2)
    const read = (i: number): unknown => {
      const p = got.get(i)
      const m = p.getMeta()
      return [p.getName(), p.getProvider().getHost(), p.getProvider().getPid(), Array.from({ length: m.getLength() }, (_, k) => m.get(k)), p.getExpiresInMs(), p.hasService()]
    }
    expect(read(0)).toEqual(['svc-0', 'host-0', 100n, ['k0=v0'], 1000, false])
    expect(read(1)).toEqual(['svc-1', 'host-1', 101n, ['k0=v1', 'k1=v1'], 2000, true])
    expect(seen).toHaveLength(1)
    expect((getInterfaceClient(1, got.get(1))._target as { server?: Server }).server).toBe(svc)
  })

  test('a null pointer copies as null over what was there', () => {
    const src = new Message().initRoot(testing.Echo_echo$Params)
    const dst = new Message().initRoot(testing.Echo_echo$Params)
    dst.setPayload(new Uint8Array([1, 2, 3]))
    copyPointer(src.segment.message.getRoot(testing.Echo_echo$Params), dst, (c) => c)
    expect(dst.hasPayload()).toBe(false)
  })
})

describe('forwardingServer', () => {
  test('forwards any @ww/schema method, checks each call, and is unimplemented for other interfaces', async () => {
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
