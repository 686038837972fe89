// poll_oneoff and sched_yield: sleeps are suspension points, never blocking the host.
import { connect } from 'node:net'
import { DEFAULT_POLICY, grant, validatePolicy, ERRNO, MemorySink, MemoryStream, MemoryListener, listenTcp, parseAddr, type Conn, type TcpConn } from '../index.js'
import { passThrough, setup, type Harness } from '../../test/harness.js'

const SUBS = 2048, EVENTS = 4096, N = 8000, IOV_AT = 9000

function clockSub(h: Harness, i: number, timeoutNs: bigint, userdata: bigint, flags = 0, id = 1): void {
  const o = SUBS + i * 48
  h.u8().fill(0, o, o + 48)
  h.dv().setBigUint64(o, userdata, true)
  h.dv().setUint32(o + 16, id, true)
  h.dv().setBigUint64(o + 24, timeoutNs, true)
  h.dv().setUint16(o + 40, flags, true)
}
function fdSub(h: Harness, i: number, type: 1 | 2, fd: number, userdata: bigint): void {
  const o = SUBS + i * 48
  h.u8().fill(0, o, o + 48)
  h.dv().setBigUint64(o, userdata, true)
  h.dv().setUint8(o + 8, type)
  h.dv().setUint32(o + 16, fd, true)
}
const event = (h: Harness, i: number) => ({ userdata: h.u64(EVENTS + i * 32), error: h.dv().getUint16(EVENTS + i * 32 + 8, true), type: h.u8()[EVENTS + i * 32 + 10] })

