import { Message } from 'capnp-ts'
import { Message as RpcMessage, Message_Which } from 'capnp-ts/src/std/rpc.capnp.js'
import { testing } from '@ww/schema'
import { createPair } from '../pair.js'
import { newCounter, newEcho } from '@ww/schema/testing'
import { RpcConnection, type MessageSink } from './connection.js'
import { onReleased, retainServer } from './release.js'

const tick = () => new Promise((r) => setImmediate(r))

/** A server whose release hook counts its calls. */
function counted<S extends import('capnp-ts').Server>(server: S): { server: S; calls: () => number } {
  let n = 0
  onReleased(server, () => { n++ })
  return { server, calls: () => n }
}

/** The peer played by hand: we write its messages, the connection's replies are recorded. */
function rawPeer(bootstrap: import('capnp-ts').Server): { conn: RpcConnection; sent: RpcMessage[]; send: (f: (m: RpcMessage) => void) => void } {
  const sent: RpcMessage[] = []
  const sink: MessageSink = { send(m: Message) { sent.push(m.getRoot(RpcMessage)) }, close() {} }
  const conn = new RpcConnection(sink, { bootstrap })
  const send = (f: (m: RpcMessage) => void): void => {
    const m = new Message()
    f(m.initRoot(RpcMessage))
    conn.receive(m, false)
  }
  return { conn, sent, send }
}

/** The export id of the single capability in the last Return the connection sent. */
function exportedId(sent: RpcMessage[]): number {
  const r = sent.filter((m) => m.which() === Message_Which.RETURN).at(-1)!.getReturn()
  return r.getResults().getCapTable().get(0).getSenderHosted()
}

const bootstrapQ = (q: number) => (m: RpcMessage) => m.initBootstrap().setQuestionId(q)
const release = (id: number, n: number) => (m: RpcMessage) => { const r = m.initRelease(); r.setId(id); r.setReferenceCount(n) }
const finish = (q: number, releaseCaps: boolean) => (m: RpcMessage) => { const f = m.initFinish(); f.setQuestionId(q); f.setReleaseResultCaps(releaseCaps) }

