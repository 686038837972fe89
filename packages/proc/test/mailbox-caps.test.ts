// No ambient authority between processes: a guest sends only on a handle in its own
// table of mailbox capabilities (ww_proc.send(h, …)). The table starts with its parent's
// mailbox (a parent gets each child's); more come with messages (a capability a message
// carries, and a way back to a message's sender). A pid names nothing a guest can use.
import { NativeProcess, PROC_ERRNO, Scheduler, type ProcModule, type ProcessHandle } from '../src/index.js'
import * as G from '../src/bench/guests.js'

/**
 * Takes each i32 of its first message as a handle and tries `send` and `send_cap` (the
 * same handle as the capability) with it; exits with how many were not NOT_CAPABLE.
 */
const TRY_SEND = `(module ${G.PRELUDE}
  (func $try (param $r i32) (result i32) (i32.ne (local.get $r) (i32.const ${PROC_ERRNO.NOT_CAPABLE})))
  (func (export "ww_main") (result i32) (local $n i32) (local $i i32) (local $h i32) (local $ok i32)
    (local.set $n (i32.shr_u (call $recv (i32.const 4096) (i32.const 1024)) (i32.const 2)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $h (i32.load (i32.add (i32.const 4096) (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $ok (i32.add (local.get $ok) (call $try (call $send (local.get $h) (i32.const 8192) (i32.const 4)))))
      (local.set $ok (i32.add (local.get $ok) (call $try (call $send_cap (local.get $h) (i32.const 8192) (i32.const 4) (local.get $h)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $ok)))`

/** A child: writes [7] to its parent, then exits with the first byte of the answer. */
const CHILD = `(module ${G.PRELUDE}
  (func (export "ww_main") (result i32)
    (i32.store8 (i32.const 8192) (i32.const 7))
    (if (call $send (call $parent) (i32.const 8192) (i32.const 1)) (then unreachable))
    (drop (call $recv (i32.const 4096) (i32.const 16)))
    (i32.load8_u (i32.const 4096))))`

/**
 * A parent: answers its child's message with the byte + 1 on the handle `sender` gives;
 * waits for one more message; exits with that handle * 10 + 1 + parent() (a root: -1).
 */
const PARENT = `(module ${G.PRELUDE}
  (func (export "ww_main") (result i32) (local $h i32)
    (drop (call $recv (i32.const 4096) (i32.const 16)))
    (local.set $h (call $sender))
    (i32.store8 (i32.const 4096) (i32.add (i32.load8_u (i32.const 4096)) (i32.const 1)))
    (if (call $send (local.get $h) (i32.const 4096) (i32.const 1)) (then unreachable))
    (drop (call $recv (i32.const 4096) (i32.const 16)))
    (i32.add (i32.mul (local.get $h) (i32.const 10)) (i32.add (i32.const 1) (call $parent)))))`

/** Keeps the capability its first message carries; passes its second message's bytes there; exits with the result * 10 + the handle. */
const KEEPER = `(module ${G.PRELUDE}
  (func (export "ww_main") (result i32) (local $h i32) (local $n i32)
    (drop (call $recv (i32.const 4096) (i32.const 16)))
    (local.set $h (call $cap))
    (local.set $n (call $recv (i32.const 4096) (i32.const 16)))
    (i32.add (i32.mul (call $send (local.get $h) (i32.const 4096) (local.get $n)) (i32.const 10)) (local.get $h))))`

/** Drops the capability its first message carries, then tries it: exits with drop * 100 + send * 10 + drop again. */
const DROPPER = `(module ${G.PRELUDE}
  (func (export "ww_main") (result i32) (local $h i32) (local $d i32)
    (drop (call $recv (i32.const 4096) (i32.const 16)))
    (local.set $h (call $cap))
    (local.set $d (call $drop (local.get $h)))
    (i32.add (i32.mul (local.get $d) (i32.const 100))
      (i32.add (i32.mul (call $send (local.get $h) (i32.const 4096) (i32.const 1)) (i32.const 10)) (call $drop (local.get $h))))))`

/** Sends from outside its memory on the handle its first message carries. */
const BAD_POINTER = `(module ${G.PRELUDE}
  (func (export "ww_main") (drop (call $go))) (func $go (result i32)
    (drop (call $recv (i32.const 4096) (i32.const 16)))
    (call $send (call $cap) (i32.const 65530) (i32.const 100))))`

const i32s = (...xs: number[]): Uint8Array => new Uint8Array(new Int32Array(xs).buffer)
let s: Scheduler
const mods = new Map<string, ProcModule>()
async function mod(src: string): Promise<ProcModule> {
  let m = mods.get(src)
  if (!m) mods.set(src, (m = await s.compile(await G.wat(src))))
  return m
}
const idle = async (h: ProcessHandle): Promise<void> => { while (h.state !== 'waiting') await new Promise((r) => setImmediate(r)) }

beforeEach(() => { s = new Scheduler() })
afterEach(() => s.close())