describe('poll_oneoff', () => {
  test('a zero timeout fires at once, without any hook', () => {
    const h = setup()
    clockSub(h, 0, 0n, 42n)
    h.ok(h.call('poll_oneoff', SUBS, EVENTS, 1, N))
    expect(h.u32(N)).toBe(1)
    expect(event(h, 0)).toEqual({ userdata: 42n, error: 0, type: 0 })
  })

  test('a real sleep without a suspension hook is ENOTSUP (never blocks), counted', () => {
    const h = setup()
    clockSub(h, 0, 10_000_000_000n, 1n) // 10 s
    const t0 = process.hrtime.bigint()
    h.fails(ERRNO.ENOTSUP, () => h.call('poll_oneoff', SUBS, EVENTS, 1, N))
    // The bound is the behaviour: it returned instead of sleeping the 10 s it was asked for
    // (half of it is beyond any load; a blocking poll would take all of it).
    expect(process.hrtime.bigint() - t0).toBeLessThan(5_000_000_000n)
    expect(h.wasi.audit().byFunction.poll_oneoff).toBe(1)
  })

  test('with a hook the sleep is a promise the scheduler settles; the event loop keeps running', async () => {
    const sleeps: bigint[] = []
    // The first sleep ends when the test says; if the 5 ms are not up by then (a fast machine),
    // the poll sleeps again for the rest, and those sleeps are real.
    let wake!: () => void
    const sleep = (ns: bigint): Promise<void> => {
      sleeps.push(ns)
      return sleeps.length === 1 ? new Promise<void>((r) => { wake = r }) : new Promise<void>((r) => setTimeout(r, Math.ceil(Number(ns) / 1e6) + 1))
    }
    const h = setup(DEFAULT_POLICY, { suspend: passThrough, scheduler: { sleep } })
    clockSub(h, 0, 3_600_000_000_000n, 1n) // 1 h: never due, however long the test takes
    clockSub(h, 1, 5_000_000n, 2n)
    let settled = false
    const p = h.callAsync('poll_oneoff', SUBS, EVENTS, 2, N)
    expect(p).toBeInstanceOf(Promise)
    void Promise.resolve(p).then(() => { settled = true })
    // The event loop turns while the call waits, and the call waits for the scheduler only.
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r))
    expect(settled).toBe(false)
    expect(sleeps).toHaveLength(1)
    wake()
    expect(await p).toBe(ERRNO.SUCCESS)
    // The earliest deadline (5 ms) less whatever elapsed since the call: never the 1 h one.
    // (Not "> 4 ms": on a loaded machine more than 1 ms can pass before the wait starts.)
    expect(sleeps[0]).toBeGreaterThanOrEqual(0n)
    expect(sleeps[0]).toBeLessThanOrEqual(5_000_000n)
    expect(h.u32(N)).toBe(1)
    expect(event(h, 0).userdata).toBe(2n)
  })

  test('the default scheduler really sleeps (about 20 ms)', async () => {
    const h = setup(DEFAULT_POLICY, { suspend: passThrough })
    clockSub(h, 0, 20_000_000n, 1n)
    const t0 = process.hrtime.bigint()
    expect(await h.callAsync('poll_oneoff', SUBS, EVENTS, 1, N)).toBe(0)
    expect(process.hrtime.bigint() - t0).toBeGreaterThanOrEqual(19_000_000n)
  })

  test('under a virtual clock a sleep advances time and returns at once', () => {
    const h = setup(grant(DEFAULT_POLICY, { clock: { startMs: 0, stepNs: 0 } }))
    h.ok(h.call('clock_time_get', 1, 0n, 100))
    clockSub(h, 0, 3_000_000_000n, 9n)
    h.ok(h.call('poll_oneoff', SUBS, EVENTS, 1, N))
    h.ok(h.call('clock_time_get', 1, 0n, 108))
    expect(h.u64(108) - h.u64(100)).toBe(3_000_000_000n)
  })

  test('absolute deadlines in the past fire at once; bad clock flags are per-event EINVAL', () => {
    const h = setup()
    clockSub(h, 0, 1n, 1n, 1, 0) // realtime abstime 1 ns after the epoch
    clockSub(h, 1, 0n, 2n, 0x80)
    h.ok(h.call('poll_oneoff', SUBS, EVENTS, 2, N))
    expect(h.u32(N)).toBe(2)
    expect([event(h, 0).error, event(h, 1).error]).toEqual([0, ERRNO.EINVAL])
  })

  test('fd subscriptions: EBADF for absent fds; ENOTCAPABLE for fds outside a clock-only row', () => {
    const h = setup()
    fdSub(h, 0, 2, 3, 1n)
    fdSub(h, 1, 2, 77, 2n)
    h.ok(h.call('poll_oneoff', SUBS, EVENTS, 2, N))
    expect([event(h, 0).error, event(h, 1).error]).toEqual([ERRNO.EBADF, ERRNO.EBADF])
    const clockOnly = setup(validatePolicy({ ...DEFAULT_POLICY, rows: { ...DEFAULT_POLICY.rows, poll_oneoff: { do: 'allow' } } }))
    fdSub(clockOnly, 0, 2, 1, 1n)
    clockOnly.ok(clockOnly.call('poll_oneoff', SUBS, EVENTS, 1, N))
    expect(event(clockOnly, 0).error).toBe(ERRNO.ENOTCAPABLE)
    expect(clockOnly.wasi.audit().byErrno).toEqual({ ENOTCAPABLE: 1 })
  })

  test('an unknown subscription tag is EINVAL; an events area past memory is EFAULT', () => {
    const h = setup()
    clockSub(h, 0, 0n, 1n)
    h.dv().setUint8(SUBS + 8, 9)
    h.fails(ERRNO.EINVAL, () => h.call('poll_oneoff', SUBS, EVENTS, 1, N))
    clockSub(h, 0, 0n, 1n)
    h.fails(ERRNO.EFAULT, () => h.call('poll_oneoff', SUBS, 65536 - 16, 1, N))
    h.fails(ERRNO.EFAULT, () => h.call('poll_oneoff', SUBS, EVENTS, 2000, N))
    h.fails(ERRNO.EINVAL, () => h.call('poll_oneoff', SUBS, EVENTS, 0x10000000, N))
  })

  test('granted streams: a stdin read subscription waits for data', async () => {
    const stdin = new MemoryStream()
    const h = setup(grant(DEFAULT_POLICY, { stdin: 'stream' }), { stdin, suspend: passThrough })
    fdSub(h, 0, 1, 0, 5n)
    clockSub(h, 1, 10_000_000_000n, 6n)
    const p = h.callAsync('poll_oneoff', SUBS, EVENTS, 2, N)
    setTimeout(() => stdin.push('x'), 5)
    expect(await p).toBe(0)
    expect(h.u32(N)).toBe(1)
    expect(event(h, 0)).toEqual({ userdata: 5n, error: 0, type: 1 })
  })

  test('granted sockets: a listener read subscription wakes on connect', async () => {
    const l = new MemoryListener()
    const h = setup(grant(DEFAULT_POLICY, { sockets: true }), { sockets: [l], suspend: passThrough })
    fdSub(h, 0, 1, 3, 8n)
    const p = h.callAsync('poll_oneoff', SUBS, EVENTS, 1, N)
    setTimeout(() => l.connect(), 2)
    expect(await p).toBe(0)
    expect(event(h, 0).userdata).toBe(8n)
  })
})

