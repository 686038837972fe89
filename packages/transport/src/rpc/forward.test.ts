// Forwarding between connections without the schema: a capability one connection imports
// (owner O → host H) passed on another (H → client K) and called there. The forwarder
// reads no method table: it would forward an interface no one here knows the same way.

import { testing } from '@ww/schema'
import { createPair } from '../pair.js'
import fc from 'fast-check'
import { Client, Message } from 'capnp-ts'
import { Message as RpcMessage } from 'capnp-ts/src/std/rpc.capnp.js'
import { initStructAt } from 'capnp-ts/src/serialization/pointers/struct.js'
import { frameSize, readFrame, writeFrame } from '../frame.js'
import { echoPayload, newEcho } from '@ww/schema/testing'
import { LimitError, RemoteError, TransportError } from '../errors.js'
import { onReleased } from './release.js'
import { forwardingServer } from './forward.js'
import { RpcConnection } from './connection.js'

const tick = () => new Promise((r) => setImmediate(r))

/** O serves an Echo whose counters report their release; H offers O's Echo (an import) to K. */
function threeVats(frames: boolean) {
  const released: Array<Promise<void>> = []
  const owner = new testing.Echo$Server({
    ping() {},
    echo: echoPayload,
    counter(p, r) {
      let total = p.getStart()
      if (total === 13n) throw new RemoteError('ERR_INVALID_ARGUMENT: negative start', 'failed')
      const c = new testing.Counter$Server({ add(q, s) { total += q.getN(); s.setTotal(total) } })
      released.push(new Promise((res) => onReleased(c, res)))
      r.setCounter(c)
    },
  })
  const [hToO, o] = createPair({ frames, b: { bootstrap: owner } })
  const imported = hToO.bootstrap(testing.Echo)
  const [k, h] = createPair({ frames, b: { bootstrap: imported.client } })
  return { o, hToO, h, k, echo: k.bootstrap(testing.Echo), released }
}

describe.each([false, true])('forwarding another connection\'s capability (frames=%s)', (frames) => {
  it('forwards calls, results, exceptions and capabilities in results', async () => {
    const { echo } = threeVats(frames)
    await echo.ping()
    const r = await echo.echo((p) => p.setPayload(new Uint8Array([7, 8, 9])))
    expect([...r.getPayload().toUint8Array()]).toEqual([7, 8, 9])
    const counter = (await echo.counter((p) => p.setStart(10n))).getCounter()
    expect((await counter.add((p) => p.setN(5n))).getTotal()).toBe(15n)
    await expect(echo.counter((p) => p.setStart(13n))).rejects.toMatchObject({ remoteCode: 'ERR_INVALID_ARGUMENT' })
  })

  it('runs a call pipelined on a forwarded answer', async () => {
    const { echo } = threeVats(frames)
    // Sent before the counter call's results arrive anywhere.
    const counter = echo.counter((p) => p.setStart(100n)).getCounter()
    const a = counter.add((p) => p.setN(1n))
    const b = counter.add((p) => p.setN(2n))
    expect((await a).getTotal()).toBe(101n)
    expect((await b).getTotal()).toBe(103n)
  })

  it('sends a call pipelined on a forwarded answer on to the owner, not waiting for the answer', async () => {
    let open!: () => void
    const gate = new Promise<void>((r) => { open = r })
    const owner = new testing.Echo$Server({
      ping() {},
      echo: echoPayload,
      async counter(p, r) {
        await gate
        let total = p.getStart()
        r.setCounter(new testing.Counter$Server({ add(q, s) { total += q.getN(); s.setTotal(total) } }))
      },
    })
    const [hToO, o] = createPair({ frames, b: { bootstrap: owner } })
    const [k] = createPair({ frames, b: { bootstrap: hToO.bootstrap(testing.Echo).client } })
    const echo = k.bootstrap(testing.Echo)
    await echo.ping()
    const sent = hToO.stats.callsOut
    const arrived = o.stats.callsIn
    // echo.counter().getCounter().add(): the owner holds the first answer until `open`.
    const a = echo.counter((p) => p.setStart(100n)).getCounter().add((p) => p.setN(1n))
    for (let i = 0; i < 100 && o.stats.callsIn < arrived + 2; i++) await tick()
    // Both calls reached the owner while the first was unanswered: one round trip, the
    // second pipelined on the first there (not held at the host until it answered).
    expect(o.stats.callsIn - arrived).toBe(2)
    expect(hToO.stats.callsOut - sent).toBe(2)
    open()
    expect((await a).getTotal()).toBe(101n)
  })

  it('copies params and results once each; a Return\'s frame is not kept', async () => {
    const [hToO] = createPair({ frames, b: { bootstrap: newEcho() } })
    const f = forwardingServer(hToO.bootstrap(testing.Echo).client)
    const [k] = createPair({ frames, b: { bootstrap: f } })
    const echo = k.bootstrap(testing.Echo)
    await echo.ping()
    const before = { ...f.stats }
    const deferred = hToO.stats.deferredCopies
    const data = new Uint8Array(4096).fill(7)
    const r = await echo.echo((p) => p.setPayload(data))
    expect(r.getPayload().toUint8Array()).toEqual(data)
    expect(f.stats.calls - before.calls).toBe(1)
    expect(f.stats.copies - before.copies).toBe(2)
    expect(f.stats.copiedBytes - before.copiedBytes).toBeGreaterThanOrEqual(2 * data.byteLength)
    expect(f.stats.copiedBytes - before.copiedBytes).toBeLessThan(2 * data.byteLength + 256)
    expect(hToO.stats.deferredCopies).toBe(deferred)
  })

  it('releases the owner\'s export when the last holder lets go', async () => {
    const { echo, o, released } = threeVats(frames)
    const counter = (await echo.counter((p) => p.setStart(0n))).getCounter()
    await counter.add((p) => p.setN(1n))
    const before = o.stats.exports
    counter.client.dispose()
    await released[0]
    expect(o.stats.exports).toBeLessThan(before)
  })

  it('fails calls at once with ERR_CLOSED once the owner\'s connection closed', async () => {
    const { echo, hToO, h } = threeVats(frames)
    await echo.ping()
    hToO.close()
    await expect(echo.ping()).rejects.toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'ERR_CLOSED' })
    // The host's connection to the client carries on.
    expect(h.closed).toBe(false)
  })
})

