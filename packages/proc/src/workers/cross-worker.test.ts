// Messages between guests on different workers, through the shared rings: order kept in
// both directions across ring and port (large messages) and with capabilities; a receiver
// killed with messages queued for it; a pool closed with messages queued. (Runs the built
// worker: build first.)
import { WorkerPool } from './pool.js'
import * as G from '../bench/guests.js'

const u32 = (...xs: number[]): Uint8Array => new Uint8Array(new Uint32Array(xs).buffer)

/**
 * Burst partner: A gets [n] from the host carrying B's mailbox and introduces itself to B
 * with [n]; B learns A from that message's sender. Then each sends n numbered messages in
 * bursts of 8 and reads the other's after each burst, checking the numbers come in order.
 * Message i is 20,000 bytes when i % 7 == 3 (too large for a ring: it goes by port), else
 * 4; it carries the receiver's own mailbox when i % 5 == 0. Exits with n, or 100000 + the
 * number expected when another came, or 200000 + it when the capability was not as sent.
 */
const BURST = `(module ${G.PRELUDE}
  (func $len (param $i i32) (result i32)
    (if (result i32) (i32.eq (i32.rem_u (local.get $i) (i32.const 7)) (i32.const 3)) (then (i32.const 20000)) (else (i32.const 4))))
  (func (export "ww_main") (result i32) (local $peer i32) (local $n i32) (local $i i32) (local $j i32) (local $want i32) (local $r i32)
    (drop (call $recv (i32.const 4096) (i32.const 8)))
    (local.set $n (i32.load (i32.const 4096)))
    (local.set $peer (call $cap))
    (if (i32.lt_s (local.get $peer) (i32.const 0))
      (then (local.set $peer (call $sender)))
      (else (drop (call $send (local.get $peer) (i32.const 4096) (i32.const 4)))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $j (i32.const 0))
      (loop $s
        (i32.store (i32.const 8192) (i32.add (local.get $i) (local.get $j)))
        (local.set $r
          (if (result i32) (i32.eqz (i32.rem_u (i32.add (local.get $i) (local.get $j)) (i32.const 5)))
            (then (call $send_cap (local.get $peer) (i32.const 8192) (call $len (i32.add (local.get $i) (local.get $j))) (local.get $peer)))
            (else (call $send (local.get $peer) (i32.const 8192) (call $len (i32.add (local.get $i) (local.get $j)))))))
        (if (local.get $r) (then (return (i32.sub (i32.const 0) (i32.const 1000)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $s (i32.lt_u (local.get $j) (i32.const 8))))
      (local.set $j (i32.const 0))
      (loop $g
        (drop (call $recv (i32.const 32768) (i32.const 32768)))
        (if (i32.ne (i32.load (i32.const 32768)) (local.get $want)) (then (return (i32.add (i32.const 100000) (local.get $want)))))
        (if (i32.ne (i32.ge_s (call $cap) (i32.const 0)) (i32.eqz (i32.rem_u (local.get $want) (i32.const 5))))
          (then (return (i32.add (i32.const 200000) (local.get $want)))))
        (local.set $want (i32.add (local.get $want) (i32.const 1)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $g (i32.lt_u (local.get $j) (i32.const 8))))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br $l)))
    (local.get $want)))`

test('thousands of messages each way between workers keep their order, across ring and port, with capabilities', async () => {
  await using pool = await WorkerPool.start({ workers: 2 })
  const mod = await pool.compile(await G.wat(BURST))
  const pairs = await Promise.all([0, 1, 2].map(async (k) => {
    const a = await pool.spawn(mod, { worker: k % 2 })
    const b = await pool.spawn(mod, { worker: 1 - (k % 2) })
    return [a, b] as const
  }))
  const n = 2000
  for (const [a, b] of pairs) await a.send(u32(n), { cap: b })
  const statuses = await Promise.all(pairs.flat().map((h) => h.wait()))
  expect(statuses).toEqual(pairs.flat().map(() => ({ kind: 'exited', code: n })))
  const stats = await pool.stats()
  const sum = (k: 'ring' | 'moved'): number => stats.reduce((s, w) => s + w[k], 0)
  // Every message crossed workers: the small ones through a ring, the large ones (n/7 per sender) moved by port.
  expect(sum('ring') + sum('moved')).toBe(6 * n + 3)
  expect(sum('moved')).toBeGreaterThan(0)
  expect(sum('ring')).toBeGreaterThan(sum('moved'))
})

test('killing a receiver with messages queued for it: the sender hears it is gone, the link goes on working', async () => {
  await using pool = await WorkerPool.start({ workers: 2 })
  // The receiver never reads: its mailbox fills, then the sender's window, then the sender parks.
  const receiver = await pool.spawn(await pool.compile(await G.wat(G.SPIN)), { worker: 1 })
  const sender = await pool.spawn(await pool.compile(await G.wat(G.SEND_UNTIL_FAIL)), { worker: 0 })
  await sender.send(u32(0), { cap: receiver })
  for (;;) {
    const row = await sender.info()
    if (row?.state === 'waiting') break // parked on a full outbox
    await new Promise((r) => setTimeout(r, 5))
  }
  await receiver.kill()
  expect(await sender.wait()).toEqual({ kind: 'exited', code: -1 })
  // The same two workers still talk.
  const echo = await pool.spawn(await pool.compile(await G.wat(G.ECHO)), { worker: 1 })
  const pinger = await pool.spawn(await pool.compile(await G.wat(G.PINGER)), { worker: 0 })
  await pinger.send(u32(200), { cap: echo })
  expect(await pinger.wait()).toEqual({ kind: 'exited', code: 0 })
  expect(await echo.wait()).toEqual({ kind: 'exited', code: 200 })
})

test('closing the pool with messages queued between workers does not hang: every process ends killed', async () => {
  const pool = await WorkerPool.start({ workers: 2 })
  const spin = await pool.compile(await G.wat(G.SPIN))
  const send = await pool.compile(await G.wat(G.SEND_UNTIL_FAIL))
  const hs = []
  for (const w of [0, 1]) {
    const receiver = await pool.spawn(spin, { worker: 1 - w })
    const sender = await pool.spawn(send, { worker: w })
    await sender.send(u32(0), { cap: receiver })
    hs.push(receiver, sender)
  }
  for (const s of [hs[1]!, hs[3]!]) {
    while ((await s.info())?.state !== 'waiting') await new Promise((r) => setTimeout(r, 5))
  }
  await pool.close()
  expect(await Promise.all(hs.map((h) => h.wait()))).toEqual(hs.map(() => ({ kind: 'killed', by: { kind: 'host' } })))
})
