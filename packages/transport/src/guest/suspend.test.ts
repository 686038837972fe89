// Suspension: a guest waiting in recv blocks neither the event loop nor other guests and
// never busy-waits; several suspensions per run; rejections and traps end the guest typed.

import { Script, frames, wat2wasm, watSource } from '../bench/guests.js'
import { runScript, returnOf } from '../../test/guests/helpers.js'
import { gatedEcho, slowEcho } from '../../test/guests/servers.js'
import { testing } from '@ww/schema'
import { newEcho } from '@ww/schema/testing'
import { asyncifyModule } from './asyncify-module.js'
import { runGuest } from './runner.js'
import { jspiAvailable } from './suspend.js'
import { TransportError } from '../errors.js'

const PING = testing.Echo$Methods.ping
const modes = (jspiAvailable() ? ['asyncify', 'jspi'] : ['asyncify']) as ('asyncify' | 'jspi')[]

function pingLoop(n: number): Script {
  const s = new Script()
  s.send(frames.bootstrap(0)).recv()
  const call = s.place(frames.call(1, { question: 0 }, PING))
  const fin = s.place(frames.finish(1))
  s.setCursor(s.logBase)
  const top = s.here
  return s.send(call).recv().send(fin).setCursor(s.logBase).loop(n, top)
}

describe.each(modes)('suspension: %s', (suspension) => {
  test('a guest waiting on a slow answer blocks neither the event loop nor another guest, and does not busy-wait', async () => {
    const slow = new Script()
    slow.send(frames.bootstrap(0)).recv()
    slow.send(frames.call(1, { question: 0 }, PING)).recv()
    // The slow answer is released only after the other guest has finished and the event loop
    // has turned ten more times since the slow guest began to wait: if waiting held the
    // thread, neither could happen and the test would hang (caught by the deadlock bound).
    const slowServer = gatedEcho()
    const turns = (n: number): Promise<void> => new Promise((done) => {
      const tick = (): void => { if (--n <= 0) done(); else setImmediate(tick) }
      setImmediate(tick)
    })
    const slowRun = runScript(slow, { bootstrap: slowServer, suspension })
    await slowServer.called
    const b = await runScript(pingLoop(2000), { bootstrap: newEcho(), suspension })
    await turns(10)
    slowServer.release()
    const a = await slowRun
    expect(a.exit.error).toBeUndefined()
    expect(b.exit.error).toBeUndefined()
    expect(b.exports.frames!()).toBe(2001)
    expect(returnOf(a.received[1]!).answerId).toBe(1)
    // One wait, one suspension: recv was called once for the slow answer, not in a loop.
    expect(a.exit.stats.waits).toBe(1)
    expect(a.exit.suspensions).toBe(1)
    expect(b.exit.suspensions).toBe(0)
  }, 60_000) // a deadlock bound, not a speed one

  test('several suspensions in one run, each resumed with its frame', async () => {
    const s = new Script()
    s.send(frames.bootstrap(0)).recv()
    for (let q = 1; q <= 4; q++) s.send(frames.call(q, { question: 0 }, PING)).recv()
    const { exit, received } = await runScript(s, { bootstrap: slowEcho(5), suspension })
    expect(exit.error).toBeUndefined()
    expect(exit.suspensions).toBe(4)
    expect(received.map((m) => returnOf(m).answerId)).toEqual([0, 1, 2, 3, 4])
  })

  test('a trap after resuming ends the guest with ERR_GUEST_TRAP', async () => {
    const s = new Script()
    s.send(frames.bootstrap(0)).recv()
    s.send(frames.call(1, { question: 0 }, PING)).recv().trap()
    const { exit } = await runScript(s, { bootstrap: slowEcho(5), suspension, processId: 3 })
    expect(exit.suspensions).toBe(1)
    expect(exit.error?.code).toBe('ERR_GUEST_TRAP')
    expect(exit.error?.processId).toBe(3)
  })

  test('aborting a waiting guest kills it with ERR_KILLED; its pending answer is dropped', async () => {
    const s = new Script()
    s.send(frames.bootstrap(0)).recv()
    s.send(frames.call(1, { question: 0 }, PING)).recv()
    const ac = new AbortController()
    // The answer never comes; the host aborts once the guest is waiting for it.
    const server = new testing.Echo$Server({
      ping: () => { setTimeout(() => ac.abort(new Error('shutting down')), 10); return new Promise<void>(() => {}) },
      echo() {}, counter() {},
    })
    const { exit } = await runScript(s, { bootstrap: server, suspension, processId: 'p', signal: ac.signal })
    expect(exit.stats.waits).toBe(1)
    expect(exit.error?.code).toBe('ERR_KILLED')
    expect(exit.error?.reason).toMatch(/shutting down/)
    expect(exit.error?.processId).toBe('p')
  })

  test('suspending() makes any import wait; a rejection ends the guest with that typed error', async () => {
    const plain = await wat2wasm(watSource('sleep.wat'), 'sleep.wat')
    const wasm = suspension === 'asyncify' ? await asyncifyModule(plain, { imports: ['env.sleep'] }) : plain
    const slept: number[] = []
    const ok = await runGuest(wasm, {
      suspension,
      imports: (g) => ({ env: { sleep: g.suspending((ms) => new Promise((r) => setTimeout(() => { slept.push(ms); r(ms * 10) }, ms))) } }),
    })
    expect(ok.error).toBeUndefined()
    expect(ok.result).toBe(130)
    expect(slept).toEqual([5, 1, 7])
    expect(ok.suspensions).toBe(3)

    const bad = await runGuest(wasm, {
      suspension, processId: 9,
      imports: (g) => ({ env: { sleep: g.suspending((ms) => ms === 1 ? Promise.reject(new TransportError('ERR_DENIED', 'no sleeping')) : ms) } }),
    })
    expect(bad.error?.code).toBe('ERR_DENIED')
    expect(bad.error?.processId).toBe(9)
  })
})

test('asyncify: a guest that must wait but is not instrumented ends with ERR_GUEST_ABI', async () => {
  const plain = await wat2wasm(watSource('sleep.wat'), 'sleep.wat')
  // A compiled Module is run as it is (runGuest instruments only bytes).
  const exit = await runGuest(await WebAssembly.compile(plain as Uint8Array<ArrayBuffer>), {
    suspension: 'asyncify',
    imports: (g) => ({ env: { sleep: g.suspending(() => Promise.resolve(1)) } }),
  })
  expect(exit.error?.code).toBe('ERR_GUEST_ABI')
})