describe('a forwarder bounded by watch', () => {
  it('fails a call its bound ends, drops that call\'s late Return, and ends the bound of calls that answer', async () => {
    let open!: () => void
    const gate = new Promise<void>((r) => { open = r })
    let held = true
    const owner = new testing.Echo$Server({ async ping() { if (held) { held = false; await gate } }, echo: echoPayload, counter() {} })
    const [hToO] = createPair({ frames: true, b: { bootstrap: owner } })
    const bounds: Array<{ what: string; fail: (e: unknown) => void; ended: boolean }> = []
    const f = forwardingServer(hToO.bootstrap(testing.Echo).client, {
      watch: (what, fail) => {
        const b = { what: what(), fail, ended: false }
        bounds.push(b)
        return () => { b.ended = true }
      },
    })
    const [k] = createPair({ frames: true, b: { bootstrap: f } })
    const echo = k.bootstrap(testing.Echo)
    const first = echo.ping()
    for (let i = 0; i < 100 && bounds.length === 0; i++) await tick()
    expect(bounds).toHaveLength(1)
    bounds[0]!.fail(new RemoteError('ERR_TIMEOUT: the bound ended it', 'failed'))
    await expect(first).rejects.toMatchObject({ remoteCode: 'ERR_TIMEOUT' })
    open()
    await echo.ping()
    expect(bounds).toHaveLength(2)
    expect(bounds[1]!.ended).toBe(true)
    expect(bounds[0]!.ended).toBe(false) // it ended by failing; the late Return did not touch it
    expect(bounds[0]!.what).toMatch(/\.0$/) // interface.method, named for the error
  })
})

