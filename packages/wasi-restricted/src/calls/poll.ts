// poll_oneoff and sched_yield. A sleep is a suspension point: the import cannot block the
// event loop, so it returns a promise that the caller's suspension hook (asyncify, JSPI)
// turns into a guest wait. Without a hook a call that would wait returns ENOTSUP at once.
// A virtual clock never waits: its sleeps advance virtual time.

import { ERRNO, Errno } from '../errno.js'
import type { FdEntry } from '../fds.js'
import { groupOf } from '../fds.js'
import type { CallResult, Ctx, Impl } from './context.js'

const SUB_SIZE = 48
const EVENT_SIZE = 32
const MAX_SUBS = 4096
const EVENTTYPE_CLOCK = 0
const EVENTTYPE_FD_READ = 1
const EVENTTYPE_FD_WRITE = 2
const ABSTIME = 1
const HANGUP = 1

interface Sub { userdata: bigint; type: number; deadline: bigint; fd: number; entry: FdEntry | undefined; error: number }
interface Ev { userdata: bigint; error: number; type: number; nbytes: bigint; flags: number }

export function pollCalls(ctx: Ctx): Record<'poll_oneoff' | 'sched_yield', Impl> {
  const { mem, clock } = ctx
  const atCap = (): boolean => ctx.policy.sockets !== null && ctx.fds.connections >= ctx.policy.sockets.maxConnections

  function parse(inPtr: number, n: number): Sub[] {
    const base = mem.check(inPtr, n * SUB_SIZE)
    const dv = mem.dv()
    const subs: Sub[] = []
    for (let i = 0; i < n; i++) {
      const o = base + i * SUB_SIZE
      const userdata = dv.getBigUint64(o, true)
      const type = dv.getUint8(o + 8)
      if (type === EVENTTYPE_CLOCK) {
        const id = dv.getUint32(o + 16, true)
        const timeout = dv.getBigUint64(o + 24, true)
        const flags = dv.getUint16(o + 40, true)
        const now = clock.now(id === 0 ? 0 : 1)!
        let error: number = ERRNO.SUCCESS
        if (id > 3 || (flags & ~ABSTIME) !== 0) error = ERRNO.EINVAL
        // Deadlines on the monotonic scale; an absolute realtime deadline is converted.
        const mono = clock.now(1)!
        const deadline = (flags & ABSTIME) ? mono + (timeout - now) : mono + timeout
        subs.push({ userdata, type, deadline, fd: -1, entry: undefined, error })
      } else if (type === EVENTTYPE_FD_READ || type === EVENTTYPE_FD_WRITE) {
        const fd = dv.getUint32(o + 16, true)
        const e = ctx.fds.get(fd)
        let error: number = ERRNO.SUCCESS
        if (e === undefined) error = ERRNO.EBADF
        else if (!ctx.groups.poll_oneoff.has(groupOf(e))) error = ERRNO.ENOTCAPABLE
        if (error !== ERRNO.SUCCESS) ctx.audit.deny('poll_oneoff', error)
        subs.push({ userdata, type, deadline: 0n, fd, entry: e, error })
      } else throw new Errno(ERRNO.EINVAL)
    }
    return subs
  }

  /** Events ready now. */
  function ready(subs: Sub[]): Ev[] {
    const out: Ev[] = []
    const mono = clock.virtual ? undefined : clock.now(1)!
    for (const s of subs) {
      if (s.error !== ERRNO.SUCCESS) { out.push({ userdata: s.userdata, error: s.error, type: s.type, nbytes: 0n, flags: 0 }); continue }
      if (s.type === EVENTTYPE_CLOCK) {
        if (s.deadline <= (mono ?? clock.now(1)!)) out.push({ userdata: s.userdata, error: 0, type: s.type, nbytes: 0n, flags: 0 })
        continue
      }
      const r = fdReady(s)
      if (r !== undefined) out.push({ userdata: s.userdata, error: 0, type: s.type, nbytes: r.nbytes, flags: r.flags })
    }
    return out
  }

  function fdReady(s: Sub): { nbytes: bigint; flags: number } | undefined {
    const e = s.entry!
    const read = s.type === EVENTTYPE_FD_READ
    switch (e.kind) {
      case 'stdin':
        if (!read) return { nbytes: 0n, flags: 0 }
        if (ctx.stdin === null) return { nbytes: 0n, flags: HANGUP }
        return ctx.stdin.canRead() ? { nbytes: 1n, flags: 0 } : undefined
      case 'stdout': case 'stderr':
        return { nbytes: BigInt(ctx.policy.stdout.chunkBytes), flags: 0 }
      case 'file':
        return { nbytes: read ? BigInt(Math.max(0, e.node.size - e.pos)) : 0n, flags: 0 }
      case 'dir':
        return { nbytes: 0n, flags: 0 }
      case 'listener':
        // At the connection cap a listener is not readable: accept would wait, so a polling guest must too.
        return read && !atCap() && e.binder.canAccept() ? { nbytes: 1n, flags: 0 } : undefined
      case 'conn': {
        // At end of stream the event says HANGUP (wasi-libc: POLLHUP) with 0 bytes, so a
        // guest's poll loop can tell "peer closed" from "data" without a read.
        const c = e.conn
        if (read) {
          if (!c.canRead()) return undefined
          return c.readEnded?.() === true ? { nbytes: 0n, flags: HANGUP } : { nbytes: 1n, flags: 0 }
        }
        if (!c.canWrite()) return undefined
        return c.writeEnded?.() === true ? { nbytes: 0n, flags: HANGUP } : { nbytes: 1n, flags: 0 }
      }
    }
  }

  /**
   * Settles when some sub may have become ready. Everything it registered is dropped when
   * it settles, so an fd that stays idle through many polls accumulates nothing.
   */
  function waitAny(subs: Sub[]): Promise<void> {
    return new Promise<void>((resolve) => {
      const offs: Array<() => void> = []
      let done = false
      const wake = (): void => {
        if (done) return
        done = true
        for (const off of offs) off()
        resolve()
      }
      // Closing the WASI wakes this wait too (and drops the sleep's timer with the rest).
      offs.push(ctx.watchClose(wake))
      // Capabilities without watch* (stdin streams, foreign binders): one reaction each.
      const once = (p: Promise<void>): void => { p.then(wake, wake) }
      let earliest: bigint | undefined
      for (const s of subs) {
        if (s.type === EVENTTYPE_CLOCK) { if (earliest === undefined || s.deadline < earliest) earliest = s.deadline; continue }
        const e = s.entry!
        if (e.kind === 'stdin' && ctx.stdin !== null) once(ctx.stdin.readable())
        else if (e.kind === 'listener') {
          if (atCap()) offs.push(ctx.fds.watchConnectionClosed(wake))
          else if (e.binder.watchAcceptable !== undefined) offs.push(e.binder.watchAcceptable(wake))
          else once(e.binder.acceptable())
        } else if (e.kind === 'conn') {
          const c = e.conn
          if (s.type === EVENTTYPE_FD_READ) { if (c.watchReadable !== undefined) offs.push(c.watchReadable(wake)); else once(c.readable()) }
          else if (c.watchWritable !== undefined) offs.push(c.watchWritable(wake)); else once(c.writable())
        }
      }
      if (earliest !== undefined) {
        // Only sleeps pay for an AbortController (creating its abort reason is not free).
        const ac = new AbortController()
        offs.push(() => ac.abort())
        const ns = earliest - clock.now(1)!
        ctx.scheduler.sleep(ns > 0n ? ns : 0n, ac.signal).then(wake, wake)
      }
    })
  }

  function emit(outPtr: number, neventsPtr: number, evs: Ev[]): number {
    const base = mem.check(outPtr, evs.length * EVENT_SIZE)
    mem.check(neventsPtr, 4)
    const dv = mem.dv()
    evs.forEach((e, i) => {
      const o = base + i * EVENT_SIZE
      new Uint8Array(dv.buffer, o, EVENT_SIZE).fill(0)
      dv.setBigUint64(o, e.userdata, true)
      dv.setUint16(o + 8, e.error, true)
      dv.setUint8(o + 10, e.type)
      dv.setBigUint64(o + 16, e.nbytes, true)
      dv.setUint16(o + 24, e.flags, true)
    })
    mem.setU32(neventsPtr, evs.length)
    return ERRNO.SUCCESS
  }

  return {
    poll_oneoff(inPtr: number, outPtr: number, nsubs: number, neventsPtr: number): CallResult {
      const n = nsubs >>> 0
      if (n === 0 || n > MAX_SUBS) return ERRNO.EINVAL
      // Every range is checked up front: the events area must hold one event per sub.
      mem.check(outPtr, n * EVENT_SIZE)
      mem.check(neventsPtr, 4)
      const subs = parse(inPtr, n)
      let evs = ready(subs)
      if (evs.length > 0) return emit(outPtr, neventsPtr, evs)
      if (clock.virtual && subs.every((s) => s.type === EVENTTYPE_CLOCK)) {
        // Deterministic: jump to the earliest deadline.
        let earliest = subs[0]!.deadline
        for (const s of subs) if (s.deadline < earliest) earliest = s.deadline
        const now = clock.now(1)!
        if (earliest > now) clock.advance(earliest - now)
        return emit(outPtr, neventsPtr, ready(subs))
      }
      if (!ctx.canWait) return ERRNO.ENOTSUP
      return (async () => {
        for (;;) {
          await waitAny(subs)
          ctx.checkOpen() // the process ended while waiting: stop, never sleep again
          evs = ready(subs)
          if (evs.length > 0) return emit(outPtr, neventsPtr, evs)
        }
      })()
    },
    sched_yield(): CallResult {
      if (!ctx.canWait) return ERRNO.SUCCESS // advisory: nothing to yield to without a hook
      return ctx.until(ctx.scheduler.yield()).then(() => ERRNO.SUCCESS)
    },
  }
}
