// fd_*: stdio by default; entries of the scratch dir and granted sockets when rows allow.
// Which fds a call may touch is decided by `entry()` (its row); what the call does to an
// fd of that kind is decided here, with the errno POSIX would give.

import { ERRNO, fail } from '../errno.js'
import type { FdEntry } from '../fds.js'
import type { Preview1Function } from '../functions.js'
import { entry, type CallResult, type Ctx, type Impl } from './context.js'
import { FDFLAGS, nodeStat, setTimes, writeFdstat, writeFilestat, fdFiletype, typeOfNode } from './stat.js'
import { readStream, writeConn, writeSink } from './stream-io.js'

type FdFunction = Extract<Preview1Function, `fd_${string}`>

const WHENCE_SET = 0, WHENCE_CUR = 1, WHENCE_END = 2
const MAX_OFFSET = 0xffffffffn

function file(e: FdEntry): Extract<FdEntry, { kind: 'file' }> {
  if (e.kind === 'file') return e
  return fail(e.kind === 'dir' ? ERRNO.EISDIR : ERRNO.ESPIPE)
}

function offset(o: bigint): number {
  if (o < 0n || o > MAX_OFFSET) fail(ERRNO.EINVAL)
  return Number(o)
}

export function fdCalls(ctx: Ctx): Record<FdFunction, Impl> {
  const { mem } = ctx
  const now = (): bigint => ctx.clock.now(0)!

  function readFile(e: Extract<FdEntry, { kind: 'file' }>, iovs: number[], pos: number): number {
    if (!e.read) fail(ERRNO.EBADF)
    let n = 0
    const u8 = mem.u8()
    for (let i = 0; i < iovs.length; i += 2) {
      const got = e.fs.read(e.node, pos + n, u8.subarray(iovs[i]!, iovs[i]! + iovs[i + 1]!))
      n += got
      if (got < iovs[i + 1]!) break
    }
    return n
  }

  function writeFile(e: Extract<FdEntry, { kind: 'file' }>, iovs: number[], pos: number): number {
    if (!e.write) fail(ERRNO.EBADF)
    let n = 0
    for (let i = 0; i < iovs.length; i += 2) {
      // A copy: the source is guest memory and the file keeps the bytes.
      const src = mem.u8().slice(iovs[i]!, iovs[i]! + iovs[i + 1]!)
      let wrote: number
      try { wrote = e.fs.write(e.node, pos + n, src) } catch (x) { if (n > 0) return n; throw x }
      n += wrote
      if (wrote < src.length) break
    }
    return n
  }

  return {
    fd_advise(fd: number, off: bigint, len: bigint, advice: number): number {
      file(entry(ctx, 'fd_advise', fd))
      if (off < 0n || len < 0n || advice >>> 0 > 5) return ERRNO.EINVAL
      return ERRNO.SUCCESS // advice only: nothing to tune in memory
    },
    fd_allocate(fd: number, off: bigint, len: bigint): number {
      const e = file(entry(ctx, 'fd_allocate', fd))
      if (!e.write) return ERRNO.EBADF
      const end = off + len
      if (off < 0n || len <= 0n) return ERRNO.EINVAL
      if (end > MAX_OFFSET) return ERRNO.EFBIG
      if (Number(end) > e.node.size) e.fs.resize(e.node, Number(end))
      return ERRNO.SUCCESS
    },
    fd_close(fd: number): number {
      entry(ctx, 'fd_close', fd)
      ctx.fds.remove(fd)
      return ERRNO.SUCCESS
    },
    fd_datasync(fd: number): number {
      const e = entry(ctx, 'fd_datasync', fd)
      return e.kind === 'file' ? ERRNO.SUCCESS : ERRNO.EINVAL
    },
    fd_sync(fd: number): number {
      const e = entry(ctx, 'fd_sync', fd)
      return e.kind === 'file' || e.kind === 'dir' ? ERRNO.SUCCESS : ERRNO.EINVAL
    },
    fd_fdstat_get(fd: number, ptr: number): number {
      writeFdstat(mem, ptr, entry(ctx, 'fd_fdstat_get', fd))
      return ERRNO.SUCCESS
    },
    fd_fdstat_set_flags(fd: number, flags: number): number {
      const e = entry(ctx, 'fd_fdstat_set_flags', fd)
      const f = flags & 0xffff
      if (f !== flags >>> 0 || (f & ~31) !== 0) return ERRNO.EINVAL
      if (e.kind === 'file') { e.flags = f; return ERRNO.SUCCESS }
      if (e.kind === 'conn' || e.kind === 'listener') {
        if (f & ~FDFLAGS.NONBLOCK) return ERRNO.EINVAL
        e.flags = f
        return ERRNO.SUCCESS
      }
      // Stdio and dirs: only NONBLOCK is meaningful, and stdio never blocks the host anyway.
      return (f & ~FDFLAGS.NONBLOCK) === 0 ? ERRNO.SUCCESS : ERRNO.EINVAL
    },
    fd_fdstat_set_rights(fd: number): number {
      entry(ctx, 'fd_fdstat_set_rights', fd)
      // Rights here follow the fd's kind and open mode; they cannot be changed per fd.
      return ERRNO.ENOTSUP
    },
    fd_filestat_get(fd: number, ptr: number): number {
      const e = entry(ctx, 'fd_filestat_get', fd)
      if (e.kind === 'file' || e.kind === 'dir') writeFilestat(mem, ptr, nodeStat(e.node))
      else writeFilestat(mem, ptr, { ino: 0n, filetype: fdFiletype(e), nlink: 1n, size: 0n, atim: 0n, mtim: 0n, ctim: 0n })
      return ERRNO.SUCCESS
    },
    fd_filestat_set_size(fd: number, size: bigint): number {
      const e = entry(ctx, 'fd_filestat_set_size', fd)
      if (e.kind !== 'file' || !e.write) return ERRNO.EINVAL
      if (size < 0n) return ERRNO.EINVAL
      if (size > MAX_OFFSET) return ERRNO.EFBIG
      e.fs.resize(e.node, Number(size))
      return ERRNO.SUCCESS
    },
    fd_filestat_set_times(fd: number, atim: bigint, mtim: bigint, fst: number): number {
      const e = entry(ctx, 'fd_filestat_set_times', fd)
      if (e.kind !== 'file' && e.kind !== 'dir') return ERRNO.EBADF
      return setTimes(e.node, atim, mtim, fst, now()) ? ERRNO.SUCCESS : ERRNO.EINVAL
    },
    fd_pread(fd: number, iovsPtr: number, iovsLen: number, off: bigint, nPtr: number): number {
      const e = file(entry(ctx, 'fd_pread', fd))
      const iovs = mem.iovecs(iovsPtr, iovsLen)
      mem.check(nPtr, 4)
      mem.setU32(nPtr, readFile(e, iovs, offset(off)))
      return ERRNO.SUCCESS
    },
    fd_pwrite(fd: number, iovsPtr: number, iovsLen: number, off: bigint, nPtr: number): number {
      const e = file(entry(ctx, 'fd_pwrite', fd))
      const iovs = mem.iovecs(iovsPtr, iovsLen)
      mem.check(nPtr, 4)
      mem.setU32(nPtr, writeFile(e, iovs, offset(off)))
      return ERRNO.SUCCESS
    },
    fd_read(fd: number, iovsPtr: number, iovsLen: number, nPtr: number): CallResult {
      const e = entry(ctx, 'fd_read', fd)
      const iovs = mem.iovecs(iovsPtr, iovsLen)
      mem.check(nPtr, 4)
      switch (e.kind) {
        case 'stdin': return readStream(ctx, ctx.policy.stdin.kind === 'stream' ? ctx.stdin : null, iovs, nPtr, false)
        case 'file': { const n = readFile(e, iovs, e.pos); e.pos += n; mem.setU32(nPtr, n); return ERRNO.SUCCESS }
        case 'conn': return readStream(ctx, e.conn, iovs, nPtr, (e.flags & FDFLAGS.NONBLOCK) !== 0)
        case 'dir': return ERRNO.EISDIR
        default: return ERRNO.EBADF
      }
    },
    fd_write(fd: number, iovsPtr: number, iovsLen: number, nPtr: number): CallResult {
      const e = entry(ctx, 'fd_write', fd)
      const iovs = mem.iovecs(iovsPtr, iovsLen)
      mem.check(nPtr, 4)
      switch (e.kind) {
        case 'stdout': return writeSink(ctx, 1, ctx.stdout, iovs, nPtr)
        case 'stderr': return writeSink(ctx, 2, ctx.stderr, iovs, nPtr)
        case 'file': {
          const n = writeFile(e, iovs, (e.flags & FDFLAGS.APPEND) ? e.node.size : e.pos)
          e.pos = ((e.flags & FDFLAGS.APPEND) ? e.node.size : e.pos + n)
          mem.setU32(nPtr, n)
          return ERRNO.SUCCESS
        }
        case 'conn': return writeConn(ctx, e.conn, iovs, nPtr, (e.flags & FDFLAGS.NONBLOCK) !== 0)
        case 'dir': return ERRNO.EISDIR
        default: return ERRNO.EBADF
      }
    },
    fd_prestat_get(fd: number, ptr: number): number {
      const e = entry(ctx, 'fd_prestat_get', fd)
      if (e.kind !== 'dir' || e.preopen === null) return ERRNO.EBADF
      const p = mem.check(ptr, 8)
      const dv = mem.dv()
      dv.setUint32(p, 0, true) // tag 0: a directory; padding zeroed
      dv.setUint32(p + 4, Buffer.byteLength(e.preopen), true)
      return ERRNO.SUCCESS
    },
    fd_prestat_dir_name(fd: number, ptr: number, len: number): number {
      const e = entry(ctx, 'fd_prestat_dir_name', fd)
      if (e.kind !== 'dir' || e.preopen === null) return ERRNO.EBADF
      const name = Buffer.from(e.preopen)
      if (len >>> 0 < name.length) return ERRNO.ENAMETOOLONG
      mem.view(ptr, name.length).set(name)
      return ERRNO.SUCCESS
    },
    fd_readdir(fd: number, buf: number, len: number, cookie: bigint, usedPtr: number): number {
      const e = entry(ctx, 'fd_readdir', fd)
      if (e.kind !== 'dir') return ERRNO.ENOTDIR
      const out = mem.view(buf, len)
      mem.check(usedPtr, 4)
      // Cookie i = the i-th entry of [., .., names in insertion order].
      const names: Array<[string, bigint, number]> = [['.', BigInt(e.node.ino), 3], ['..', 0n, 3]]
      for (const [name, n] of e.node.entries) names.push([name, BigInt(n.ino), typeOfNode(n)])
      const head = new Uint8Array(24)
      const hv = new DataView(head.buffer)
      let used = 0
      for (let i = cookie < 0n ? names.length : Number(cookie > BigInt(names.length) ? BigInt(names.length) : cookie); i < names.length && used < out.length; i++) {
        const [name, ino, type] = names[i]!
        const nb = Buffer.from(name)
        hv.setBigUint64(0, BigInt(i + 1), true)
        hv.setBigUint64(8, ino, true)
        hv.setUint32(16, nb.length, true)
        hv.setUint32(20, type, true)
        // Entries that do not fit are truncated: the guest sees bufused == len and retries bigger.
        for (const part of [head, nb]) {
          const n = Math.min(part.length, out.length - used)
          out.set(part.subarray(0, n), used)
          used += n
        }
      }
      mem.setU32(usedPtr, used)
      return ERRNO.SUCCESS
    },
    fd_renumber(from: number, to: number): number {
      entry(ctx, 'fd_renumber', from)
      entry(ctx, 'fd_renumber', to)
      ctx.fds.renumber(from, to)
      return ERRNO.SUCCESS
    },
    fd_seek(fd: number, off: bigint, whence: number, ptr: number): number {
      const e = file(entry(ctx, 'fd_seek', fd))
      const p = mem.check(ptr, 8)
      const base = whence === WHENCE_SET ? 0n : whence === WHENCE_CUR ? BigInt(e.pos) : whence === WHENCE_END ? BigInt(e.node.size) : -1n
      if (base < 0n) return ERRNO.EINVAL
      const to = base + off
      if (to < 0n) return ERRNO.EINVAL
      if (to > MAX_OFFSET) return ERRNO.EOVERFLOW
      e.pos = Number(to)
      mem.dv().setBigUint64(p, to, true)
      return ERRNO.SUCCESS
    },
    fd_tell(fd: number, ptr: number): number {
      const e = file(entry(ctx, 'fd_tell', fd))
      mem.setU64(ptr, BigInt(e.pos))
      return ERRNO.SUCCESS
    },
  }
}