describe('poll_oneoff on TCP sockets, mixed with clocks', () => {
  test('a clock fires while a connection is idle; data wins next; at the connection cap the listener is not readable', async () => {
    const l = await listenTcp('127.0.0.1:0')
    const h = setup(grant(DEFAULT_POLICY, { sockets: { maxConnections: 1 } }), { sockets: [l], suspend: passThrough })
    const { host, port } = parseAddr(l.address)
    const a = connect(port, host), b = connect(port, host)
    await l.acceptable()
    expect(await h.callAsync('sock_accept', 3, 0, N)).toBe(0)
    const fd = h.u32(N)
    // Idle connection + 2 ms clock: the clock fires.
    fdSub(h, 0, 1, fd, 1n); clockSub(h, 1, 2_000_000n, 2n)
    expect(await h.callAsync('poll_oneoff', SUBS, EVENTS, 2, N)).toBe(0)
    expect([h.u32(N), event(h, 0).userdata]).toEqual([1, 2n])
    // Data arrives: the read subscription fires, the 60 s clock is cancelled (no timer left behind).
    a.write('x')
    fdSub(h, 0, 1, fd, 1n); clockSub(h, 1, 60_000_000_000n, 2n)
    expect(await h.callAsync('poll_oneoff', SUBS, EVENTS, 2, N)).toBe(0)
    expect([h.u32(N), event(h, 0).userdata, event(h, 0).type]).toEqual([1, 1n, 1])
    // b waits in the listener's queue, but the process is at its cap: the listener is not readable.
    await l.acceptable()
    fdSub(h, 0, 1, 3, 3n); clockSub(h, 1, 2_000_000n, 2n)
    expect(await h.callAsync('poll_oneoff', SUBS, EVENTS, 2, N)).toBe(0)
    expect([h.u32(N), event(h, 0).userdata]).toEqual([1, 2n])
    // Closing the connection frees the slot: now it is.
    fdSub(h, 0, 1, 3, 3n)
    const p = h.callAsync('poll_oneoff', SUBS, EVENTS, 1, N)
    h.ok(h.call('fd_close', fd))
    expect(await p).toBe(0)
    expect(event(h, 0).userdata).toBe(3n)
    a.destroy(); b.destroy()
    h.wasi.close()
    await l.closed
  })

  test('an fd that stays idle through many polls holds one callback, not one per poll; closing drops it', async () => {
    const l = await listenTcp('127.0.0.1:0')
    const { host, port } = parseAddr(l.address)
    const idle = connect(port, host), busy = connect(port, host)
    const conns: TcpConn[] = []
    for (let i = 0; i < 2; i++) {
      await l.acceptable()
      const c = l.accept()! as TcpConn
      conns.push(c)
    }
    // The two connections as fds 3 and 4 of a process (spawner-handed conns).
    const p = setup(grant(DEFAULT_POLICY, { sockets: true }), { conns, suspend: passThrough })
    for (const fd of [3, 4]) p.ok(p.call('fd_fdstat_set_flags', fd, 4)) // O_NONBLOCK: draining below never waits
    for (let i = 0; i < 100; i++) {
      fdSub(p, 0, 1, 3, 1n); fdSub(p, 1, 1, 4, 2n)
      const r = p.callAsync('poll_oneoff', SUBS, EVENTS, 2, N)
      ;(i % 2 === 0 ? idle : busy).write('x') // whichever conn did not fire stayed idle this round
      expect(await r).toBe(0)
      // The idle conn keeps the callback armed at its first poll (so polling it again costs
      // nothing); the one that fired was disarmed and armed again by the next poll.
      for (const c of conns) expect(c.stats().waiting).toBeLessThanOrEqual(1)
      const iov = p.iovs(IOV_AT, [[IOV_AT + 64, 16]])
      for (const fd of [3, 4]) expect([ERRNO.SUCCESS, ERRNO.EAGAIN]).toContain(p.call('sock_recv', fd, ...iov, 0, N, N + 4)) // drain
    }
    expect(conns[0]!.stats().waiting + conns[1]!.stats().waiting).toBeGreaterThan(0)
    p.wasi.close()
    expect(conns[0]!.stats().waiting + conns[1]!.stats().waiting).toBe(0)
    idle.destroy(); busy.destroy()
    l.close()
    await l.closed
  })
})

