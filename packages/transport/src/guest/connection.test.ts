import { Script, frames, frameOf } from '../bench/guests.js'
import { runScript, returnOf } from '../../test/guests/helpers.js'
import { testing } from '@ww/schema'
import { newEcho } from '@ww/schema/testing'
import { Message as RpcMessage } from 'capnp-ts/src/std/rpc.capnp.js'
import { ViewExpiredError } from '../errors.js'
import { readFrame } from '../frame.js'
import { GuestConnection } from './connection.js'

const { ping: PING, echo: ECHO, counter: COUNTER } = testing.Echo$Methods
const { add: ADD } = testing.Counter$Methods
const enc = new TextEncoder()

function callsScript(): Script {
  const s = new Script()
  s.send(frames.bootstrap(0))
  s.send(frames.call(1, { question: 0 }, PING))
  s.send(frames.call(2, { question: 0 }, ECHO, (p: testing.Echo_echo$Params) => p.setPayload(enc.encode('hello guest'))))
  s.send(frames.call(3, { question: 0 }, COUNTER, (p: testing.Echo_counter$Params) => p.setStart(5n)))
  // Pipelined: add on the counter question 3 has not been answered to (from the guest's view).
  s.send(frames.call(4, { question: 3, transform: [0] }, ADD, (p: testing.Counter_add$Params) => p.setN(7n)))
  for (let i = 0; i < 5; i++) s.recv()
  s.poll()
  return s
}

describe.each(['asyncify', 'auto'] as const)('guest memory transport (%s)', (suspension) => {
  test('bootstrap, ping, echo, counter and a pipelined add; replies in order', async () => {
    const { exit, received, exports } = await runScript(callsScript(), { bootstrap: newEcho(), processId: 7, suspension })
    expect(exit.error).toBeUndefined()
    expect(exit.ok).toBe(true)
    expect(exit.result).toBe(5)
    expect(received.map((m) => returnOf(m).answerId)).toEqual([0, 1, 2, 3, 4])
    expect(new TextDecoder().decode(returnOf(received[2]!, testing.Echo_echo$Results).results!.getPayload().toUint8Array())).toBe('hello guest')
    expect(returnOf(received[4]!, testing.Counter_add$Results).results!.getTotal()).toBe(12n)
    expect(exports.empty_polls!()).toBe(1)
    expect(exit.stats.framesIn).toBe(5)
    expect(exit.stats.framesOut).toBe(5)
    expect(exit.stats.copiedFrames).toBe(0)
  })

  test('copying transport: same answers, every frame copied', async () => {
    const { exit, received } = await runScript(callsScript(), { bootstrap: newEcho(), suspension, transport: 'copying' })
    expect(exit.ok).toBe(true)
    expect(returnOf(received[4]!, testing.Counter_add$Results).results!.getTotal()).toBe(12n)
    expect(exit.stats.copiedFrames).toBe(10)
  })
})

test('several frames queued are delivered in order, one per recv; too small a buffer gets -needed and keeps it', async () => {
  const s = new Script()
  s.send(frames.bootstrap(0))
  for (let q = 1; q <= 6; q++) s.send(frames.call(q, { question: 0 }, PING))
  s.recv(16) // too small: -needed, then the retry with that much
  for (let q = 1; q <= 6; q++) s.recv()
  s.poll()
  const { exit, received, exports } = await runScript(s, { bootstrap: newEcho() })
  expect(exit.ok).toBe(true)
  expect(received.map((m) => returnOf(m).answerId)).toEqual([0, 1, 2, 3, 4, 5, 6])
  expect(exports.needed!()).toBeGreaterThan(16)
  expect(exports.empty_polls!()).toBe(1)
})

test('memory.grow between send and recv: the reply lands in the new pages', async () => {
  const s = new Script()
  s.send(frames.bootstrap(0))
  s.send(frames.call(1, { question: 0 }, ECHO, (p: testing.Echo_echo$Params) => p.setPayload(new Uint8Array(3000).fill(9))))
  const firstNew = Math.ceil((s.logBase + s.logBytes) / 65536) * 65536 // build() sizes memory to the log's end
  s.recv()
  s.grow(2)
  s.setCursor(firstNew) // only inside memory after the grow: the host must see the new buffer
  s.recv(65536)
  const g = new GuestConnection({ bootstrap: newEcho(), suspension: 'asyncify' })
  const { instance } = await WebAssembly.instantiate((await s.build()) as Uint8Array<ArrayBuffer>, g.imports())
  g.attach(instance)
  const before = g.buffer()
  const sizeBefore = before.byteLength
  await g.run()
  const after = g.buffer()
  expect(after).not.toBe(before)
  expect(before.byteLength).toBe(0) // detached by the grow
  expect(after.byteLength).toBe(sizeBefore + 2 * 65536)
  expect(firstNew).toBe(sizeBefore)
  const len = new DataView(after).getUint32(firstNew, true)
  expect(len).toBeGreaterThan(3000)
  const ret = readFrame(after, firstNew + 8, len).message.getRoot(RpcMessage)
  expect(returnOf(ret, testing.Echo_echo$Results).results!.getPayload().toUint8Array()).toEqual(new Uint8Array(3000).fill(9))
  expect(g.stats.framesOut).toBe(2)
})

test('zero copy: params are read in guest memory during dispatch; afterwards the host holds no view', async () => {
  let memory: ArrayBuffer | undefined
  let seen: { sameBuffer: boolean; bytes: number } | undefined
  let kept: testing.Echo_echo$Params | undefined
  const server = new testing.Echo$Server({
    ping() {},
    counter: () => {},
    echo(p, r) {
      const data = p.getPayload().toUint8Array()
      seen = { sameBuffer: data.buffer === memory, bytes: data.byteLength }
      kept = p
      r.initPayload(1)
    },
  })
  const s = new Script()
  s.send(frames.bootstrap(0))
  s.send(frames.call(1, { question: 0 }, ECHO, (p: testing.Echo_echo$Params) => p.setPayload(new Uint8Array(4096).fill(3))))
  s.recv(); s.recv()
  const wasm = await s.build()
  const g = new GuestConnection({ bootstrap: server, suspension: 'asyncify' })
  const { instance } = await WebAssembly.instantiate(wasm as Uint8Array<ArrayBuffer>, g.imports())
  g.attach(instance)
  memory = g.buffer()
  await g.run()
  expect(seen).toEqual({ sameBuffer: true, bytes: 4096 })
  expect(() => kept!.getPayload()).toThrow(ViewExpiredError)
  expect(g.stats.copiedFrames).toBe(0)
})

test('recv returns 0 once the connection is closed and nothing is queued (no wait forever)', async () => {
  const s = new Script()
  s.send(frames.bootstrap(0))
  s.recv()
  s.send(frameOf((r) => r.initAbort().setReason('guest is done')))
  s.recv()
  s.recv()
  const { exit, exports, received } = await runScript(s, { bootstrap: newEcho(), suspension: 'asyncify' })
  expect(exit.ok).toBe(true)
  expect(received.length).toBe(1)
  expect(exports.closed!()).toBe(1)
  expect(exit.stats.waits).toBe(0)
})
