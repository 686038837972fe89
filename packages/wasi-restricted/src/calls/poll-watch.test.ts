// poll_oneoff's watches kept across calls (poll-watch.ts) with capabilities of every shape:
// Waiters-based (one-shot), promise-only (no watch*), and a watch that keeps firing.
import { DEFAULT_POLICY, ERRNO, grant, validatePolicy, MemoryListener, Waiters, type Conn, type Unwatch } from '../index.js'
import { passThrough, setup, type Harness } from '../../test/harness.js'

const SUBS = 2048, EVENTS = 4096, N = 8000

function readSub(h: Harness, i: number, fd: number, userdata: bigint): void {
  const o = SUBS + i * 48
  h.u8().fill(0, o, o + 48)
  h.dv().setBigUint64(o, userdata, true)
  h.dv().setUint8(o + 8, 1)
  h.dv().setUint32(o + 16, fd, true)
}

describe('Waiters', () => {
  test('wake runs each callback once, in order; a dropped one never runs', () => {
    const w = new Waiters()
    const ran: string[] = []
    w.add(() => ran.push('a'))
    const dropB = w.add(() => ran.push('b'))
    w.add(() => ran.push('c'))
    dropB()
    expect(w.size).toBe(2)
    w.wake()
    w.wake()
    expect(ran).toEqual(['a', 'c'])
    expect(w.size).toBe(0)
  })

  test('a callback added while waking waits for the next wake; a nested wake runs only the newcomers', () => {
    const w = new Waiters()
    const ran: string[] = []
    w.add(() => { ran.push('first'); w.add(() => ran.push('re-armed')) })
    w.add(() => ran.push('second'))
    w.wake()
    expect(ran).toEqual(['first', 'second'])
    w.add(() => { ran.push('outer'); w.add(() => ran.push('newcomer')); w.wake() })
    w.add(() => ran.push('after outer'))
    w.wake()
    expect(ran).toEqual(['first', 'second', 're-armed', 'outer', 'newcomer', 'after outer'])
    expect(w.size).toBe(0)
    const p = w.wait()
    w.wake()
    return expect(p).resolves.toBeUndefined()
  })
})

/** A server end whose readiness is only offered as promises (no watch*), counting them. */
function promiseOnly(c: Conn): { conn: Conn; readables: () => number } {
  let n = 0
  const conn: Conn = {
    read: (max) => c.read(max), canRead: () => c.canRead(), readEnded: () => c.readEnded?.() ?? false,
    readable: () => { n++; return c.readable() },
    write: (b) => c.write(b), canWrite: () => c.canWrite(), writable: () => c.writable(),
    shutdown: (how) => c.shutdown(how), close: () => c.close(),
  }
  return { conn, readables: () => n }
}

/** A server end whose watchReadable keeps calling back at every change until unwatched. */
function persistentWatch(c: Conn & { watchReadable: NonNullable<Conn['watchReadable']> }): { conn: Conn; live: () => number } {
  const live = new Set<() => void>()
  const conn: Conn = {
    ...promiseOnly(c).conn,
    watchReadable: (wake) => {
      live.add(wake)
      const rearm = (): void => { if (live.has(wake)) c.watchReadable(() => { if (live.has(wake)) { wake(); rearm() } }) }
      rearm()
      return (): void => { live.delete(wake) }
    },
  }
  return { conn, live: () => live.size }
}

async function pollIdleThenData(h: Harness, client: Conn, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    readSub(h, 0, 3, 7n)
    const r = h.callAsync('poll_oneoff', SUBS, EVENTS, 1, N)
    await new Promise((res) => setImmediate(res)) // a turn with nothing to read: the poll waits
    client.write(new Uint8Array([i]))
    expect(await r).toBe(0)
    expect(h.u32(N)).toBe(1)
    expect(h.u64(EVENTS)).toBe(7n)
    expect(h.call('fd_read', 3, ...h.iovs(9000, [[9100, 16]]), N + 8)).toBe(0) // drained: the next round waits again
  }
}

test('a conn offering only promises: one readable() per wait that needed it, not one per poll of an idle fd', async () => {
  const l = new MemoryListener()
  const client = l.connect()
  const { conn, readables } = promiseOnly(l.accept()!)
  const h = setup(grant(DEFAULT_POLICY, { sockets: true }), { conns: [conn], suspend: passThrough })
  await pollIdleThenData(h, client, 5)
  expect(readables()).toBe(5)
  // Polls that find it ready register nothing.
  client.write(new Uint8Array([1]))
  for (let i = 0; i < 20; i++) { readSub(h, 0, 3, 7n); expect(h.call('poll_oneoff', SUBS, EVENTS, 1, N)).toBe(0) }
  expect(readables()).toBe(5)
  h.wasi.close()
})

