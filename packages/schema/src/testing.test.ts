// The generated testing bindings (Echo, Counter) serve and call through capnp-ts's Conn.

import { Conn } from 'capnp-ts'
import type { Transport } from 'capnp-ts'
import { testing } from './index.js'

function pair(): [Transport, Transport] {
  const ends = [0, 1].map(() => {
    let cb: ((d: Uint8Array) => void) | undefined
    return { peer: undefined as { deliver(d: Uint8Array): void } | undefined, deliver(d: Uint8Array) { cb?.(d) },
      send(d: Uint8Array) { const c = d.slice(); const p = this.peer; queueMicrotask(() => p?.deliver(c)) },
      onMessage(f: (d: Uint8Array) => void) { cb = f }, onClose() {}, close() {} }
  })
  const [a, b] = ends as [typeof ends[0], typeof ends[0]]
  a.peer = b
  b.peer = a
  return [a, b]
}

test('Echo.echo returns its payload and Echo.counter pipelines into Counter.add', async () => {
  const echo = new testing.Echo.Server({
    ping() {},
    echo(p, r) { r.setPayload(p.getPayload().toUint8Array()) },
    counter(p, r) {
      let total = p.getStart()
      r.setCounter(new testing.Counter.Server({ add(q, s) { total += q.getN(); s.setTotal(total) } }))
    },
  })
  const [a, b] = pair()
  const server = new Conn(a, { main: echo })
  const conn = new Conn(b)
  const client = conn.bootstrap(testing.Echo)
  await client.ping()
  expect(Array.from((await client.echo((p) => p.setPayload(new Uint8Array([9, 8])))).getPayload().toUint8Array())).toEqual([9, 8])
  const counter = client.counter((p) => p.setStart(100n)).getCounter()
  await counter.add((p) => p.setN(1n))
  expect((await counter.add((p) => p.setN(2n))).getTotal()).toBe(103n)
  conn.close()
  server.close()
})

test('method descriptors carry the schema ids', () => {
  expect(testing.Echo.interfaceId).toBe(0x8fd629c338ff292bn)
  expect(testing.Echo$Methods.counter.methodId).toBe(2)
  expect(testing.Counter$Methods.add.interfaceId).toBe(0xbda3e0f1a3acda10n)
})
