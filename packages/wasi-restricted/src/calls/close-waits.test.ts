// Pins the bug of issue 8's follow-up: after the spawner closed a process's WASI (the
// process was killed), a poll_oneoff waiting in the layer went back to sleep instead of
// stopping — keeping the event loop (and Jest) alive, and handing "ready" events to a dead
// process. Now close() settles every wait in progress, rejected with the process's end.
import { DEFAULT_POLICY, grant, MemoryListener, MemorySink, MemoryStream, WasiStateError } from '../index.js'
import { passThrough, setup, type Harness } from '../../test/harness.js'

const SUBS = 2048, EVENTS = 4096, N = 8000, IOV_AT = 9000

function clockSub(h: Harness, i: number, timeoutNs: bigint, userdata: bigint): void {
  const o = SUBS + i * 48
  h.u8().fill(0, o, o + 48)
  h.dv().setBigUint64(o, userdata, true)
  h.dv().setUint32(o + 16, 1, true)
  h.dv().setBigUint64(o + 24, timeoutNs, true)
}
function fdSub(h: Harness, i: number, type: 1 | 2, fd: number, userdata: bigint): void {
  const o = SUBS + i * 48
  h.u8().fill(0, o, o + 48)
  h.dv().setBigUint64(o, userdata, true)
  h.dv().setUint8(o + 8, type)
  h.dv().setUint32(o + 16, fd, true)
}

/** `p` must reject with the close error, and the events area must be left as it was. */
async function endsWithClose(h: Harness, p: number | Promise<number>): Promise<void> {
  expect(p).toBeInstanceOf(Promise)
  const before = h.u8().slice(EVENTS, EVENTS + 64)
  h.wasi.close()
  await expect(p).rejects.toBeInstanceOf(WasiStateError)
  await expect(p).rejects.toMatchObject({ code: 'ERR_WASI_STATE' })
  expect(Buffer.compare(Buffer.from(h.u8().slice(EVENTS, EVENTS + 64)), Buffer.from(before))).toBe(0)
}

describe('close() ends every wait in progress', () => {
  test('a 60 s sleep in poll_oneoff (default scheduler): rejected at once, its timer cleared', async () => {
    // This sleep's own timer, watched through the globals the default scheduler calls
    // (counting every active Timeout was flaky: the test runner's own come and go).
    const made: unknown[] = [], cleared = new Set<unknown>()
    const { setTimeout: realSet, clearTimeout: realClear } = globalThis
    globalThis.setTimeout = ((...a: Parameters<typeof setTimeout>) => { const t = realSet(...a); made.push(t); return t }) as typeof setTimeout
    globalThis.clearTimeout = ((t?: Parameters<typeof clearTimeout>[0]) => { cleared.add(t); realClear(t) }) as typeof clearTimeout
    try {
      const h = setup(DEFAULT_POLICY, { suspend: passThrough })
      clockSub(h, 0, 60_000_000_000n, 1n)
      const p = h.callAsync('poll_oneoff', SUBS, EVENTS, 1, N)
      expect(made).toHaveLength(1)
      expect(cleared.has(made[0])).toBe(false)
      await endsWithClose(h, p)
      expect(cleared.has(made[0])).toBe(true)
    } finally {
      globalThis.setTimeout = realSet
      globalThis.clearTimeout = realClear
    }
  })

  test('a sleep whose scheduler never wakes it once the process ended (as @ww/proc\'s): rejected', async () => {
    const h = setup(DEFAULT_POLICY, { suspend: passThrough, scheduler: { sleep: () => new Promise<void>(() => {}) } })
    clockSub(h, 0, 1_000_000n, 1n)
    await endsWithClose(h, h.callAsync('poll_oneoff', SUBS, EVENTS, 1, N))
  })

  test('a poll on a listener and a connection: rejected, not answered with the events closing caused', async () => {
    const l = new MemoryListener()
    const client = new MemoryListener()
    const conn = client.connect() // a conn handed in by the spawner (fd 4)
    const h = setup(grant(DEFAULT_POLICY, { sockets: true }), { sockets: [l], conns: [conn], suspend: passThrough })
    fdSub(h, 0, 1, 3, 1n)
    fdSub(h, 1, 1, 4, 2n)
    await endsWithClose(h, h.callAsync('poll_oneoff', SUBS, EVENTS, 2, N))
    expect(h.u32(N)).toBe(0)
  })

  test('a blocked sock_accept: rejected', async () => {
    const h = setup(grant(DEFAULT_POLICY, { sockets: true }), { sockets: [new MemoryListener()], suspend: passThrough })
    await endsWithClose(h, h.callAsync('sock_accept', 3, 0, N))
  })

  test('a blocked read (stdin stream) and a write to a full sink: rejected', async () => {
    const stdin = new MemoryStream()
    const r = setup(grant(DEFAULT_POLICY, { stdin: 'stream' }), { stdin, suspend: passThrough })
    await endsWithClose(r, r.callAsync('fd_read', 0, ...r.iovs(IOV_AT, [[IOV_AT + 64, 16]]), N))

    const stdout = new MemorySink(1)
    const w = setup(DEFAULT_POLICY, { sinks: { stdout, stderr: new MemorySink() }, suspend: passThrough })
    const iov = w.iovs(IOV_AT, [[IOV_AT + 64, 4]])
    w.ok(w.call('fd_write', 1, ...iov, N)) // fills the sink
    await endsWithClose(w, w.callAsync('fd_write', 1, ...iov, N))
    expect(stdout.records).toHaveLength(1)
  })

  test('a sched_yield whose scheduler never returns: rejected', async () => {
    const h = setup(DEFAULT_POLICY, { suspend: passThrough, scheduler: { yield: () => new Promise<void>(() => {}) } })
    await endsWithClose(h, h.callAsync('sched_yield'))
  })

  test('after close every call throws the same end; a second close changes nothing', () => {
    const h = setup(DEFAULT_POLICY, { suspend: passThrough })
    h.wasi.close()
    h.wasi.close()
    clockSub(h, 0, 0n, 1n)
    expect(() => h.call('poll_oneoff', SUBS, EVENTS, 1, N)).toThrow(WasiStateError)
    expect(() => h.call('sched_yield')).toThrow(/WASI closed/)
    // A denied row too (no audit entry: the process has ended), and always the same error object.
    const thrown = (f: () => unknown): unknown => { try { f() } catch (e) { return e } return undefined }
    const first = thrown(() => h.call('path_open', 3, 0, 0, 0, 0, 0n, 0n, 0, 0))
    expect(first).toBeInstanceOf(WasiStateError)
    expect(thrown(() => h.call('random_get', 0, 4))).toBe(first)
    expect(h.wasi.audit().denials).toBe(0)
  })
})
