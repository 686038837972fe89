// Import reference counts (rpc.capnp: every CapDescriptor naming an export is one more
// reference; one Release returns them all). Pins the bug where the first holder of a
// capability received more than once disposed it for everyone: one Client was handed out
// per import and its dispose released every reference.

import net from 'node:net'
import { Message, type Server } from 'capnp-ts'
import { Message as RpcMessage, Message_Which } from 'capnp-ts/src/std/rpc.capnp.js'
import { getPointer, initStructAt } from 'capnp-ts/src/serialization/pointers/struct.js'
import { setInterfacePointer } from 'capnp-ts/src/serialization/pointers/pointer.js'
import { testing } from '@ww/schema'
import { createPair } from '../pair.js'
import { connectStream } from '../stream.js'
import { newCounter } from '@ww/schema/testing'
import { CapabilityReleasedError, ConnectionClosedError, TransportError } from '../errors.js'
import { RpcConnection, type MessageSink } from './connection.js'
import { onReleased } from './release.js'
import { retainClient } from './imports.js'

const tick = () => new Promise((r) => setImmediate(r))

/** An Echo whose counter() always returns the same Counter, with its release hook counted. */
function sharedCounter(): { echo: testing.Echo$Server; released: () => number } {
  const counter = newCounter(0n)
  let n = 0
  onReleased(counter, () => { n++ })
  const echo = new testing.Echo$Server({ ping() {}, echo() {}, counter(_p, r) { r.setCounter(counter) } })
  return { echo, released: () => n }
}

/** The exporting peer played by hand: it answers our questions, we record what we send. */
function rawExporter(): { conn: RpcConnection; sent: RpcMessage[]; answer: (q: number, exportIds: number[]) => void } {
  const sent: RpcMessage[] = []
  const sink: MessageSink = { send(m: Message) { sent.push(m.getRoot(RpcMessage)) }, close() {} }
  const conn = new RpcConnection(sink)
  // A Return whose content is cap 0 (question 0, the bootstrap) or a struct whose pointer 0
  // is cap 0 (Echo.counter's results), with `exportIds` as the cap table.
  const answer = (q: number, exportIds: number[]): void => {
    const m = new Message()
    const r = m.initRoot(RpcMessage).initReturn()
    r.setAnswerId(q)
    const payload = r.initResults()
    setInterfacePointer(0, getPointer(0, q === 0 ? payload : initStructAt(0, testing.Echo_counter$Results, payload)))
    const table = payload.initCapTable(exportIds.length)
    exportIds.forEach((id, i) => table.get(i).setSenderHosted(id))
    conn.receive(m, false)
  }
  return { conn, sent, answer }
}

const releases = (sent: RpcMessage[]) => sent
  .filter((m) => m.which() === Message_Which.RELEASE)
  .map((m) => ({ id: m.getRelease().getId(), count: m.getRelease().getReferenceCount() }))