test('a watch that keeps firing is unwatched when it fires: registrations never pile up, and closing drops the last', async () => {
  const l = new MemoryListener()
  const client = l.connect()
  const { conn, live } = persistentWatch(l.accept() as Conn & { watchReadable: NonNullable<Conn['watchReadable']> })
  const h = setup(grant(DEFAULT_POLICY, { sockets: true }), { conns: [conn], suspend: passThrough })
  await pollIdleThenData(h, client, 10)
  expect(live()).toBe(0) // each fired and was dropped; a poll that found data armed nothing
  readSub(h, 0, 3, 7n)
  const waiting = h.callAsync('poll_oneoff', SUBS, EVENTS, 1, N)
  expect(live()).toBe(1)
  h.wasi.close()
  expect(live()).toBe(0)
  await expect(waiting).rejects.toMatchObject({ code: 'ERR_WASI_STATE' })
})

test('an unwatch that is called for a watch that already fired is harmless (Unwatch is idempotent)', () => {
  const w = new Waiters()
  let n = 0
  const off: Unwatch = w.add(() => n++)
  w.wake()
  off(); off()
  w.add(() => n++)
  w.wake()
  expect(n).toBe(2)
})

describe('a call with the same subscriptions as the last reuses its parse, never stale', () => {
  const ready = (h: Harness): bigint[] => Array.from({ length: h.u32(N) }, (_, i) => h.u64(EVENTS + i * 32))

  test('new userdata is seen; an fd number that names another conn after a close is seen', () => {
    const l = new MemoryListener()
    const h = setup(grant(DEFAULT_POLICY, { sockets: true }), { sockets: [l], suspend: passThrough })
    const accept = (): number => { h.ok(h.call('sock_accept', 3, 0, N + 16)); return h.u32(N + 16) }
    const a = l.connect(), b = l.connect()
    expect([accept(), accept()]).toEqual([4, 5])
    a.write(new Uint8Array([1]))
    readSub(h, 0, 4, 1n); readSub(h, 1, 5, 2n)
    h.ok(h.call('poll_oneoff', SUBS, EVENTS, 2, N))
    expect(ready(h)).toEqual([1n])
    h.ok(h.call('poll_oneoff', SUBS, EVENTS, 2, N)) // the same bytes and table: reused
    expect(ready(h)).toEqual([1n])
    readSub(h, 0, 4, 9n)
    h.ok(h.call('poll_oneoff', SUBS, EVENTS, 2, N))
    expect(ready(h)).toEqual([9n])
    // fd 4 closed (its old entry now reads as hung up) and a new, idle conn takes number 4:
    // the same subscription bytes now mean the new conn.
    h.ok(h.call('fd_close', 4))
    l.connect()
    expect(accept()).toBe(4)
    b.write(new Uint8Array([2]))
    h.ok(h.call('poll_oneoff', SUBS, EVENTS, 2, N))
    expect(ready(h)).toEqual([2n])
    h.wasi.close()
  })

  test('a call with a denied fd is parsed (and counted) every time; a closed fd is EBADF, not counted', () => {
    const clockOnly = validatePolicy({ ...DEFAULT_POLICY, rows: { ...DEFAULT_POLICY.rows, poll_oneoff: { do: 'allow' } } })
    const h = setup(clockOnly)
    readSub(h, 0, 0, 1n)
    for (let i = 0; i < 3; i++) h.ok(h.call('poll_oneoff', SUBS, EVENTS, 1, N))
    expect(h.dv().getUint16(EVENTS + 8, true)).toBe(ERRNO.ENOTCAPABLE)
    expect(h.wasi.audit().byFunction.poll_oneoff).toBe(3)
    readSub(h, 0, 77, 1n)
    h.ok(h.call('poll_oneoff', SUBS, EVENTS, 1, N))
    expect(h.dv().getUint16(EVENTS + 8, true)).toBe(ERRNO.EBADF)
    expect(h.wasi.audit().byFunction.poll_oneoff).toBe(3)
  })
})

test('connections that become ready in one turn of the event loop are answered by one poll', async () => {
  const l = new MemoryListener()
  const a = l.connect(), b = l.connect()
  const h = setup(grant(DEFAULT_POLICY, { sockets: true }), { conns: [l.accept()!, l.accept()!], suspend: passThrough })
  readSub(h, 0, 3, 1n); readSub(h, 1, 4, 2n)
  const r = h.callAsync('poll_oneoff', SUBS, EVENTS, 2, N)
  // Two callbacks of the same turn (as two sockets' reads are): the poll wakes after both.
  setImmediate(() => a.write(new Uint8Array([1])))
  setImmediate(() => b.write(new Uint8Array([2])))
  expect(await r).toBe(0)
  expect(h.u32(N)).toBe(2)
  expect([h.u64(EVENTS), h.u64(EVENTS + 32)]).toEqual([1n, 2n])
  h.wasi.close()
})
