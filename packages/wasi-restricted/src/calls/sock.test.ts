// sock_*: ENOTCAPABLE without a grant; on granted binders, accept/recv/send/shutdown and
// fd_read/fd_write on connection fds, never blocking the host.
import { DEFAULT_POLICY, grant, ERRNO, MemoryListener } from '../index.js'
import { passThrough, setup } from '../../test/harness.js'

const OUT = 4096, IOV = 2048, STR = 1024
const SOCKETS = grant(DEFAULT_POLICY, { sockets: { maxConnections: 1 } })

test('without the grant every socket call is ENOTCAPABLE, even on real fds', () => {
  const h = setup()
  h.fails(ERRNO.ENOTCAPABLE, () => h.call('sock_accept', 1, 0, OUT))
  h.fails(ERRNO.ENOTCAPABLE, () => h.call('sock_send', 1, IOV, 0, 0, OUT))
  h.fails(ERRNO.ENOTCAPABLE, () => h.call('sock_recv', 0, IOV, 0, 0, OUT, OUT + 4))
  h.fails(ERRNO.ENOTCAPABLE, () => h.call('sock_shutdown', 1, 3))
  expect(h.wasi.audit().byFunction).toEqual({ sock_accept: 1, sock_send: 1, sock_recv: 1, sock_shutdown: 1 })
})

test('accept, recv, send, fd_read/fd_write, shutdown on a granted listener', () => {
  const l = new MemoryListener()
  const h = setup(SOCKETS, { sockets: [l] })
  h.fails(ERRNO.EAGAIN, () => h.call('sock_accept', 3, 0, OUT)) // no client yet, no hook
  const client = l.connect()
  h.ok(h.call('sock_accept', 3, 0, OUT))
  const fd = h.u32(OUT)
  expect(fd).toBe(4)
  h.ok(h.call('fd_fdstat_get', fd, OUT + 8))
  expect(h.u8()[OUT + 8]).toBe(6) // SOCKET_STREAM
  client.write(new TextEncoder().encode('GET /'))
  h.ok(h.call('sock_recv', fd, ...h.iovs(IOV, [[OUT + 100, 3]]), 0, OUT, OUT + 4))
  expect(h.read(OUT + 100, h.u32(OUT))).toBe('GET')
  h.ok(h.call('fd_read', fd, ...h.iovs(IOV, [[OUT + 100, 16]]), OUT))
  expect(h.read(OUT + 100, h.u32(OUT))).toBe(' /')
  h.str(STR, 'HTTP/1.1 200')
  h.ok(h.call('sock_send', fd, ...h.iovs(IOV, [[STR, 8]]), 0, OUT))
  h.ok(h.call('fd_write', fd, ...h.iovs(IOV, [[STR + 8, 4]]), OUT))
  expect(Buffer.from(client.read(100)!).toString() + Buffer.from(client.read(100)!).toString()).toBe('HTTP/1.1 200')
  l.connect()
  h.fails(ERRNO.EAGAIN, () => h.call('sock_accept', 3, 0, OUT)) // maxConnections 1
  h.ok(h.call('sock_shutdown', fd, 2))
  expect(client.read(10)).toBeNull()
  const iv = h.iovs(IOV, [[STR, 1]])
  h.fails(ERRNO.EPIPE, () => h.call('sock_send', fd, ...iv, 0, OUT))
  h.ok(h.call('fd_close', fd))
  h.ok(h.call('sock_accept', 3, 0, OUT)) // the slot is free again
})

test('bad flags and non-socket fds', () => {
  const l = new MemoryListener()
  const h = setup(SOCKETS, { sockets: [l] })
  l.connect()
  h.fails(ERRNO.EINVAL, () => h.call('sock_accept', 3, 0xff, OUT))
  h.ok(h.call('sock_accept', 3, 0, OUT))
  const iv = h.iovs(IOV, [[OUT + 100, 4]])
  h.fails(ERRNO.ENOTSUP, () => h.call('sock_recv', 4, ...iv, 1, OUT, OUT + 4)) // MSG_PEEK
  h.fails(ERRNO.EINVAL, () => h.call('sock_shutdown', 4, 0))
  h.fails(ERRNO.ENOTSOCK, () => h.call('sock_shutdown', 3, 3))
  h.fails(ERRNO.ENOTSOCK, () => h.call('sock_accept', 4, 0, OUT))
  h.fails(ERRNO.EFAULT, () => h.call('sock_recv', 4, ...iv, 0, OUT, 65535))
})

test('with a hook, accept and recv suspend until a client acts', async () => {
  const l = new MemoryListener()
  const h = setup(SOCKETS, { sockets: [l], suspend: passThrough })
  const acc = h.callAsync('sock_accept', 3, 0, OUT)
  expect(acc).toBeInstanceOf(Promise)
  const client = l.connect()
  expect(await acc).toBe(0)
  const fd = h.u32(OUT)
  const rec = h.callAsync('sock_recv', fd, ...h.iovs(IOV, [[OUT + 100, 8]]), 0, OUT, OUT + 4)
  setTimeout(() => client.write(new TextEncoder().encode('ping')), 2)
  expect(await rec).toBe(0)
  expect(h.read(OUT + 100, h.u32(OUT))).toBe('ping')
})

test('close() closes listeners and connections: clients see end of stream', () => {
  const l = new MemoryListener()
  const h = setup(SOCKETS, { sockets: [l] })
  const client = l.connect()
  h.ok(h.call('sock_accept', 3, 0, OUT))
  h.wasi.close()
  expect(client.read(10)).toBeNull()
  expect(() => l.connect()).toThrow(expect.objectContaining({ code: 'ERR_CONN_CLOSED' }))
})
