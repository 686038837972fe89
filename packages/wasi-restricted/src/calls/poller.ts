// poll_oneoff's engine, one per process, made at its first poll (a process that never
// polls pays nothing for it at spawn: methods, not closures per createWasi).
//
// Cost model: a server polls every connection it holds and gets a few events back. The
// same subscription bytes over the same fd table reuse the last parse (one memcmp);
// readiness callbacks stay armed on an fd across polls, and an armed one that has not
// fired means "not ready", so an idle connection costs a flag test; waiting polls wake
// once per event-loop turn, so one answer carries every connection that became ready in
// it. net.http, 16 connections: 0.49× node:http before all this, 1.24× after (README).

import { ERRNO, Errno } from '../errno.js'
import type { FdEntry } from '../fds.js'
import { groupOf } from '../fds.js'
import { Waiters } from '../sockets.js'
import { FdWatch, SUB_SIZE, SubList, viaPromise } from './poll-watch.js'
import type { Ctx } from './context.js'

export const EVENT_SIZE = 32
const EVENTTYPE_CLOCK = 0
const EVENTTYPE_FD_READ = 1
const EVENTTYPE_FD_WRITE = 2
const ABSTIME = 1
const HANGUP = 1
// fdReady's answers besides a byte count.
const NOT_READY = -1
const HUNG_UP = -2

type ConnEntry = Extract<FdEntry, { kind: 'conn' }>

export class Poller {
  readonly #ctx: Ctx
  // Waiting polls (one, unless an engine re-enters the guest while it waits). Anything that
  // may have made a sub ready wakes them all; each scans again and waits again if nothing is.
  readonly #pollers = new Waiters()
  #wakeQueued = false
  // Closing the WASI ends every wait: registered at the first wait, once.
  #closeWatched = false
  #slotArmed = false
  #spare: SubList | undefined

  constructor(ctx: Ctx) { this.#ctx = ctx }

  /**
   * Woken once per turn of the event loop, after its I/O callbacks: every connection that
   * became ready in that turn is then in one poll's answer, not one poll (and one guest
   * resume) each. (Woken synchronously, a server under load ran a whole poll per request.)
   */
  readonly notify = (): void => {
    if (this.#wakeQueued || this.#pollers.size === 0) return
    this.#wakeQueued = true
    setImmediate(this.#wakePollers)
  }
  readonly #wakePollers = (): void => { this.#wakeQueued = false; this.#pollers.wake() }
  readonly #onSlot = (): void => { this.#slotArmed = false; this.notify() }

  /** poll_oneoff once its ranges are checked: an errno, or (waiting) a promise of one. */
  poll(inPtr: number, outPtr: number, n: number, neventsPtr: number): number | Promise<number> {
    const ctx = this.#ctx, clock = ctx.clock
    const s = this.#take(n)
    let waiting = false
    try {
      this.#parse(inPtr, n, s)
      let k = this.#scan(s, outPtr)
      if (k > 0) return this.#finish(neventsPtr, k)
      if (clock.virtual && onlyClocks(s)) {
        // Deterministic: jump to the earliest deadline.
        const t = earliest(s)!
        const now = clock.now(1)!
        if (t > now) clock.advance(t - now)
        k = this.#scan(s, outPtr)
        return this.#finish(neventsPtr, k)
      }
      if (!ctx.canWait) return ERRNO.ENOTSUP
      waiting = true
      return this.#waitForEvents(s, outPtr, neventsPtr)
    } finally { if (!waiting) this.#give(s) }
  }

  #atCap(): boolean {
    const ctx = this.#ctx
    return ctx.policy.sockets !== null && ctx.fds.connections >= ctx.policy.sockets.maxConnections
  }

  #take(n: number): SubList {
    const spare = this.#spare
    const s = spare !== undefined && spare.capacity >= n ? spare : new SubList(Math.max(n, spare?.capacity ?? 0, 64))
    this.#spare = undefined
    return s
  }

  // Kept parsed (entries included) for the next call; a closed entry changes the table's
  // version, so it is never reused, only held until the next parse.
  #give(s: SubList): void { this.#spare = s }

  /** Parses `n` subscriptions at `inPtr` into `s`, unless `s` already holds exactly those. */
  #parse(inPtr: number, n: number, s: SubList): void {
    const { mem, clock, fds } = this.#ctx
    const base = mem.check(inPtr, n * SUB_SIZE)
    const u8 = mem.u8()
    if (s.matches(u8, base, n, fds.version)) return
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
        const e = fds.get(dv.getUint32(o + 16, true))
        if (e === undefined) error = ERRNO.EBADF
        else if (!this.#ctx.groups.poll_oneoff.has(groupOf(e))) error = ERRNO.ENOTCAPABLE
        else {
          s.entries[i] = e
          if (e.kind === 'conn') s.watches[i] = FdWatch.of(e, this.notify)
        }
        if (error !== ERRNO.SUCCESS) this.#ctx.audit.deny('poll_oneoff', error)
      } else { s.n = i; throw new Errno(ERRNO.EINVAL) }
      s.error[i] = error
      if (error !== ERRNO.SUCCESS) clean = false
    }
    // Clock deadlines are relative to now, and every call with a bad sub counts a denial:
    // such lists are parsed again each time.
    if (clean && !s.hasClock) {
      s.raw.set(u8.subarray(base, base + n * SUB_SIZE))
      s.version = fds.version
      s.reusable = true
    }
  }