describe('onReleased', () => {
  it('runs once when the peer disposes the last reference, not before', async () => {
    const counter = counted(newCounter(0n))
    const echo = new testing.Echo$Server({ ping() {}, echo() {}, counter(_p, r) { r.setCounter(counter.server) } })
    const [a, b] = createPair({ frames: true, b: { bootstrap: echo } })
    const e = a.bootstrap(testing.Echo)
    const c1 = (await e.counter()).getCounter()
    const c2 = (await e.counter()).getCounter() // the same server: same export, two references
    await tick()
    expect(b.stats.exports).toBe(2)
    expect(counter.calls()).toBe(0)
    expect((await c2.add((p) => p.setN(3n))).getTotal()).toBe(3n)
    c1.dispose() // c2 is another handle on the same import: nothing released yet
    c2.dispose()
    await tick()
    expect(b.stats.exports).toBe(1)
    expect(counter.calls()).toBe(1)
    a.close()
    await tick()
    expect(counter.calls()).toBe(1)
  })

  it('a partial Release does not run it; the last one does, once', () => {
    const boot = counted(newEcho())
    const { conn, sent, send } = rawPeer(boot.server)
    send(bootstrapQ(0))
    send(bootstrapQ(1))
    const id = exportedId(sent)
    expect(conn.stats.exports).toBe(1)
    send(release(id, 1))
    expect(boot.calls()).toBe(0)
    expect(conn.stats.exports).toBe(1)
    send(release(id, 1))
    expect(boot.calls()).toBe(1)
    expect(conn.stats.exports).toBe(0)
    // Exported again and released again: the hook was consumed, it does not run twice.
    send(bootstrapQ(2))
    send(release(exportedId(sent), 1))
    conn.close()
    expect(boot.calls()).toBe(1)
  })

  it('runs on Finish(releaseResultCaps) of the results that carried it, also when Finish came first', async () => {
    const boot = counted(newEcho())
    const { sent, send } = rawPeer(boot.server)
    send(bootstrapQ(0))
    send(finish(0, false))
    expect(boot.calls()).toBe(0) // results kept: the reference stays
    send(bootstrapQ(1))
    send(finish(1, true))
    expect(boot.calls()).toBe(0) // one reference (from question 0) is left
    send(release(exportedId(sent), 1))
    expect(boot.calls()).toBe(1)

    // Finish arrives while the call still runs: the results' caps are released once sent.
    let open!: () => void
    const gate = new Promise<void>((r) => { open = r })
    const counter = counted(newCounter(0n))
    const echo = new testing.Echo$Server({
      ping() {}, echo() {},
      async counter(_p, r) { await gate; r.setCounter(counter.server) },
    })
    const peer = rawPeer(echo)
    peer.send(bootstrapQ(0))
    const bootId = exportedId(peer.sent)
    peer.send((m) => {
      const c = m.initCall()
      c.setQuestionId(1)
      c.setInterfaceId(testing.Echo.interfaceId)
      c.setMethodId(2)
      c.initTarget().setImportedCap(bootId)
      c.initParams()
    })
    peer.send(finish(1, true))
    open()
    await tick()
    expect(exportedId(peer.sent)).not.toBe(bootId) // the Return carried the counter
    expect(counter.calls()).toBe(1)
    expect(peer.conn.stats.exports).toBe(1)
  })

  it('runs for every export still held when the connection closes or is aborted', async () => {
    const counter = counted(newCounter(0n))
    const boot = counted(new testing.Echo$Server({ ping() {}, echo() {}, counter(_p, r) { r.setCounter(counter.server) } }))
    const [a, b] = createPair({ frames: false, b: { bootstrap: boot.server } })
    await a.bootstrap(testing.Echo).counter()
    await tick()
    expect(b.stats.exports).toBe(2)
    expect([boot.calls(), counter.calls()]).toEqual([0, 0])
    a.close()
    await tick()
    expect(b.closed).toBe(true)
    expect([boot.calls(), counter.calls()]).toEqual([1, 1])

    const aborted = counted(newEcho())
    const { conn, send } = rawPeer(aborted.server)
    send(bootstrapQ(0))
    send((m) => m.initAbort().setReason('bye'))
    expect(conn.closed).toBe(true)
    expect(aborted.calls()).toBe(1)
    conn.close()
    expect(aborted.calls()).toBe(1)
  })

  it('never runs while another connection (or a local hold) still has the server', async () => {
    const shared = counted(newCounter(0n))
    const echo = new testing.Echo$Server({ ping() {}, echo() {}, counter(_p, r) { r.setCounter(shared.server) } })
    const [a1, b1] = createPair({ b: { bootstrap: echo } })
    const [a2] = createPair({ b: { bootstrap: echo } })
    const c1 = (await a1.bootstrap(testing.Echo).counter()).getCounter()
    await a2.bootstrap(testing.Echo).counter()
    const keep = retainServer(shared.server)
    c1.dispose()
    await tick()
    expect(b1.stats.exports).toBe(1) // the bootstrap only
    expect(shared.calls()).toBe(0) // still exported on the second connection
    a2.close()
    await tick()
    expect(shared.calls()).toBe(0) // still held locally
    keep()
    keep() // idempotent
    expect(shared.calls()).toBe(1)
  })

  it('unregistering stops it; a throwing hook does not break the connection', async () => {
    const s = newCounter(0n)
    let n = 0
    const off = onReleased(s, () => { n++ })
    onReleased(s, () => { throw new Error('hook failed') })
    off()
    const echo = new testing.Echo$Server({ ping() {}, echo() {}, counter(_p, r) { r.setCounter(s) } })
    const [a, b] = createPair({ b: { bootstrap: echo } })
    const e = a.bootstrap(testing.Echo)
    ;(await e.counter()).getCounter().dispose()
    await tick()
    expect(n).toBe(0)
    expect(b.closed).toBe(false)
    expect(b.stats.exports).toBe(1)
    await e.ping()
  })
})