describe('Return frames for a forwarded call, as a peer may garble them', () => {
  /** A Return for question `id` of Echo.echo results: `payload`, and a cap table of `caps` senderHosted entries. */
  function returnFrame(id: number, payload: Uint8Array, caps: number): Uint8Array {
    const m = new Message()
    const ret = m.initRoot(RpcMessage).initReturn()
    ret.setAnswerId(id)
    const results = ret.initResults()
    initStructAt(0, testing.Echo_echo$Results, results).setPayload(payload)
    if (caps > 0) {
      const t = results.initCapTable(caps)
      for (let i = 0; i < caps; i++) t.get(i).setSenderHosted(i + 1)
    }
    const out = new Uint8Array(frameSize(m))
    writeFrame(m, out)
    return out
  }

  it('end the call with a typed error or results; the caller\'s connection carries on', async () => {
    const cases = fc.record({
      payload: fc.uint8Array({ maxLength: 64 }),
      caps: fc.integer({ min: 0, max: 3 }),
      flips: fc.array(fc.record({ at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }), { maxLength: 6 }),
    })
    await fc.assert(fc.asyncProperty(cases, async ({ payload, caps, flips }) => {
      // y: the owner's side, fed the frame; its question 0 is the bootstrap, 1 the forwarded call.
      const y = new RpcConnection({ send() {}, close() {} })
      const f = forwardingServer(y.bootstrapClient())
      const [k, x] = createPair({ frames: true, b: { bootstrap: f } })
      const call = k.bootstrap(testing.Echo).echo((p) => p.setPayload(new Uint8Array([1, 2, 3])))
      for (let i = 0; i < 100 && y.stats.questions < 2; i++) await tick()
      expect(y.stats.questions).toBe(2)
      const frame = returnFrame(1, payload, caps)
      for (const { at, bits } of flips) frame[at % frame.byteLength]! ^= bits
      // Aligned in a larger buffer, read in place (borrowed), as off a socket or guest memory.
      const buf = new Uint8Array(frame.byteLength + 16)
      buf.set(frame, 8)
      try {
        const r = readFrame(buf.buffer, 8, frame.byteLength)
        y.receive(r.message, r.borrowed)
      } catch (e) {
        expect(e).toBeInstanceOf(TransportError)
      }
      buf.fill(0xa5) // the frame's memory reused: nothing may read it any more
      // A Return garbled into answering another question leaves this call unanswered, as
      // a peer that never answers would: closing y (a deadline would, too) ends it.
      for (let i = 0; i < 20; i++) await tick()
      y.close()
      // The call ends: results, or a typed failure (the garbled Return, or y closing).
      const got = await call.then((r) => r, (e: unknown) => { expect(e).toBeInstanceOf(TransportError); return undefined })
      // Intact, the results reach the caller as they were, though their frame was reused.
      // (Garbled ones are forwarded as they are: what the caller's typed reader makes of them is its own.)
      if (flips.length === 0 && caps === 0) expect([...got!.getPayload().toUint8Array()]).toEqual([...payload])
      expect(x.closed).toBe(false)
      await k.bootstrap(testing.Echo).ping().catch(() => undefined) // still answered over x
      expect(x.closed).toBe(false)
      k.close()
    }), { numRuns: 150, seed: 77 })
  })
})

describe('a forwarder over a server on this side', () => {
  it('runs the server\'s own typed method on the forwarded params', async () => {
    const local = new Client({ tag: 'local', server: newEcho() })
    const [k] = createPair({ frames: true, b: { bootstrap: forwardingServer(local) } })
    const echo = k.bootstrap(testing.Echo)
    const r = await echo.echo((p) => p.setPayload(new Uint8Array([4, 5])))
    expect([...r.getPayload().toUint8Array()]).toEqual([4, 5])
    expect((await echo.counter((p) => p.setStart(2n)).getCounter().add((p) => p.setN(3n))).getTotal()).toBe(5n)
    await expect(k.bootstrap(testing.Counter).add()).rejects.toMatchObject({ type: 'unimplemented' })
  })
})

describe('bounds', () => {
  it('ends a connection whose peer exports past maxImports with ERR_LIMIT; others carry on', async () => {
    const counters = new testing.Echo$Server({
      ping() {},
      echo: echoPayload,
      counter(_p, r) { r.setCounter(new testing.Counter$Server({ add() {} })) },
    })
    let reason: Error | undefined
    const [a] = createPair({ a: { maxImports: 4, onClose: (e) => { reason = e } }, b: { bootstrap: counters } })
    const echo = a.bootstrap(testing.Echo)
    const held = []
    for (let i = 0; i < 3; i++) held.push((await echo.counter()).getCounter())
    expect(a.stats.imports).toBe(4) // the bootstrap and three counters
    await expect(echo.counter()).rejects.toMatchObject({ code: 'ERR_LIMIT' })
    expect(reason).toBeInstanceOf(LimitError)
    expect((reason as LimitError).code).toBe('ERR_LIMIT')
    const [c] = createPair({ b: { bootstrap: counters } })
    await c.bootstrap(testing.Echo).ping()
  })

  it('bounds a forwarding loop (A forwards to B, which forwards to A) with ERR_LIMIT', async () => {
    let aToB: RpcConnection | undefined
    let bToA: RpcConnection | undefined
    // Without a bound the loop never ends: `check` stops it at 10,000 turns with another
    // error, so the test fails rather than hangs.
    let turns = 0
    const check = (): void => { if (++turns > 10_000) throw new Error('unbounded forwarding loop') }
    const fa = forwardingServer(() => aToB!.bootstrap(testing.Echo).client, { maxInFlight: 8, check })
    const fb = forwardingServer(() => bToA!.bootstrap(testing.Echo).client, { maxInFlight: 8, check })
    ;[aToB] = createPair({ b: { bootstrap: fb } })
    ;[bToA] = createPair({ b: { bootstrap: fa } })
    const [k] = createPair({ b: { bootstrap: fa } })
    await expect(k.bootstrap(testing.Echo).ping()).rejects.toMatchObject({ remoteCode: 'ERR_LIMIT' })
  })
})