test('a guest without a mailbox capability cannot reach another process, whatever number it tries', async () => {
  const bystander = s.spawnNative({ name: 'bystander' })
  const victim = s.spawn(await mod(G.EXIT_WITH_FIRST_BYTE), { name: 'victim' })
  const forger = s.spawn(await mod(TRY_SEND), { name: 'forger' }) // a root: its table is empty
  const tries = [victim.pid, bystander.pid, forger.pid, 0, 1, 2, 3, 4, 5, -1, 4095, 4096, 0x7fffffff, -0x80000000]
  await forger.send(i32s(...tries))
  expect(await forger.wait()).toEqual({ kind: 'exited', code: 0 })
  expect(forger.info().denials).toEqual({ 'ww_proc.send': tries.length, 'ww_proc.send_cap': tries.length })
  // Nothing arrived anywhere; the victim is untouched and still takes its host's message.
  expect([victim.info().received, bystander.info().received]).toEqual([0, 0])
  await idle(victim)
  await victim.send(new Uint8Array([9]))
  expect(await victim.wait()).toEqual({ kind: 'exited', code: 9 })
})

test('a child holds its parent\'s mailbox and nothing else: handle 0 reaches the parent, every other number fails', async () => {
  const parent = s.spawnNative({ name: 'parent' })
  const victim = s.spawn(await mod(G.EXIT_WITH_FIRST_BYTE), { name: 'victim' })
  const child = s.spawn(await mod(TRY_SEND), { parent })
  await child.send(i32s(0, victim.pid, parent.pid, child.pid, 1, 2, -1))
  expect(await child.wait()).toEqual({ kind: 'exited', code: 2 }) // send and send_cap on handle 0
  const got = [await parent.receive(), await parent.receive()]
  expect(got.map((m) => [m.from, m.cap])).toEqual([[child.pid, 0], [child.pid, parent.pid]])
  expect(child.info().denials).toEqual({ 'ww_proc.send': 6, 'ww_proc.send_cap': 6 })
  expect(victim.info().received).toBe(0)
  await victim.kill()
})

test('parent and child reach each other through the tree; the parent answers on the handle it got at spawn', async () => {
  const parent = s.spawn(await mod(PARENT))
  const child = s.spawn(await mod(CHILD), { parent })
  expect(await child.wait()).toEqual({ kind: 'exited', code: 8 })
  await parent.send(new Uint8Array(1))
  // Its handle 0 (granted when the child was spawned, the same one `sender` gives); a root has no parent (-1).
  expect(await parent.wait()).toEqual({ kind: 'exited', code: 0 })
})

test('a capability passed in a message lands in the receiver\'s own table and reaches what it names', async () => {
  const b = s.spawn(await mod(G.EXIT_WITH_FIRST_BYTE), { name: 'b' })
  const c = s.spawn(await mod(G.RELAY), { name: 'c' })
  const a = s.spawn(await mod(G.INTRODUCER), { name: 'a' })
  await a.send(new Uint8Array(1), { cap: b })
  await a.send(new Uint8Array(1), { cap: c })
  // a held b as 0 and c as 1; c, which held nothing, got b as its handle 0 and wrote to it.
  expect(await a.wait()).toEqual({ kind: 'exited', code: 1 })
  expect(await c.wait()).toEqual({ kind: 'exited', code: 0 })
  expect(await b.wait()).toEqual({ kind: 'exited', code: 42 })
})

test('handles outlive hibernation: a process woken by a message sends on the one it held', async () => {
  await using hs = new Scheduler({ suspension: 'asyncify' }) // hibernation is asyncify's (a JSPI stack cannot be saved)
  const target = hs.spawnNative()
  const keeper = hs.spawn(await hs.compile(await G.wat(KEEPER)))
  await keeper.send(new Uint8Array(1), { cap: target })
  await idle(keeper)
  expect(hs.hibernate(keeper)).toBe(true) // parked in its second recv
  expect(keeper.info().hibernatedBytes).toBeGreaterThan(0)
  await keeper.send(new Uint8Array([6, 7]))
  expect(await keeper.wait()).toEqual({ kind: 'exited', code: 0 })
  const m = await target.receive()
  expect([[...m.bytes], m.from]).toEqual([[6, 7], keeper.pid])
})

test('a dropped handle is no capability any more', async () => {
  const target = s.spawnNative()
  const d = s.spawn(await mod(DROPPER))
  await d.send(new Uint8Array(1), { cap: target })
  const N = PROC_ERRNO.NOT_CAPABLE
  expect(await d.wait()).toEqual({ kind: 'exited', code: 0 * 100 + N * 10 + N })
  expect(target.info().received).toBe(0)
})

test('a send from outside memory on a held handle ends the sender alone (ERR_GUEST_MEMORY); nothing is delivered', async () => {
  const target = s.spawn(await mod(G.EXIT_WITH_FIRST_BYTE))
  const bad = s.spawn(await mod(BAD_POINTER))
  await bad.send(new Uint8Array(1), { cap: target })
  expect(await bad.wait()).toMatchObject({ kind: 'trapped', code: 'ERR_GUEST_MEMORY' })
  expect(target.info().received).toBe(0)
  await target.send(new Uint8Array([5]))
  expect(await target.wait()).toEqual({ kind: 'exited', code: 5 })
})

test('the host passes only handles it holds, of this scheduler', async () => {
  const other = new Scheduler()
  try {
    const foreign = other.spawnNative()
    const h = s.spawnNative()
    expect(() => h.trySend(new Uint8Array(1), { cap: foreign })).toThrow(expect.objectContaining({ code: 'ERR_BAD_MODULE' }) as Error)
    await expect(h.send(new Uint8Array(1), { cap: foreign })).rejects.toMatchObject({ code: 'ERR_BAD_MODULE' })
    expect(h.info().received).toBe(0)
    expect(h).toBeInstanceOf(NativeProcess)
  } finally {
    await other.close()
  }
})