  /**
   * Writes the events ready now into the events area, in subscription order; returns how
   * many. Writing nothing leaves the area as it was.
   */
  #scan(s: SubList, outPtr: number): number {
    const { mem, clock } = this.#ctx
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
          const r = this.#fdReady(s.entries[i]!, type === EVENTTYPE_FD_READ)
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
  #fdReady(e: FdEntry, read: boolean): number {
    const ctx = this.#ctx
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
        return read && !this.#atCap() && e.binder.canAccept() ? 1 : NOT_READY
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

  /**
   * Before a wait: arms a callback on every listener and stdin sub that has none yet (each
   * notifies once when it may be ready). Connections need none here: the scan before every
   * wait armed each one it found not ready.
   */
  #arm(s: SubList): void {
    const ctx = this.#ctx
    for (let i = 0; i < s.n; i++) {
      const e = s.entries[i]
      if (e === undefined || s.watches[i] !== undefined) continue
      if (e.kind === 'listener' && this.#atCap()) {
        if (!this.#slotArmed) { this.#slotArmed = true; ctx.fds.watchConnectionClosed(this.#onSlot) }
        continue
      }
      if (e.kind === 'stdin') {
        const r = FdWatch.of(e, this.notify)
        if (ctx.stdin !== null && !r.readArmed) r.armedRead(viaPromise(ctx.stdin.readable(), r.onRead))
      } else if (e.kind === 'listener') {
        const r = FdWatch.of(e, this.notify), b = e.binder
        if (!r.readArmed) r.armedRead(b.watchAcceptable !== undefined ? b.watchAcceptable(r.onRead) : viaPromise(b.acceptable(), r.onRead))
      }
    }
  }

  async #waitForEvents(s: SubList, outPtr: number, neventsPtr: number): Promise<number> {
    const ctx = this.#ctx
    if (!this.#closeWatched) { this.#closeWatched = true; ctx.watchClose(this.notify) }
    try {
      for (;;) {
        this.#arm(s)
        const deadline = s.hasClock ? earliest(s) : undefined
        // Only sleeps pay for an AbortController (creating its abort reason is not free).
        const ac = deadline === undefined ? undefined : new AbortController()
        if (ac !== undefined) {
          const ns = deadline! - ctx.clock.now(1)!
          ctx.scheduler.sleep(ns > 0n ? ns : 0n, ac.signal).then(this.notify, this.notify)
        }
        await this.#pollers.wait()
        ac?.abort()
        ctx.checkOpen() // the process ended while waiting: stop, never sleep again
        const k = this.#scan(s, outPtr)
        if (k > 0) return this.#finish(neventsPtr, k)
      }
    } finally { this.#give(s) }
  }

  #finish(neventsPtr: number, k: number): number {
    this.#ctx.mem.setU32(neventsPtr, k)
    return ERRNO.SUCCESS
  }
}

function armConn(s: SubList, i: number, w: FdWatch): void {
  const c = (s.entries[i] as ConnEntry).conn
  if (s.type[i] === EVENTTYPE_FD_READ) {
    if (!w.readArmed) w.armedRead(c.watchReadable !== undefined ? c.watchReadable(w.onRead) : viaPromise(c.readable(), w.onRead))
  } else if (!w.writeArmed) w.armedWrite(c.watchWritable !== undefined ? c.watchWritable(w.onWrite) : viaPromise(c.writable(), w.onWrite))
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
