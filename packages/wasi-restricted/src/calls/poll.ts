// poll_oneoff and sched_yield. A sleep is a suspension point: the import cannot block the
// event loop, so it returns a promise that the caller's suspension hook (asyncify, JSPI)
// turns into a guest wait. Without a hook a call that would wait returns ENOTSUP at once.
// A virtual clock never waits: its sleeps advance virtual time.

import { ERRNO, Errno } from '../errno.js'
import type { FdEntry } from '../fds.js'
import { groupOf } from '../fds.js'
import { Waiters } from '../sockets.js'
import { FdWatch, SUB_SIZE, SubList, viaPromise } from './poll-watch.js'
import type { CallResult, Ctx, Impl } from './context.js'

const EVENT_SIZE = 32
const MAX_SUBS = 4096
const EVENTTYPE_CLOCK = 0
const EVENTTYPE_FD_READ = 1
const EVENTTYPE_FD_WRITE = 2
const ABSTIME = 1
const HANGUP = 1
// fdReady's answers besides a byte count.
const NOT_READY = -1
const HUNG_UP = -2

export function pollCalls(ctx: Ctx): Record<'poll_oneoff' | 'sched_yield', Impl> {
  const { mem, clock } = ctx
  const atCap = (): boolean => ctx.policy.sockets !== null && ctx.fds.connections >= ctx.policy.sockets.maxConnections

  // Waiting polls (one, unless an engine re-enters the guest while it waits). Anything that
  // may have made a sub ready wakes them all; each scans again and waits again if nothing is.
  const pollers = new Waiters()
  // Woken once per turn of the event loop, after its I/O callbacks: every connection that
  // became ready in that turn is then in one poll's answer, not one poll (and one guest
  // resume) each. (Synchronously, a server under load ran a whole poll per request.)
  let wakeQueued = false
  const wakePollers = (): void => { wakeQueued = false; pollers.wake() }
  const notify = (): void => {
    if (wakeQueued || pollers.size === 0) return
    wakeQueued = true
    setImmediate(wakePollers)
  }
  // Closing the WASI ends every wait: registered once, not per wait.
  ctx.watchClose(notify)
  let slotArmed = false
  const onSlot = (): void => { slotArmed = false; notify() }
  let spare: SubList | undefined

  function take(n: number): SubList {
    const s = spare !== undefined && spare.capacity >= n ? spare : new SubList(Math.max(n, spare?.capacity ?? 0, 64))
    spare = undefined
    return s
  }
  // Kept parsed (entries included) for the next call; a closed entry changes the table's
  // version, so it is never reused, only held until the next parse.
  function give(s: SubList): void { spare = s }

  /** Parses `n` subscriptions at `inPtr` into `s`, unless `s` already holds exactly those. */
  function parse(inPtr: number, n: number, s: SubList): void {
    const base = mem.check(inPtr, n * SUB_SIZE)
    const u8 = mem.u8()
    if (s.matches(u8, base, n, ctx.fds.version)) return
    const dv = mem.dv()
    s.reusable = false
    s.n = n
    s.hasClock = false
    let clean = true
    for (let i = 0; i < n; i++) {
      const o = base + i * SUB_SIZE
      s.userdata[2 * i] = dv.getUint32(o, true)
      s.userdata[2 * i + 1] = dv.getUint32(o + 4, true)
      const type = dv.getUint8(o + 8)
      s.type[i] = type
      s.entries[i] = undefined
      s.watches[i] = undefined
      let error: number = ERRNO.SUCCESS
      if (type === EVENTTYPE_CLOCK) {
        const id = dv.getUint32(o + 16, true)
        const timeout = dv.getBigUint64(o + 24, true)
        const flags = dv.getUint16(o + 40, true)
        const now = clock.now(id === 0 ? 0 : 1)!
        if (id > 3 || (flags & ~ABSTIME) !== 0) error = ERRNO.EINVAL
        // Deadlines on the monotonic scale; an absolute realtime deadline is converted.
        const mono = clock.now(1)!
        s.deadlines[i] = (flags & ABSTIME) ? mono + (timeout - now) : mono + timeout
        s.hasClock = true
      } else if (type === EVENTTYPE_FD_READ || type === EVENTTYPE_FD_WRITE) {
        const e = ctx.fds.get(dv.getUint32(o + 16, true))
        if (e === undefined) error = ERRNO.EBADF
        else if (!ctx.groups.poll_oneoff.has(groupOf(e))) error = ERRNO.ENOTCAPABLE
        if (error !== ERRNO.SUCCESS) ctx.audit.deny('poll_oneoff', error)
        else {
          s.entries[i] = e
          if (e!.kind === 'conn') s.watches[i] = FdWatch.of(e!, notify)
        }
      } else { s.n = i; throw new Errno(ERRNO.EINVAL) }
      s.error[i] = error
      if (error !== ERRNO.SUCCESS) clean = false
    }
    // Clock deadlines are relative to now, and every call with a bad sub counts a denial:
    // such lists are parsed again each time.
    if (clean && !s.hasClock) {
      s.raw.set(u8.subarray(base, base + n * SUB_SIZE))
      s.version = ctx.fds.version
      s.reusable = true
    }
  }

  /**
   * Writes the events ready now into the events area, in subscription order; returns how
   * many. Writing nothing leaves the area as it was.
   */
  function scan(s: SubList, outPtr: number): number {
    const base = mem.check(outPtr, s.n * EVENT_SIZE)
    const dv = mem.dv()
    let mono: bigint | undefined
    let k = 0
    for (let i = 0; i < s.n; i++) {
      const type = s.type[i]!
      const error = s.error[i]!
      let nbytes = 0, flags = 0
      if (error === ERRNO.SUCCESS) {
        if (type === EVENTTYPE_CLOCK) {
          // A virtual clock steps at every read, as it did when each sub read it.
          const now = clock.virtual ? clock.now(1)! : (mono ??= clock.now(1)!)
          if (s.deadlines[i]! > now) continue
        } else {
          // A connection whose callback for this direction is armed and has not fired is
          // not ready: Conn's watch* report every change that may make it so. Idle
          // connections then cost a flag test, not a call into the capability.
          const w = s.watches[i]
          if (w !== undefined && (type === EVENTTYPE_FD_READ ? w.readArmed : w.writeArmed)) continue
          const r = fdReady(s.entries[i]!, type === EVENTTYPE_FD_READ)
          if (r === NOT_READY) {
            // Armed now, whether or not this call waits: the next call skips it until it fires.
            if (w !== undefined) armConn(s, i, w)
            continue
          }
          if (r === HUNG_UP) flags = HANGUP
          else nbytes = r
        }
      }
      const o = base + k * EVENT_SIZE
      dv.setUint32(o, s.userdata[2 * i]!, true)
      dv.setUint32(o + 4, s.userdata[2 * i + 1]!, true)
      dv.setUint16(o + 8, error, true)
      dv.setUint8(o + 10, type)
      dv.setUint8(o + 11, 0)
      dv.setUint32(o + 12, 0, true)
      // nbytes (u64) from a safe integer, without a BigInt.
      dv.setUint32(o + 16, nbytes % 0x1_0000_0000, true)
      dv.setUint32(o + 20, Math.floor(nbytes / 0x1_0000_0000), true)
      dv.setUint16(o + 24, flags, true)
      dv.setUint16(o + 26, 0, true)
      dv.setUint32(o + 28, 0, true)
      k++
    }
    return k
  }

  /** nbytes ready on `e` (≥ 0), NOT_READY, or HUNG_UP (0 bytes, flag HANGUP). */
  function fdReady(e: FdEntry, read: boolean): number {
    switch (e.kind) {
      case 'stdin':
        if (!read) return 0
        if (ctx.stdin === null) return HUNG_UP
        return ctx.stdin.canRead() ? 1 : NOT_READY
      case 'stdout': case 'stderr':
        return ctx.policy.stdout.chunkBytes
      case 'file':
        return read ? Math.max(0, e.node.size - e.pos) : 0
      case 'dir':
        return 0
      case 'listener':
        // At the connection cap a listener is not readable: accept would wait, so a polling guest must too.
        return read && !atCap() && e.binder.canAccept() ? 1 : NOT_READY
      case 'conn': {
        // At end of stream the event says HANGUP (wasi-libc: POLLHUP) with 0 bytes, so a
        // guest's poll loop can tell "peer closed" from "data" without a read.
        const c = e.conn
        if (read) {
          if (!c.canRead()) return NOT_READY
          return c.readEnded?.() === true ? HUNG_UP : 1
        }
        if (!c.canWrite()) return NOT_READY
        return c.writeEnded?.() === true ? HUNG_UP : 1
      }
    }
  }

  function armConn(s: SubList, i: number, w: FdWatch): void {
    const c = (s.entries[i] as Extract<FdEntry, { kind: 'conn' }>).conn
    if (s.type[i] === EVENTTYPE_FD_READ) {
      if (!w.readArmed) w.armedRead(c.watchReadable !== undefined ? c.watchReadable(w.onRead) : viaPromise(c.readable(), w.onRead))
    } else if (!w.writeArmed) w.armedWrite(c.watchWritable !== undefined ? c.watchWritable(w.onWrite) : viaPromise(c.writable(), w.onWrite))
  }

  /** Arms a callback on every fd sub that has none yet; each notifies once when it may be ready. */
  function arm(s: SubList): void {
    for (let i = 0; i < s.n; i++) {
      const w = s.watches[i]
      if (w !== undefined) { armConn(s, i, w); continue } // a connection
      const e = s.entries[i]
      if (e === undefined) continue
      if (e.kind === 'listener' && atCap()) {
        if (!slotArmed) { slotArmed = true; ctx.fds.watchConnectionClosed(onSlot) }
        continue
      }
      if (e.kind === 'stdin') {
        const r = FdWatch.of(e, notify)
        if (ctx.stdin !== null && !r.readArmed) r.armedRead(viaPromise(ctx.stdin.readable(), r.onRead))
      } else if (e.kind === 'listener') {
        const r = FdWatch.of(e, notify), b = e.binder
        if (!r.readArmed) r.armedRead(b.watchAcceptable !== undefined ? b.watchAcceptable(r.onRead) : viaPromise(b.acceptable(), r.onRead))
      }
    }
  }

  /** True when every sub is a clock (a virtual clock may then jump instead of waiting). */
  function onlyClocks(s: SubList): boolean {
    for (let i = 0; i < s.n; i++) if (s.type[i] !== EVENTTYPE_CLOCK) return false
    return true
  }

  /** The earliest clock deadline of `s`, or undefined. */
  function earliest(s: SubList): bigint | undefined {
    let t: bigint | undefined
    for (let i = 0; i < s.n; i++) if (s.type[i] === EVENTTYPE_CLOCK && s.error[i] === ERRNO.SUCCESS && (t === undefined || s.deadlines[i]! < t)) t = s.deadlines[i]
    return t
  }

  async function waitForEvents(s: SubList, outPtr: number, neventsPtr: number): Promise<number> {
    try {
      for (;;) {
        arm(s)
        const deadline = s.hasClock ? earliest(s) : undefined
        // Only sleeps pay for an AbortController (creating its abort reason is not free).
        const ac = deadline === undefined ? undefined : new AbortController()
        if (ac !== undefined) {
          const ns = deadline! - clock.now(1)!
          ctx.scheduler.sleep(ns > 0n ? ns : 0n, ac.signal).then(notify, notify)
        }
        await pollers.wait()
        ac?.abort()
        ctx.checkOpen() // the process ended while waiting: stop, never sleep again
        const k = scan(s, outPtr)
        if (k > 0) return finish(neventsPtr, k)
      }
    } finally { give(s) }
  }

  function finish(neventsPtr: number, k: number): number {
    mem.setU32(neventsPtr, k)
    return ERRNO.SUCCESS
  }

  return {
    poll_oneoff(inPtr: number, outPtr: number, nsubs: number, neventsPtr: number): CallResult {
      const n = nsubs >>> 0
      if (n === 0 || n > MAX_SUBS) return ERRNO.EINVAL
      // Every range is checked up front: the events area must hold one event per sub.
      mem.check(outPtr, n * EVENT_SIZE)
      mem.check(neventsPtr, 4)
      const s = take(n)
      let waiting = false
      try {
        parse(inPtr, n, s)
        let k = scan(s, outPtr)
        if (k > 0) return finish(neventsPtr, k)
        if (clock.virtual && onlyClocks(s)) {
          // Deterministic: jump to the earliest deadline.
          const t = earliest(s)!
          const now = clock.now(1)!
          if (t > now) clock.advance(t - now)
          k = scan(s, outPtr)
          return finish(neventsPtr, k)
        }
        if (!ctx.canWait) return ERRNO.ENOTSUP
        waiting = true
        return waitForEvents(s, outPtr, neventsPtr)
      } finally { if (!waiting) give(s) }
    },
    sched_yield(): CallResult {
      if (!ctx.canWait) return ERRNO.SUCCESS // advisory: nothing to yield to without a hook
      return ctx.until(ctx.scheduler.yield()).then(() => ERRNO.SUCCESS)
    },
  }
}
