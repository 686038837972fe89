// Under asyncify the dispatcher steps guests itself: a wait parks the guest (it unwinds),
// whatever makes it ready queues it, and its slice rewinds it synchronously — no promise
// per message. These pin what that path must still respect: a process queued to run is
// not hibernated under it, a kill between wake-up and slice wins, mailbox bounds hold,
// the cached view of a guest's memory follows a grow, and a message handed straight into
// a waiting receiver's buffer is one it would have got through its mailbox.
import { Scheduler, type ProcModule } from '../src/index.js'
import * as G from '../src/bench/guests.js'
import { until } from './until.js'

const u32s = (...xs: number[]): Uint8Array => new Uint8Array(new Uint32Array(xs).buffer)

/**
 * Receives one message (anything) into its first page, grows memory by a page, receives
 * a second message into the new page and sends it back to its sender from there; exits
 * with its length.
 */
const GROW_THEN_ECHO = `(module ${G.PRELUDE}
  (func (export "ww_main") (result i32) (local $n i32)
    (drop (call $recv (i32.const 4096) (i32.const 16)))
    (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
    (local.set $n (call $recv (i32.const 65552) (i32.const 16)))
    (if (call $send (call $sender) (i32.const 65552) (local.get $n)) (then unreachable))
    (local.get $n)))`

/**
 * Waits in recv with room for 4 bytes; expects a longer message (-length), takes it with
 * a larger buffer and exits with first * 1000 + second * 10 + its first byte.
 */
const SMALL_THEN_LARGE = `(module ${G.PRELUDE}
  (func (export "ww_main") (result i32) (local $a i32) (local $b i32)
    (local.set $a (call $recv (i32.const 4096) (i32.const 4)))
    (local.set $b (call $recv (i32.const 4096) (i32.const 64)))
    (i32.add (i32.add (i32.mul (local.get $a) (i32.const 1000)) (i32.mul (local.get $b) (i32.const 10)))
      (i32.load8_u (i32.const 4096)))))`

let s: Scheduler
const compiled = new Map<string, ProcModule>()
async function mod(src: string): Promise<ProcModule> {
  let m = compiled.get(src)
  if (!m) compiled.set(src, (m = await s.compile(await G.wat(src))))
  return m
}

beforeEach(() => { s = new Scheduler({ suspension: 'asyncify' }); compiled.clear() })
afterEach(() => s.close())

test('a process woken by a message is not hibernated before it has run; once it waits again it is', async () => {
  const probe = s.spawnNative()
  const echo = s.spawn(await mod(G.ECHO), { parent: probe })
  await until(() => echo.state === 'waiting')
  const sent = probe.sendTo(echo, new Uint8Array([1, 2])) // delivered now: there is room
  // Queued with its wake-up (the message goes into its memory when it runs): not movable.
  expect(echo.state).toBe('running')
  expect(s.hibernate(echo)).toBe(false)
  await sent
  expect([...(await probe.receive()).bytes]).toEqual([1, 2])
  await until(() => echo.state === 'waiting')
  expect(s.hibernate(echo)).toBe(true)
  await probe.sendTo(echo, new Uint8Array([3]))
  expect([...(await probe.receive()).bytes]).toEqual([3])
})

test('a process killed after a message woke it, before its slice, never runs again', async () => {
  const probe = s.spawnNative()
  const echo = s.spawn(await mod(G.ECHO), { parent: probe })
  await until(() => echo.state === 'waiting')
  const slices = echo.info().slices
  const sent = probe.sendTo(echo, new Uint8Array([9]))
  expect(echo.state).toBe('running')
  await echo.kill()
  await sent
  expect(await echo.wait()).toEqual({ kind: 'killed', by: { kind: 'host' } })
  // A process spawned after it runs to its end: the dispatcher has passed the dead one's turn.
  const after = s.spawn(await mod(G.EXIT_WITH_FIRST_BYTE))
  after.trySend(new Uint8Array([4]))
  expect(await after.wait()).toEqual({ kind: 'exited', code: 4 })
  expect(echo.info().slices).toBe(slices)
  expect(probe.info().mailbox).toBe(0)
})

test('two guests ping-pong through mailboxes of one message each', async () => {
  const echo = s.spawn(await mod(G.ECHO), { mailbox: 1 })
  const pinger = s.spawn(await mod(G.PINGER), { mailbox: 1 })
  pinger.trySend(u32s(500), { cap: echo })
  expect(await pinger.wait()).toEqual({ kind: 'exited', code: 0 })
  expect(await echo.wait()).toEqual({ kind: 'exited', code: 500 })
  // Messages handed straight into a waiting receiver are counted like any other.
  expect(echo.info()).toMatchObject({ sent: 500, received: 501 })
  expect(pinger.info()).toMatchObject({ sent: 501, received: 501 })
})

test('a guest\'s message longer than the buffer its receiver waits with stays queued: recv says -length, a larger buffer takes it', async () => {
  const receiver = s.spawn(await mod(SMALL_THEN_LARGE))
  await until(() => receiver.state === 'waiting')
  const relay = s.spawn(await mod(G.RELAY)) // sends its first message's bytes on to the capability it carries
  relay.trySend(new Uint8Array([7, 1, 2, 3, 4, 5, 6, 8]), { cap: receiver })
  expect(await relay.wait()).toEqual({ kind: 'exited', code: 0 }) // send answered 0, on handle 0
  expect(await receiver.wait()).toEqual({ kind: 'exited', code: -8000 + 80 + 7 })
})

test('a guest receives into, and sends from, memory it grew after its first wait', async () => {
  const probe = s.spawnNative()
  const g = s.spawn(await mod(GROW_THEN_ECHO), { parent: probe })
  await probe.sendTo(g, new Uint8Array([0]))
  await probe.sendTo(g, new Uint8Array([5, 6, 7]))
  expect([...(await probe.receive()).bytes]).toEqual([5, 6, 7])
  expect(await g.wait()).toEqual({ kind: 'exited', code: 3 })
})

test('a guest that receives into memory past its end after a wait dies alone with ERR_GUEST_MEMORY', async () => {
  // Waits once (the view of its one page is kept), then receives at the end of that page.
  const bad = s.spawn(await mod(`(module ${G.PRELUDE}
    (func (export "ww_main")
      (drop (call $recv (i32.const 4096) (i32.const 16)))
      (drop (call $recv (i32.const 65530) (i32.const 100)))))`))
  const good = s.spawn(await mod(G.EXIT_WITH_FIRST_BYTE))
  bad.trySend(new Uint8Array([1]))
  good.trySend(new Uint8Array([2]))
  expect(await bad.wait()).toMatchObject({ kind: 'trapped', code: 'ERR_GUEST_MEMORY' })
  expect(await good.wait()).toEqual({ kind: 'exited', code: 2 })
})
