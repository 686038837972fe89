// A call's params capabilities belong to the call: the import handles the transport made
// for them are disposed once the server's method settled (after its Return), so a server
// that ignores a capability, or fails before taking it, no longer keeps the caller's
// export alive until the connection closes. A server keeps one with retainClient.
//
// The calls use Echo.echo with its params' pointer 0 carrying a Counter capability in
// place of Data (the transport reads pointers, not types), and read it the same way.

import { getInterfaceClient, setInterfaceClient, type Client } from 'capnp-ts'
import { testing } from '@ww/schema'
import { createPair } from '../pair.js'
import { newCounter } from '@ww/schema/testing'
import { CapabilityReleasedError } from '../errors.js'
import { onReleased } from './release.js'
import { retainClient } from './imports.js'

const tick = async (n = 3): Promise<void> => { for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r)) }

type EchoImpl = (p: testing.Echo_echo$Params, r: testing.Echo_echo$Results) => void | Promise<void>

/** Caller `a` with a Counter whose releases are counted; `b` serves Echo.echo with `impl`. */
function setup(impl: EchoImpl, frames = false) {
  const counter = newCounter(0n)
  let released = 0
  onReleased(counter, () => { released++ })
  const echo = new testing.Echo$Server({ ping() {}, echo: impl, counter(p, r) { r.setCounter(newCounter(p.getStart())) } })
  const [a, b] = createPair({ frames, b: { bootstrap: echo } })
  const e = a.bootstrap(testing.Echo)
  /** Echo.echo with the counter (or `cap`) as its params' pointer 0. */
  const send = (cap: Client | testing.Counter$Client | testing.Counter$Server = counter) =>
    e.echo((p) => setInterfaceClient(0, cap, p))
  return { a, b, e, send, counter, released: () => released }
}

const counterIn = (p: testing.Echo_echo$Params): testing.Counter$Client => new testing.Counter.Client(getInterfaceClient(0, p))

describe.each([false, true])('params capabilities (frames: %s)', (frames) => {
  it('a method that ignores one: released right after the Return, not at close', async () => {
    const s = setup(() => {}, frames)
    await s.send()
    await tick()
    expect(s.released()).toBe(1)
    expect(s.a.stats.exports).toBe(0)
    expect(s.b.stats.imports).toBe(0)
    expect(s.a.closed).toBe(false)
    // Sent again: exported again, released again (nothing lingers per call).
    await s.send()
    await tick()
    expect(s.b.stats.imports).toBe(0)
    expect(s.a.stats.exports).toBe(0)
    s.a.close()
  })

  it('a method that throws: released too', async () => {
    const s = setup((p) => { if (p) throw new Error('refused') }, frames)
    await expect(s.send()).rejects.toThrow(/refused/)
    await tick()
    expect(s.released()).toBe(1)
    expect(s.b.stats.imports).toBe(0)
    s.a.close()
  })

  it('an async method: usable after its await, released when its promise settles', async () => {
    let go!: () => void
    const gate = new Promise<void>((r) => { go = r })
    let total = -1n
    const s = setup(async (p) => {
      const c = counterIn(p) // read params before the first await
      await gate
      total = (await c.add((q) => q.setN(5n))).getTotal()
    }, frames)
    const call = s.send()
    await tick()
    expect(s.b.stats.imports).toBe(1)
    expect(s.released()).toBe(0)
    go()
    await call
    await tick()
    expect(total).toBe(5n)
    expect(s.released()).toBe(1)
    expect(s.b.stats.imports).toBe(0)
    s.a.close()
  })

  it('an async method that rejects: released when it rejects', async () => {
    const s = setup(async () => { await Promise.resolve(); throw new Error('later') }, frames)
    await expect(s.send()).rejects.toThrow(/later/)
    await tick()
    expect(s.released()).toBe(1)
    s.a.close()
  })

  it('kept with retainClient: usable after the method returned, released when the server disposes it', async () => {
    let kept: testing.Counter$Client | undefined
    const s = setup((p) => { kept = new testing.Counter.Client(retainClient(getInterfaceClient(0, p))) }, frames)
    await s.send()
    await tick()
    expect(s.released()).toBe(0)
    expect(s.b.stats.imports).toBe(1)
    expect((await kept!.add((q) => q.setN(2n))).getTotal()).toBe(2n)
    kept!.client.dispose()
    await tick()
    expect(s.released()).toBe(1)
    expect(s.b.stats.imports).toBe(0)
    s.a.close()
  })

  it('kept with retainClient on a typed client: the same class, counted the same way', async () => {
    let kept: testing.Counter$Client | undefined
    const s = setup((p) => { kept = retainClient(counterIn(p)) }, frames)
    await s.send()
    await tick()
    expect(kept).toBeInstanceOf(testing.Counter.Client)
    expect((await kept!.add((q) => q.setN(4n))).getTotal()).toBe(4n)
    expect(s.released()).toBe(0)
    kept!.dispose()
    await tick()
    expect(s.released()).toBe(1)
    s.a.close()
  })

  it('stored without retainClient: the handle is the call\'s, and fails ERR_RELEASED afterwards', async () => {
    let stored: testing.Counter$Client | undefined
    const s = setup((p) => { stored = counterIn(p) }, frames)
    await s.send()
    await tick()
    expect(s.released()).toBe(1)
    await expect(stored!.add((q) => q.setN(1n))).rejects.toBeInstanceOf(CapabilityReleasedError)
    s.a.close()
  })

  it('the same export in two calls: released once both have settled, not when the first has', async () => {
    const gates: Array<() => void> = []
    const s = setup(() => new Promise<void>((r) => { gates.push(r) }), frames)
    const first = s.send()
    const second = s.send()
    await tick()
    expect(gates).toHaveLength(2)
    gates[1]!()
    await second
    await tick()
    expect(s.released()).toBe(0)
    expect(s.b.stats.imports).toBe(1)
    gates[0]!()
    await first
    await tick()
    expect(s.released()).toBe(1)
    expect(s.b.stats.imports).toBe(0)
    s.a.close()
  })

  it('a promised capability in params (pipelined on the server\'s own answer) is not disposed with the call', async () => {
    let seen = -1n
    const s = setup(async (p) => { seen = (await counterIn(p).add((q) => q.setN(1n))).getTotal() }, frames)
    // Pipelined: the Counter of a call still in flight, sent back to the server that makes it.
    const mine = s.e.counter((p) => p.setStart(10n)).getCounter()
    await s.send(mine)
    expect(seen).toBe(11n)
    // The server's own export (the pipelined cap's target) is still ours to use.
    expect((await mine.add((q) => q.setN(1n))).getTotal()).toBe(12n)
    // Sent back once resolved (receiverHosted): still not disposed with the call.
    await s.send(mine)
    expect((await mine.add((q) => q.setN(1n))).getTotal()).toBe(14n)
    s.a.close()
  })

  it('capabilities in the results are not affected', async () => {
    const made = newCounter(100n)
    let madeReleased = 0
    onReleased(made, () => { madeReleased++ })
    const s = setup((_p, r) => { setInterfaceClient(0, made, r) }, frames)
    const res = await s.send()
    const got = new testing.Counter.Client(getInterfaceClient(0, res))
    await tick()
    expect(s.released()).toBe(1) // the params' cap went
    expect(madeReleased).toBe(0) // the results' did not
    expect((await got.add((q) => q.setN(1n))).getTotal()).toBe(101n)
    got.client.dispose()
    await tick()
    expect(madeReleased).toBe(1)
    s.a.close()
  })
})
