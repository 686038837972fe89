// fd_* on stdio: sinks tagged with the process id, chunking, backpressure, drop, stdin.
import { DEFAULT_POLICY, grant, MemorySink, MemoryStream, ERRNO, ProcessExit } from '../index.js'
import { PAGE, passThrough, setup } from '../../test/harness.js'

const OUT = 4096, IOV = 2048, STR = 1024

describe('fd_write on 1 and 2', () => {
  test('each call is one record, tagged with the process id and fd, iovecs gathered', () => {
    const h = setup()
    h.str(STR, 'hello, '); h.str(STR + 100, 'world')
    h.ok(h.call('fd_write', 1, ...h.iovs(IOV, [[STR, 7], [STR + 100, 5], [0, 0]]), OUT))
    expect(h.u32(OUT)).toBe(12)
    h.ok(h.call('fd_write', 2, ...h.iovs(IOV, [[STR, 5]]), OUT))
    expect(h.stdout.records.map((r) => [r.processId, r.fd, Buffer.from(r.bytes).toString()])).toEqual([['p1', 1, 'hello, world']])
    expect(h.stderr.text(2)).toBe('hello')
  })

  test('the record is a copy: later guest writes do not change it', () => {
    const h = setup()
    h.str(STR, 'abcd')
    h.ok(h.call('fd_write', 1, ...h.iovs(IOV, [[STR, 4]]), OUT))
    h.str(STR, 'zzzz')
    expect(h.stdout.text()).toBe('abcd')
  })

  test('a write larger than chunkBytes is partial (libc loops), bounding what the host copies per call', () => {
    const h = setup(grant(DEFAULT_POLICY, { stdout: { chunkBytes: 3 } }))
    h.str(STR, 'abcdef')
    h.ok(h.call('fd_write', 1, ...h.iovs(IOV, [[STR, 2], [STR + 2, 4]]), OUT))
    expect(h.u32(OUT)).toBe(3)
    expect(h.stdout.text()).toBe('abc')
  })

  test('full sink, no suspension hook: EAGAIN and nothing recorded', () => {
    const stdout = new MemorySink(4)
    const h = setup(DEFAULT_POLICY, { sinks: { stdout, stderr: new MemorySink() } })
    h.str(STR, 'abcdefgh')
    h.ok(h.call('fd_write', 1, ...h.iovs(IOV, [[STR, 4]]), OUT))
    { const iv = h.iovs(IOV, [[STR + 4, 4]]); h.fails(ERRNO.EAGAIN, () => h.call('fd_write', 1, ...iv, OUT)) }
    expect(stdout.text()).toBe('abcd')
  })

  test('full sink with a hook: the write suspends until the sink drains, nothing is lost', async () => {
    const stdout = new MemorySink(4)
    const h = setup(DEFAULT_POLICY, { sinks: { stdout, stderr: new MemorySink() }, suspend: passThrough })
    h.str(STR, 'abcdefgh')
    h.ok(h.call('fd_write', 1, ...h.iovs(IOV, [[STR, 4]]), OUT))
    h.dv().setUint32(OUT, 0, true)
    const p = h.callAsync('fd_write', 1, ...h.iovs(IOV, [[STR + 4, 4]]), OUT)
    expect(p).toBeInstanceOf(Promise)
    await new Promise((r) => setImmediate(r))
    expect(h.u32(OUT)).toBe(0) // still waiting
    const first = stdout.take()
    expect(await p).toBe(ERRNO.SUCCESS)
    expect(h.u32(OUT)).toBe(4)
    expect(Buffer.from(first[0]!.bytes).toString() + stdout.text()).toBe('abcdefgh')
  })

  test("full sink with onFull 'drop': the write succeeds and the drop is counted", () => {
    const stdout = new MemorySink(4)
    const h = setup(grant(DEFAULT_POLICY, { stdout: { onFull: 'drop' } }), { sinks: { stdout, stderr: new MemorySink() } })
    h.str(STR, 'abcdefgh')
    h.ok(h.call('fd_write', 1, ...h.iovs(IOV, [[STR, 4]]), OUT))
    h.ok(h.call('fd_write', 1, ...h.iovs(IOV, [[STR + 4, 4]]), OUT))
    expect(h.u32(OUT)).toBe(4)
    expect(h.wasi.audit().droppedBytes).toBe(4)
  })

  test('fd 0 is not writable, fd 1 not readable', () => {
    const h = setup()
    { const iv = h.iovs(IOV, [[STR, 1]]); h.fails(ERRNO.EBADF, () => h.call('fd_write', 0, ...iv, OUT)) }
    { const iv = h.iovs(IOV, [[STR, 1]]); h.fails(ERRNO.EBADF, () => h.call('fd_read', 1, ...iv, OUT)) }
  })

  test('after memory.grow the call uses the new buffer (no stale view)', () => {
    const h = setup()
    { const iv = h.iovs(IOV, [[PAGE + 10, 3]]); h.fails(ERRNO.EFAULT, () => h.call('fd_write', 1, ...iv, OUT)) }
    h.memory.grow(1)
    h.str(PAGE + 10, 'new')
    h.ok(h.call('fd_write', 1, ...h.iovs(IOV, [[PAGE + 10, 3]]), PAGE + 100))
    expect(h.u32(PAGE + 100)).toBe(3)
    expect(h.stdout.text()).toBe('new')
  })
})

