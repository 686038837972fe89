// The generated testing bindings (Echo, Counter) serve and call through capnp-ts's Conn.

import { Conn } from 'capnp-ts'
import type { Transport } from 'capnp-ts'
import { testing } from './index.js'
import { newEcho } from './testing-kit.js'

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

for (const later of [false, true]) {
  test(`the reference Echo (${later ? 'answering after a timer' : 'answering at once'}): echo returns its payload, counter pipelines into Counter.add, calls recorded`, async () => {
    const calls: string[] = []
    const [a, b] = pair()
    const server = new Conn(a, { main: newEcho({ calls, later }) })
    const conn = new Conn(b)
    const client = conn.bootstrap(testing.Echo)
    await client.ping()
    expect(Array.from((await client.echo((p) => p.setPayload(new Uint8Array([9, 8])))).getPayload().toUint8Array())).toEqual([9, 8])
    const counter = client.counter((p) => p.setStart(100n)).getCounter()
    await counter.add((p) => p.setN(1n))
    expect((await counter.add((p) => p.setN(2n))).getTotal()).toBe(103n)
    expect(calls).toEqual(['ping', 'echo', 'counter', 'add', 'add'])
    conn.close()
    server.close()
  })
}