describe('sched_yield', () => {
  test('without a hook it returns at once; with one it yields to the event loop', async () => {
    expect(setup().call('sched_yield')).toBe(0)
    const h = setup(DEFAULT_POLICY, { suspend: passThrough })
    let ran = false
    setImmediate(() => { ran = true })
    expect(await h.callAsync('sched_yield')).toBe(0)
    expect(ran).toBe(true)
  })
})

describe('poll_oneoff: HANGUP at end of stream', () => {
  const flagsOf = (h: Harness, i: number) => ({ userdata: h.u64(EVENTS + i * 32), nbytes: h.u64(EVENTS + i * 32 + 16), flags: h.dv().getUint16(EVENTS + i * 32 + 24, true) })

  test('a read subscription says HANGUP (0 bytes) once the peer closed and the data was read; not before', async () => {
    const l = new MemoryListener()
    const client = l.connect()
    const h = setup(grant(DEFAULT_POLICY, { sockets: true }), { sockets: [l], suspend: passThrough })
    h.ok(h.call('sock_accept', 3, 0, N))
    const fd = h.u32(N)
    client.write(new TextEncoder().encode('hi'))
    client.shutdown(2) // FIN after the data
    fdSub(h, 0, 1, fd, 1n)
    h.ok(h.call('poll_oneoff', SUBS, EVENTS, 1, N))
    expect(flagsOf(h, 0)).toEqual({ userdata: 1n, nbytes: 1n, flags: 0 }) // data first
    const iov = h.iovs(IOV_AT, [[IOV_AT + 64, 16]])
    h.ok(h.call('sock_recv', fd, ...iov, 0, N, N + 4))
    expect(h.u32(N)).toBe(2)
    fdSub(h, 0, 1, fd, 1n)
    h.ok(h.call('poll_oneoff', SUBS, EVENTS, 1, N))
    expect(flagsOf(h, 0)).toEqual({ userdata: 1n, nbytes: 0n, flags: 1 })
    h.wasi.close()
  })

  test('a waiting read subscription on a real TCP connection wakes with HANGUP when the client ends; a write subscription after shutdown says HANGUP', async () => {
    const l = await listenTcp('127.0.0.1:0')
    const h = setup(grant(DEFAULT_POLICY, { sockets: true }), { sockets: [l], suspend: passThrough })
    const { host, port } = parseAddr(l.address)
    const client = connect(port, host)
    try {
      expect(await h.callAsync('sock_accept', 3, 0, N)).toBe(0)
      const fd = h.u32(N)
      fdSub(h, 0, 1, fd, 7n)
      const p = h.callAsync('poll_oneoff', SUBS, EVENTS, 1, N)
      expect(p).toBeInstanceOf(Promise)
      client.end()
      expect(await p).toBe(0)
      expect(flagsOf(h, 0)).toEqual({ userdata: 7n, nbytes: 0n, flags: 1 })
      fdSub(h, 0, 2, fd, 8n)
      h.ok(h.call('poll_oneoff', SUBS, EVENTS, 1, N))
      expect(flagsOf(h, 0)).toEqual({ userdata: 8n, nbytes: 1n, flags: 0 }) // our side may still write
      h.ok(h.call('sock_shutdown', fd, 2))
      fdSub(h, 0, 2, fd, 9n)
      h.ok(h.call('poll_oneoff', SUBS, EVENTS, 1, N))
      expect(flagsOf(h, 0)).toEqual({ userdata: 9n, nbytes: 0n, flags: 1 })
    } finally { // a failing expectation must not leave the listener open (Jest would never exit)
      client.destroy()
      h.wasi.close()
      await l.closed
    }
  })
})

