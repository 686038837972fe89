// Generated clients and servers over capnp-ts's own Conn, through two in-process
// transports: typed params, results, pipelining on a returned capability, capabilities
// from another schema file, and inherited methods.

import { Conn } from 'capnp-ts'
import * as F from './fixtures/gen/features.js'
import * as I from './fixtures/gen/imported.js'
import { transportPair } from './pair.js'

function newCounter(start: bigint): F.Counter.Server {
  let total = start
  return new F.Counter.Server({ add(p, r) { total += p.getN(); r.setTotal(total) } })
}
function newNamed(name: string): I.Named.Server {
  return new I.Named.Server({ name(_p, r) { r.setName(name) } })
}

const echoImpl: F.Echo.Impl = {
  ping() {},
  echo(p, r) {
    r.setPayload(p.getPayload().toUint8Array())
    r.setTag(p.getTag())
  },
  async counter(p, r) {
    await Promise.resolve() // an async impl: the answer comes later than the call
    r.setCounter(newCounter(p.getStart()))
    r.setFirst(p.getStart())
  },
  shape(p, r) {
    const s = p.getShape()
    switch (s.which()) {
      case F.Shape_Which.CIRCLE: r.setArea(Math.PI * s.getCircle() ** 2); break
      case F.Shape_Which.SQUARE: r.setArea(s.getSquare() ** 2); break
      case F.Shape_Which.RECT: r.setArea(s.getRect().getWidth() * s.getRect().getHeight()); break
      default: throw new Error(`no area for ${F.Shape_Which[s.which()]}`)
    }
  },
  holder(_p, r) {
    r.setNamed(newNamed('held'))
    r.initBox().setCount(3)
  },
  named(p, r) { r.setNamed(newNamed(p.getName())) },
}

function connect<C>(main: F.Echo.Server | F.LoudEcho.Server, iface: { _capnp: { displayName: string; id: string }; Client: new (c: never) => C }): { client: C; close: () => void } {
  const [a, b] = transportPair()
  const server = new Conn(a, { main })
  const conn = new Conn(b)
  const client = conn.bootstrap(iface as never) as C
  return { client, close: () => { conn.close(); server.close() } }
}

describe('generated interfaces over capnp-ts Conn', () => {
  test('a call with no params or results resolves', async () => {
    const { client, close } = connect<F.Echo.Client>(new F.Echo.Server(echoImpl), F.Echo)
    await expect(client.ping()).resolves.toBeInstanceOf(F.Echo_ping$Results)
    close()
  })

  test('params built by a callback come back in typed results', async () => {
    const { client, close } = connect<F.Echo.Client>(new F.Echo.Server(echoImpl), F.Echo)
    const r = await client.echo((p) => { p.setPayload(new Uint8Array([1, 2, 250])); p.setTag('t') })
    expect(Array.from(r.getPayload().toUint8Array())).toEqual([1, 2, 250])
    expect(r.getTag()).toBe('t')
    close()
  })

  test('pipelined call on a returned capability before the answer arrives', async () => {
    const { client, close } = connect<F.Echo.Client>(new F.Echo.Server(echoImpl), F.Echo)
    const promise = client.counter((p) => p.setStart(40n))
    const counter = promise.getCounter() // pipelined: no await yet
    expect(counter).toBeInstanceOf(F.Counter$Client)
    const first = counter.add((p) => p.setN(1n))
    const second = counter.add((p) => p.setN(1n))
    expect((await first).getTotal()).toBe(41n)
    expect((await second).getTotal()).toBe(42n)
    expect((await promise).getFirst()).toBe(40n)
    // The resolved result's capability is the same counter.
    expect((await (await promise).getCounter().add((p) => p.setN(0n))).getTotal()).toBe(42n)
    close()
  })

  test('struct params with a union and a group', async () => {
    const { client, close } = connect<F.Echo.Client>(new F.Echo.Server(echoImpl), F.Echo)
    const rect = await client.shape((p) => { const r = p.initShape().initRect(); r.setWidth(3); r.setHeight(4) })
    expect(rect.getArea()).toBe(12)
    const sq = await client.shape((p) => p.initShape().setSquare(5))
    expect(sq.getArea()).toBe(25)
    await expect(client.shape((p) => p.initShape().setLabel('x'))).rejects.toThrow(/no area for LABEL/)
    close()
  })

  test('named result struct (-> Holder) pipelines its capability fields', async () => {
    const { client, close } = connect<F.Echo.Client>(new F.Echo.Server(echoImpl), F.Echo)
    const p = client.holder()
    const named = p.getNamed()
    expect(named).toBeInstanceOf(I.Named$Client)
    expect((await named.name()).getName()).toBe('held')
    expect((await p).getBox().getCount()).toBe(3)
    close()
  })

  test('a capability from another schema file', async () => {
    const { client, close } = connect<F.Echo.Client>(new F.Echo.Server(echoImpl), F.Echo)
    const named = client.named((p) => p.setName('alice')).getNamed()
    expect((await named.name()).getName()).toBe('alice')
    close()
  })

  test('an interface that extends two others serves and calls all their methods', async () => {
    const loud = new F.LoudEcho.Server({
      ...echoImpl,
      name(_p, r) { r.setName('loud') },
      shout(p, r) { r.setText(p.getText().toUpperCase()) },
    })
    expect(loud.methods.map((m) => `${m.interfaceName}.${m.methodName}`)).toEqual([
      'LoudEcho.shout', 'Echo.ping', 'Echo.echo', 'Echo.counter', 'Echo.shape', 'Echo.holder', 'Echo.named', 'Named.name',
    ])
    const { client, close } = connect<F.LoudEcho.Client>(loud, F.LoudEcho)
    expect((await client.shout((p) => p.setText('hi'))).getText()).toBe('HI')
    expect((await client.name()).getName()).toBe('loud')
    const c = client.counter((p) => p.setStart(1n)).getCounter()
    expect((await c.add((p) => p.setN(1n))).getTotal()).toBe(2n)
    close()
  })

  test('method descriptors carry ids, names and classes', () => {
    expect(F.Echo$Methods.counter).toMatchObject({
      interfaceId: 0xd9720c1b1ebaa629n, // derived by capnp from the file id and the name
      interfaceName: 'Echo', methodId: 2, methodName: 'counter',
      ParamsClass: F.Echo_counter$Params, ResultsClass: F.Echo_counter$Results,
    })
    expect(typeof F.Echo.interfaceId).toBe('bigint')
    expect(F.Echo._capnp.id).toBe(F.Echo.interfaceId.toString(16))
    expect(F.Echo.methods).toBe(F.Echo$Methods)
  })
})
