// sock_*: only on socket fds made from binder/conn capabilities the spawner granted
// (issue 8). Without the grant the rows deny (ENOTCAPABLE) before any of this runs.

import { ERRNO } from '../errno.js'
import type { Preview1Function } from '../functions.js'
import { entry, type CallResult, type Ctx, type Impl } from './context.js'
import { FDFLAGS } from './stat.js'
import { readStream, writeConn } from './stream-io.js'

type SockFunction = Extract<Preview1Function, `sock_${string}`>

export function sockCalls(ctx: Ctx): Record<SockFunction, Impl> {
  const { mem } = ctx

  function conn(fn: Preview1Function, fd: number) {
    const e = entry(ctx, fn, fd)
    return e.kind === 'conn' ? e : undefined
  }

  return {
    sock_accept(fd: number, flags: number, fdPtr: number): CallResult {
      const e = entry(ctx, 'sock_accept', fd)
      if (e.kind !== 'listener') return ERRNO.ENOTSOCK
      if ((flags >>> 0) & ~FDFLAGS.NONBLOCK) return ERRNO.EINVAL
      mem.check(fdPtr, 4)
      // At the connection cap an accept waits (the client stays queued) rather than fail:
      // schemas/net.capnp Listener.accept. Non-blocking accepts get EAGAIN.
      const atCap = (): boolean => ctx.fds.connections >= ctx.policy.sockets!.maxConnections
      const take = (): number | undefined => {
        if (!ctx.fds.hasRoom()) return ERRNO.EMFILE
        if (atCap()) return undefined
        const c = e.binder.accept()
        if (c === null) return e.binder.canAccept() ? ERRNO.ENOTCONN : undefined // closed vs. nothing yet
        mem.setU32(fdPtr, ctx.fds.add({ kind: 'conn', conn: c, flags: flags & FDFLAGS.NONBLOCK }))
        return ERRNO.SUCCESS
      }
      const now = take()
      if (now !== undefined) return now
      if ((e.flags & FDFLAGS.NONBLOCK) || !ctx.canWait) return ERRNO.EAGAIN
      return (async () => {
        for (;;) {
          await ctx.until(atCap() ? ctx.fds.connectionClosed() : e.binder.acceptable())
          if (ctx.fds.get(fd) !== e) return ERRNO.EBADF // the listener fd was closed meanwhile
          const r = take()
          if (r !== undefined) return r
        }
      })()
    },
    sock_recv(fd: number, iovsPtr: number, iovsLen: number, riFlags: number, nPtr: number, roFlagsPtr: number): CallResult {
      const e = conn('sock_recv', fd)
      if (e === undefined) return ERRNO.ENOTSOCK
      // Peek (1) and wait-all (2) are not offered: refuse rather than ignore.
      if (riFlags >>> 0 !== 0) return ERRNO.ENOTSUP
      const iovs = mem.iovecs(iovsPtr, iovsLen)
      mem.check(nPtr, 4)
      mem.check(roFlagsPtr, 2)
      mem.dv().setUint16(roFlagsPtr >>> 0, 0, true)
      return readStream(ctx, e.conn, iovs, nPtr, (e.flags & FDFLAGS.NONBLOCK) !== 0)
    },
    sock_send(fd: number, iovsPtr: number, iovsLen: number, siFlags: number, nPtr: number): CallResult {
      const e = conn('sock_send', fd)
      if (e === undefined) return ERRNO.ENOTSOCK
      if (siFlags >>> 0 !== 0) return ERRNO.EINVAL
      const iovs = mem.iovecs(iovsPtr, iovsLen)
      mem.check(nPtr, 4)
      return writeConn(ctx, e.conn, iovs, nPtr, (e.flags & FDFLAGS.NONBLOCK) !== 0)
    },
    sock_shutdown(fd: number, how: number): number {
      const e = conn('sock_shutdown', fd)
      if (e === undefined) return ERRNO.ENOTSOCK
      const h = how >>> 0
      if (h === 0 || h > 3) return ERRNO.EINVAL
      e.conn.shutdown(h)
      return ERRNO.SUCCESS
    },
  }
}