// Issue 17: libc's and Rust's stdio poll fds 0–2 and treat a refusal (ENOTCAPABLE) as fatal.
describe('poll_oneoff on stdio, mixed with clocks and sockets', () => {
  const info = (h: Harness, i: number) => ({ userdata: h.u64(EVENTS + i * 32), error: h.dv().getUint16(EVENTS + i * 32 + 8, true), nbytes: h.u64(EVENTS + i * 32 + 16), flags: h.dv().getUint16(EVENTS + i * 32 + 24, true) })
  function fill(h: Harness): void {
    const [p, l] = h.str(IOV_AT + 64, 'hello')
    h.ok(h.call('fd_write', 1, ...h.iovs(IOV_AT, [[p, l]]), N + 8))
  }

  test('default policy: stdout and stderr are writable, stdin (end of file) is readable with HANGUP; the wrong direction is EBADF', () => {
    const h = setup()
    fdSub(h, 0, 2, 1, 1n); fdSub(h, 1, 2, 2, 2n); fdSub(h, 2, 1, 0, 3n); fdSub(h, 3, 1, 1, 4n); fdSub(h, 4, 2, 0, 5n)
    h.ok(h.call('poll_oneoff', SUBS, EVENTS, 5, N))
    expect(h.u32(N)).toBe(5)
    expect([0, 1, 2, 3, 4].map((i) => info(h, i))).toEqual([
      { userdata: 1n, error: 0, nbytes: 65536n, flags: 0 },
      { userdata: 2n, error: 0, nbytes: 65536n, flags: 0 },
      { userdata: 3n, error: 0, nbytes: 0n, flags: 1 },
      { userdata: 4n, error: ERRNO.EBADF, nbytes: 0n, flags: 0 },
      { userdata: 5n, error: ERRNO.EBADF, nbytes: 0n, flags: 0 },
    ])
    expect(h.wasi.audit().denials).toBe(0)
  })

  test('stdout is not writable while its sink is full: the clock fires first, then the drain wakes the poll', async () => {
    const stdout = new MemorySink(4)
    const h = setup(DEFAULT_POLICY, { suspend: passThrough, sinks: { stdout, stderr: new MemorySink() } })
    fill(h) // the sink takes a first record whole, then is full
    fdSub(h, 0, 2, 1, 1n); clockSub(h, 1, 1_000_000n, 2n)
    expect(await h.callAsync('poll_oneoff', SUBS, EVENTS, 2, N)).toBe(0)
    expect([h.u32(N), info(h, 0).userdata]).toEqual([1, 2n])
    // Without a hook and nothing ready, a poll that would wait is ENOTSUP, never a block.
    const noHook = setup(DEFAULT_POLICY, { sinks: { stdout: new MemorySink(4), stderr: new MemorySink() } })
    fill(noHook)
    fdSub(noHook, 0, 2, 1, 1n)
    expect(noHook.call('poll_oneoff', SUBS, EVENTS, 1, N)).toBe(ERRNO.ENOTSUP)
    // Waiting on stdout alone: the consumer drains the sink, the poll answers.
    fdSub(h, 0, 2, 1, 7n)
    const p = h.callAsync('poll_oneoff', SUBS, EVENTS, 1, N)
    expect(p).toBeInstanceOf(Promise)
    let settled = false
    void Promise.resolve(p).then(() => { settled = true })
    for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r))
    expect(settled).toBe(false)
    expect(stdout.take().map((r) => Buffer.from(r.bytes).toString())).toEqual(['hello'])
    expect(await p).toBe(0)
    expect([h.u32(N), info(h, 0).userdata, info(h, 0).error]).toEqual([1, 7n, 0])
  })

  test('a sink that cannot say whether it has room (no canWrite) is always writable', () => {
    const bare = { write: () => false, writable: () => Promise.resolve() }
    const h = setup(DEFAULT_POLICY, { sinks: { stdout: bare, stderr: bare } })
    fdSub(h, 0, 2, 1, 1n)
    h.ok(h.call('poll_oneoff', SUBS, EVENTS, 1, N))
    expect(info(h, 0)).toEqual({ userdata: 1n, error: 0, nbytes: 65536n, flags: 0 })
  })

  test('stdin (granted stream), a full stdout and a connection in one poll: each answers when it is ready', async () => {
    const stdin = new MemoryStream(), stdout = new MemorySink(4)
    const l = new MemoryListener()
    const client = l.connect()
    const h = setup(grant(DEFAULT_POLICY, { stdin: 'stream', sockets: true }), { stdin, sockets: [l], suspend: passThrough, sinks: { stdout, stderr: new MemorySink() } })
    h.ok(h.call('sock_accept', 3, 0, N))
    const conn = h.u32(N)
    fill(h)
    fdSub(h, 0, 1, 0, 10n); fdSub(h, 1, 2, 1, 11n); fdSub(h, 2, 1, conn, 12n); clockSub(h, 3, 3_600_000_000_000n, 13n)
    const ready = async (): Promise<bigint[]> => {
      expect(await h.callAsync('poll_oneoff', SUBS, EVENTS, 4, N)).toBe(0)
      return Array.from({ length: h.u32(N) }, (_, i) => info(h, i).userdata)
    }
    let p = ready()
    setImmediate(() => client.write(new TextEncoder().encode('x')))
    expect(await p).toEqual([12n])
    const iov = h.iovs(IOV_AT, [[IOV_AT + 64, 16]])
    h.ok(h.call('sock_recv', conn, ...iov, 0, N, N + 4))
    p = ready()
    setImmediate(() => stdin.push('line\n'))
    expect(await p).toEqual([10n])
    h.ok(h.call('fd_read', 0, ...iov, N))
    p = ready()
    setImmediate(() => stdout.take())
    expect(await p).toEqual([11n])
    h.wasi.close()
  })
})