test('a shared memory grows without detaching: the layer still sees the new pages', () => {
  const shared = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true })
  const h = setup()
  h.wasi.attach(shared)
  const dv = (): DataView => new DataView(shared.buffer)
  dv().setUint32(IOV, PAGE + 10, true); dv().setUint32(IOV + 4, 2, true)
  expect(h.call('fd_write', 1, IOV, 1, OUT)).toBe(ERRNO.EFAULT)
  shared.grow(1)
  new Uint8Array(shared.buffer).set([104, 105], PAGE + 10)
  expect(h.call('fd_write', 1, IOV, 1, OUT)).toBe(ERRNO.SUCCESS)
  expect(h.stdout.text()).toBe('hi')
})

describe('fd_read on 0', () => {
  test('default: end of file', () => {
    const h = setup()
    h.ok(h.call('fd_read', 0, ...h.iovs(IOV, [[OUT, 16]]), OUT + 32))
    expect(h.u32(OUT + 32)).toBe(0)
  })

  test('a granted stream: data, then would-block (EAGAIN without hook), then end', () => {
    const stdin = new MemoryStream()
    const h = setup(grant(DEFAULT_POLICY, { stdin: 'stream' }), { stdin })
    stdin.push('abcdef')
    h.ok(h.call('fd_read', 0, ...h.iovs(IOV, [[OUT, 2], [OUT + 10, 2]]), OUT + 32))
    expect(h.u32(OUT + 32)).toBe(4)
    expect(h.read(OUT, 2) + h.read(OUT + 10, 2)).toBe('abcd')
    h.ok(h.call('fd_read', 0, ...h.iovs(IOV, [[OUT, 16]]), OUT + 32))
    expect(h.read(OUT, 2)).toBe('ef')
    { const iv = h.iovs(IOV, [[OUT, 16]]); h.fails(ERRNO.EAGAIN, () => h.call('fd_read', 0, ...iv, OUT + 32)) }
    stdin.end()
    h.ok(h.call('fd_read', 0, ...h.iovs(IOV, [[OUT, 16]]), OUT + 32))
    expect(h.u32(OUT + 32)).toBe(0)
  })

  test('a granted stream with a hook: an empty stream suspends the read', async () => {
    const stdin = new MemoryStream()
    const h = setup(grant(DEFAULT_POLICY, { stdin: 'stream' }), { stdin, suspend: passThrough })
    const p = h.callAsync('fd_read', 0, ...h.iovs(IOV, [[OUT, 16]]), OUT + 32)
    expect(p).toBeInstanceOf(Promise)
    stdin.push('hi')
    expect(await p).toBe(ERRNO.SUCCESS)
    expect(h.read(OUT, h.u32(OUT + 32))).toBe('hi')
  })
})

describe('fd table on stdio', () => {
  test('stdio is a character device without seek rights (libc isatty → line-buffered)', () => {
    const h = setup()
    h.ok(h.call('fd_fdstat_get', 1, OUT))
    expect(h.u8()[OUT]).toBe(2)
    expect(h.u64(OUT + 8) & (1n << 2n)).toBe(0n)
    expect(h.u64(OUT + 8) & (1n << 6n)).not.toBe(0n)
  })
  test('closing fd 1 makes later writes EBADF; renumber moves an entry', () => {
    const h = setup()
    h.ok(h.call('fd_renumber', 2, 1)) // stderr now at 1
    h.str(STR, 'x')
    h.ok(h.call('fd_write', 1, ...h.iovs(IOV, [[STR, 1]]), OUT))
    expect(h.stderr.text()).toBe('x')
    { const iv = h.iovs(IOV, [[STR, 1]]); h.fails(ERRNO.EBADF, () => h.call('fd_write', 2, ...iv, OUT)) }
    h.ok(h.call('fd_close', 1))
    { const iv = h.iovs(IOV, [[STR, 1]]); h.fails(ERRNO.EBADF, () => h.call('fd_write', 1, ...iv, OUT)) }
  })
  test('calls after close() or proc_exit throw the same typed error', () => {
    const h = setup()
    expect(() => h.call('proc_exit', 7)).toThrow(ProcessExit)
    expect(() => h.call('fd_write', 1, IOV, 0, OUT)).toThrow(ProcessExit)
    const g = setup()
    g.wasi.close()
    expect(() => g.call('clock_time_get', 0, 0n, OUT)).toThrow(expect.objectContaining({ code: 'ERR_WASI_STATE' }))
  })
})