describe('imports received more than once', () => {
  it('one Release, with the count of every receipt, once the last handle is disposed', async () => {
    const { conn, sent, answer } = rawExporter()
    const echo = conn.bootstrap(testing.Echo)
    answer(0, [1])
    const p1 = echo.counter()
    const p2 = echo.counter()
    const p3 = echo.counter()
    answer(1, [9])
    answer(2, [9])
    answer(3, [9])
    const [c1, c2, c3] = [(await p1).getCounter(), (await p2).getCounter(), (await p3).getCounter()]
    expect(conn.stats.imports).toBe(2)
    c1.dispose()
    c3.dispose()
    c3.dispose() // twice: still one handle's worth
    expect(releases(sent)).toEqual([])
    void c2.add((p) => p.setN(1n)) // question 4, never answered
    const call = sent.at(-1)!
    expect(call.which()).toBe(Message_Which.CALL)
    expect(call.getCall().getTarget().getImportedCap()).toBe(9)
    c2.dispose()
    expect(releases(sent)).toEqual([{ id: 9, count: 3 }])
    c2.dispose()
    expect(releases(sent)).toEqual([{ id: 9, count: 3 }])
    expect(conn.stats.imports).toBe(1)
    // Received again after the Release: a fresh import, counted from one.
    const p4 = echo.counter()
    answer(5, [9])
    ;(await p4).getCounter().dispose()
    expect(releases(sent)).toEqual([{ id: 9, count: 3 }, { id: 9, count: 1 }])
  })

  it('a disposed handle fails its calls with ERR_RELEASED; the others keep working', async () => {
    const { echo, released } = sharedCounter()
    const [a, b] = createPair({ frames: true, b: { bootstrap: echo } })
    const e = a.bootstrap(testing.Echo)
    const c1 = (await e.counter()).getCounter()
    const c2 = (await e.counter()).getCounter()
    c1.dispose()
    const err = await c1.add((p) => p.setN(1n)).then(() => undefined, (x: unknown) => x)
    expect(err).toBeInstanceOf(CapabilityReleasedError)
    expect(err).toMatchObject({ code: 'ERR_RELEASED' })
    await tick()
    expect((await c2.add((p) => p.setN(5n))).getTotal()).toBe(5n)
    expect(released()).toBe(0)
    expect(b.stats.exports).toBe(2)
  })

  it.each([false, true])('across an in-process pair (frames: %s) the export lives until the last holder lets go', async (frames) => {
    const { echo, released } = sharedCounter()
    const [a, b] = createPair({ frames, b: { bootstrap: echo } })
    const e = a.bootstrap(testing.Echo)
    // Two holders of the same remote capability (say, a child and the registry).
    const child = (await e.counter()).getCounter()
    const registry = (await e.counter()).getCounter()
    await tick()
    expect(a.stats.imports).toBe(2)
    registry.dispose()
    await tick()
    expect((await child.add((p) => p.setN(2n))).getTotal()).toBe(2n)
    expect(released()).toBe(0)
    expect(b.closed).toBe(false)
    child.dispose()
    await tick()
    expect(released()).toBe(1) // the Release carried both references: b's export is gone
    expect(b.stats.exports).toBe(1)
    expect(a.stats.imports).toBe(1)
    expect(b.closed).toBe(false)
  })

  it('over a TCP stream the same holds', async () => {
    const server = net.createServer()
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r))
    const sock = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
    await new Promise<void>((r) => sock.once('connect', r))
    const { echo, released } = sharedCounter()
    const b = connectStream(await accepted, { bootstrap: echo })
    const a = connectStream(sock)
    const e = a.bootstrap(testing.Echo)
    const first = (await e.counter()).getCounter()
    const second = (await e.counter()).getCounter()
    first.dispose()
    expect((await second.add((p) => p.setN(7n))).getTotal()).toBe(7n)
    expect(released()).toBe(0)
    second.dispose()
    await e.ping() // the Release went before this call, in order
    expect(released()).toBe(1)
    expect(b.stats.exports).toBe(1)
    a.close()
    server.close()
  })
})

describe('retainClient', () => {
  it('gives a second holder of one handle its own reference', async () => {
    const { echo, released } = sharedCounter()
    const [a] = createPair({ frames: true, b: { bootstrap: echo } })
    const c = (await a.bootstrap(testing.Echo).counter()).getCounter()
    const kept = new testing.Counter$Client(retainClient(c.client))
    c.dispose()
    await tick()
    expect((await kept.add((p) => p.setN(3n))).getTotal()).toBe(3n)
    expect(released()).toBe(0)
    kept.dispose()
    await tick()
    expect(released()).toBe(1)
    expect(a.stats.imports).toBe(1)
    expect(() => retainClient(c.client)).toThrow(CapabilityReleasedError)
  })

  it('a local capability: another Client on the same server (disposing either changes nothing)', async () => {
    const counter: Server = newCounter(10n)
    const local = new testing.Counter$Client(new (await import('capnp-ts')).Client({ tag: 'local', server: counter }))
    const other = new testing.Counter$Client(retainClient(local.client))
    local.dispose()
    expect((await other.add((p) => p.setN(1n))).getTotal()).toBe(11n)
  })

  it('handles outliving their connection fail with ERR_CLOSED and release nothing', async () => {
    const { conn, sent, answer } = rawExporter()
    const echo = conn.bootstrap(testing.Echo)
    answer(0, [1])
    const p = echo.counter()
    answer(1, [4])
    const c = (await p).getCounter()
    const more = retainClient(c.client)
    conn.close()
    const err = await c.add((q) => q.setN(1n)).then(() => undefined, (x: unknown) => x)
    expect(err).toBeInstanceOf(ConnectionClosedError)
    expect(err).toBeInstanceOf(TransportError)
    c.dispose()
    more.dispose()
    expect(releases(sent)).toEqual([])
  })
})