// Issue 17, bad input: a guest polling hundreds of fds costs O(ready) per wake, not
// O(subscriptions). Counted by the capability calls each wake makes (no clock involved).
describe('poll_oneoff over many fds', () => {
  /** An in-memory conn that counts the readiness questions asked of it. */
  function countingConn(l: MemoryListener): { conn: Conn; asked: () => number; peer: Conn } {
    const peer = l.connect()
    const inner = l.accept()!
    let asked = 0
    const conn: Conn = {
      read: (m) => inner.read(m), readable: () => inner.readable(),
      canRead: () => { asked++; return inner.canRead() }, readEnded: () => inner.readEnded!(),
      watchReadable: (w) => inner.watchReadable!(w), watchWritable: (w) => inner.watchWritable!(w),
      write: (b) => inner.write(b), canWrite: () => inner.canWrite(), writable: () => inner.writable(),
      shutdown: (how) => inner.shutdown(how), close: () => inner.close(),
    }
    return { conn, asked: () => asked, peer }
  }

  test('1,000 idle connections and one that gets data each round: each wake asks the one, not the 1,000', async () => {
    const l = new MemoryListener()
    const conns = Array.from({ length: 1000 }, () => countingConn(l))
    const h = setup(grant(DEFAULT_POLICY, { sockets: { maxConnections: 1000 }, maxFds: 1010 }), { conns: conns.map((c) => c.conn), suspend: passThrough })
    h.memory.grow(2) // 1,000 subscriptions and their events do not fit in one page
    const subs = 16384
    for (let i = 0; i < 1000; i++) {
      const o = subs + i * 48
      h.u8().fill(0, o, o + 48)
      h.dv().setBigUint64(o, BigInt(i), true)
      h.dv().setUint8(o + 8, 1)
      h.dv().setUint32(o + 16, 3 + i, true)
    }
    const evs = subs + 1000 * 48
    // The first poll looks at every fd once and arms each (none is ready).
    const first = h.callAsync('poll_oneoff', subs, evs, 1000, N)
    const total = (): number => conns.reduce((n, c) => n + c.asked(), 0)
    await new Promise<void>((r) => setImmediate(r))
    expect(total()).toBe(1000)
    const iov = h.iovs(IOV_AT, [[IOV_AT + 64, 16]])
    conns[500]!.peer.write(new Uint8Array([1]))
    expect(await first).toBe(0)
    expect([h.u32(N), h.u64(evs)]).toEqual([1, 500n])
    let last = 500
    for (let round = 0; round < 20; round++) {
      h.ok(h.call('sock_recv', 3 + last, ...iov, 0, N, N + 4)) // drain it
      const before = total()
      const i = (round * 37) % 1000
      const p = h.callAsync('poll_oneoff', subs, evs, 1000, N)
      setImmediate(() => conns[i]!.peer.write(new Uint8Array([2])))
      expect(await p).toBe(0)
      expect([h.u32(N), h.u64(evs)]).toEqual([1, BigInt(i)])
      // This round asked at most the fd drained last round (now armed) and the one that fired.
      expect(total() - before).toBeLessThanOrEqual(3)
      last = i
    }
    h.wasi.close()
  })
})
