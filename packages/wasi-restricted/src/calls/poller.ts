// poll_oneoff's engine, one per process, made at its first poll (a process that never
// polls pays nothing for it at spawn: methods, not closures per createWasi).
//
// Cost model: a server polls every connection it holds and gets a few events back. The
// same subscription bytes over the same fd table reuse the last parse (one memcmp);
// readiness callbacks stay armed on an fd across polls, and an armed one that has not
// fired means "not ready", so an idle connection costs nothing: a scan checks only what
// fired or was ready last time (SubList.due) and what is always checked (clocks, files),
// so a wake is O(ready), not O(subscriptions); waiting polls wake once per event-loop
// turn, so one answer carries every connection that became ready in it. net.http, 16
// connections: 0.49× node:http before all this, 1.24× after (README); wasi.poll.many-fds
// (one ready fd among 1,000 vs among 10) for the scan.

import { DENIAL_ERRNOS } from '../audit.js'
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
// Not ready, and no watch says when it will be (a listener at the connection cap): the
// sub stays due, checked at every scan until then (the slot watch wakes the poll).
const NOT_READY_RECHECK = -3

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
  /** The last list parsed: the one whose subs the fds' watches point at (FdWatch.gen). */
  #live: SubList | undefined
  #gens = 0

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
  /** A watch fired: its sub (in the live list) is due for the next scan. */
  readonly #fired = (w: FdWatch, read: boolean): void => {
    const s = this.#live
    if (s !== undefined && w.gen === s.gen) {
      const i = read ? w.readSub : w.writeSub
      if (i >= 0) s.markDue(i)
    }
    this.notify()
  }

  /** poll_oneoff once its ranges are checked: an errno, or (waiting) a promise of one. */
  poll(inPtr: number, outPtr: number, n: number, neventsPtr: number): number | Promise<number> {
    const ctx = this.#ctx, clock = ctx.clock
    const s = this.#take(n)
    let waiting = false
    try {
      const fresh = this.#parse(inPtr, n, s)
      let k = fresh || s.gen !== this.#live?.gen ? this.#scanAll(s, outPtr) : this.#scan(s, outPtr)
      if (k > 0) return this.#finish(neventsPtr, k)
      if (clock.virtual && s.clocks === s.n) {
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

  /**
   * Parses `n` subscriptions at `inPtr` into `s`, unless `s` already holds exactly those
   * (then only the clock deadlines are computed again). True when parsed afresh.
   */
  #parse(inPtr: number, n: number, s: SubList): boolean {
    const ctx = this.#ctx, { mem, fds } = ctx
    const base = mem.check(inPtr, n * SUB_SIZE)
    const u8 = mem.u8()
    const dv = mem.dv()
    if (s.matches(u8, base, n, fds.version)) {
      // Relative deadlines are from now; the clock subs are in `always`, in sub order.
      for (let j = 0; j < s.nAlways; j++) {
        const i = s.always[j]!
        if (s.type[i] === EVENTTYPE_CLOCK) s.deadlines[i] = this.#deadline(dv, base + i * SUB_SIZE)
      }
      return false
    }
    s.reusable = false
    s.n = n
    s.clocks = 0
    s.gen = ++this.#gens
    s.nAlways = 0
    for (let j = 0; j < s.nDue; j++) s.isDue[s.due[j]!] = 0
    s.nDue = 0
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
      let watched = false
      if (type === EVENTTYPE_CLOCK) {
        const id = dv.getUint32(o + 16, true)
        const flags = dv.getUint16(o + 40, true)
        if (id > 3 || (flags & ~ABSTIME) !== 0) error = ERRNO.EINVAL
        s.deadlines[i] = this.#deadline(dv, o)
        s.clocks++
      } else if (type === EVENTTYPE_FD_READ || type === EVENTTYPE_FD_WRITE) {
        const e = fds.get(dv.getUint32(o + 16, true))
        const read = type === EVENTTYPE_FD_READ
        if (e === undefined) error = ERRNO.EBADF
        else if (!ctx.groups.poll_oneoff.has(groupOf(e))) error = ERRNO.ENOTCAPABLE
        // A stdio stream has one direction, as in wasmtime: the other one is EBADF.
        else if (e.kind === 'stdin' ? !read : (e.kind === 'stdout' || e.kind === 'stderr') && read) error = ERRNO.EBADF
        else {
          s.entries[i] = e
          if (this.#watchable(e, read)) {
            const w = FdWatch.of(e, this.#fired)
            s.watches[i] = w
            watched = w.claim(s.gen, i, read)
          }
        }
        if (DENIAL_ERRNOS.has(error)) ctx.audit.deny('poll_oneoff', error)
      } else { s.n = i; throw new Errno(ERRNO.EINVAL) }
      s.error[i] = error
      if (error !== ERRNO.SUCCESS) clean = false
      if (!watched) s.always[s.nAlways++] = i
    }
    this.#live = s
    // Every call with a bad sub answers it again (and counts a denial): such lists are parsed each time.
    if (clean) {
      s.raw.set(u8.subarray(base, base + n * SUB_SIZE))
      s.version = fds.version
      s.reusable = true
    }
    return true
  }

  /** The monotonic deadline of the clock sub at `o`; an absolute realtime deadline is converted. */
  #deadline(dv: DataView, o: number): bigint {
    const clock = this.#ctx.clock
    const id = dv.getUint32(o + 16, true)
    const timeout = dv.getBigUint64(o + 24, true)
    const flags = dv.getUint16(o + 40, true)
    const now = clock.now(id === 0 ? 0 : 1)!
    const mono = clock.now(1)!
    return (flags & ABSTIME) ? mono + (timeout - now) : mono + timeout
  }

  /** True when readiness of `e` in this direction is reported by a watch (else it is checked at every scan). */
  #watchable(e: FdEntry, read: boolean): boolean {
    switch (e.kind) {
      case 'conn': return true
      case 'listener': return read
      case 'stdin': return this.#ctx.stdin !== null
      case 'stdout': case 'stderr': {
        const sink = e.kind === 'stdout' ? this.#ctx.stdout : this.#ctx.stderr
        const pol = e.kind === 'stdout' ? this.#ctx.policy.stdout : this.#ctx.policy.stderr
        return pol.onFull === 'backpressure' && typeof sink.canWrite === 'function'
      }
      default: return false
    }
  }

  /**
   * After a fresh parse, or when another list took the fds' watches meanwhile (a guest
   * re-entered while a poll waited): every sub is checked once, each watched one (re)claimed
   * for this list and, when not ready, armed.
   */
  #scanAll(s: SubList, outPtr: number): number {
    if (s.gen !== this.#live?.gen) {
      // The same subs claimed in the same order: the same ones as at the parse are duplicates.
      s.gen = ++this.#gens
      for (let i = 0; i < s.n; i++) s.watches[i]?.claim(s.gen, i, s.type[i] === EVENTTYPE_FD_READ)
    }
    this.#live = s
    for (let j = 0; j < s.nDue; j++) s.isDue[s.due[j]!] = 0
    s.nDue = 0
    let k = 0
    for (let j = 0; j < s.nAlways; j++) {
      const i = s.always[j]!
      if (this.#check(s, i) !== NOT_READY) s.ready[k++] = i
    }
    for (let i = 0; i < s.n; i++) {
      const w = s.watches[i]
      if (w === undefined || (s.type[i] === EVENTTYPE_FD_READ ? w.readSub : w.writeSub) !== i) continue
      const r = this.#probe(s, i)
      if (r === NOT_READY) continue
      s.markDue(i)
      if (r !== NOT_READY_RECHECK) s.ready[k++] = i
    }
    return this.#write(s, outPtr, k)
  }

  /** The due and always-checked subs: writes the ready ones' events; returns how many. */
  #scan(s: SubList, outPtr: number): number {
    let k = 0
    for (let j = 0; j < s.nAlways; j++) {
      const i = s.always[j]!
      if (this.#check(s, i) !== NOT_READY) s.ready[k++] = i
    }
    // Ready subs stay due (nothing is armed on them); the rest are armed and leave the list.
    const n = s.nDue
    let m = 0
    for (let j = 0; j < n; j++) {
      const i = s.due[j]!
      const r = this.#probe(s, i)
      if (r === NOT_READY) { s.isDue[i] = 0; continue }
      s.due[m++] = i
      if (r !== NOT_READY_RECHECK) s.ready[k++] = i
    }
    for (let j = n; j < s.nDue; j++) s.due[m++] = s.due[j]! // fired while scanning
    s.nDue = m
    return this.#write(s, outPtr, k)
  }

  /** An always-checked sub: NOT_READY, or ready (its event's values are found again when written). */
  #check(s: SubList, i: number): number {
    if (s.error[i] !== ERRNO.SUCCESS) return 0
    if (s.type[i] === EVENTTYPE_CLOCK) return s.deadlines[i]! > this.#ctx.clock.now(1)! ? NOT_READY : 0
    const r = this.#fdReady(s.entries[i]!, s.type[i] === EVENTTYPE_FD_READ)
    return r === NOT_READY_RECHECK ? NOT_READY : r
  }

  /**
   * A watched sub: its readiness; when not ready its watch is armed (NOT_READY), or, with
   * nothing to arm, NOT_READY_RECHECK. An armed watch that has not fired is not ready.
   */
  #probe(s: SubList, i: number): number {
    const w = s.watches[i]!, read = s.type[i] === EVENTTYPE_FD_READ
    if (read ? w.readArmed : w.writeArmed) return NOT_READY
    const e = s.entries[i]!
    const r = this.#fdReady(e, read)
    if (r === NOT_READY) this.#arm(e, w, read)
    return r
  }

  /**
   * Writes the events of the `k` ready subs (in s.ready) into the events area, in
   * subscription order; returns k. Writing nothing leaves the area as it was.
   */
  #write(s: SubList, outPtr: number, k: number): number {
    if (k === 0) return 0
    const { mem } = this.#ctx
    const base = mem.check(outPtr, s.n * EVENT_SIZE)
    const dv = mem.dv()
    const ready = s.ready.subarray(0, k)
    if (k > 1) ready.sort()
    for (let j = 0; j < k; j++) {
      const i = ready[j]!
      const type = s.type[i]!
      const error = s.error[i]!
      let nbytes = 0, flags = 0
      if (error === ERRNO.SUCCESS && type !== EVENTTYPE_CLOCK) {
        const r = this.#fdReady(s.entries[i]!, type === EVENTTYPE_FD_READ)
        if (r === HUNG_UP) flags = HANGUP
        else if (r > 0) nbytes = r
      }
      const o = base + j * EVENT_SIZE
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
    }
    return k
  }

  /** nbytes ready on `e` (≥ 0), NOT_READY, NOT_READY_RECHECK, or HUNG_UP (0 bytes, flag HANGUP). */
  #fdReady(e: FdEntry, read: boolean): number {
    const ctx = this.#ctx
    switch (e.kind) {
      case 'stdin':
        // Not granted: end of file at once (a read returns 0).
        if (ctx.stdin === null) return HUNG_UP
        return ctx.stdin.canRead() ? 1 : NOT_READY
      case 'stdout': case 'stderr': {
        // Writable while the sink has room (or drops, or cannot say): a write then goes through.
        const sink = e.kind === 'stdout' ? ctx.stdout : ctx.stderr
        const pol = e.kind === 'stdout' ? ctx.policy.stdout : ctx.policy.stderr
        return pol.onFull === 'drop' || sink.canWrite?.() !== false ? pol.chunkBytes : NOT_READY
      }
      case 'file':
        return read ? Math.max(0, e.node.size - e.pos) : 0
      case 'dir':
        return 0
      case 'listener':
        if (!read) return NOT_READY
        // At the connection cap a listener is not readable: accept would wait, so a polling guest must too.
        if (this.#atCap()) {
          if (!this.#slotArmed) { this.#slotArmed = true; ctx.fds.watchConnectionClosed(this.#onSlot) }
          return NOT_READY_RECHECK
        }
        return e.binder.canAccept() ? 1 : NOT_READY
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

  /** Arms the watch of a not-ready watched fd: it fires (once) when the fd may be ready. */
  #arm(e: FdEntry, w: FdWatch, read: boolean): void {
    const ctx = this.#ctx
    switch (e.kind) {
      case 'conn': armConn(e, w, read); return
      case 'listener': {
        const b = e.binder
        w.armedRead(b.watchAcceptable !== undefined ? b.watchAcceptable(w.onRead) : viaPromise(b.acceptable(), w.onRead))
        return
      }
      case 'stdin': w.armedRead(viaPromise(ctx.stdin!.readable(), w.onRead)); return
      case 'stdout': case 'stderr': {
        const sink = e.kind === 'stdout' ? ctx.stdout : ctx.stderr
        w.armedWrite(sink.watchWritable !== undefined ? sink.watchWritable(w.onWrite) : viaPromise(sink.writable(), w.onWrite))
        return
      }
      default:
    }
  }

  async #waitForEvents(s: SubList, outPtr: number, neventsPtr: number): Promise<number> {
    const ctx = this.#ctx
    if (!this.#closeWatched) { this.#closeWatched = true; ctx.watchClose(this.notify) }
    try {
      for (;;) {
        const deadline = s.clocks > 0 ? earliest(s) : undefined
        // Only sleeps pay for an AbortController (creating its abort reason is not free).
        const ac = deadline === undefined ? undefined : new AbortController()
        if (ac !== undefined) {
          const ns = deadline! - ctx.clock.now(1)!
          ctx.scheduler.sleep(ns > 0n ? ns : 0n, ac.signal).then(this.notify, this.notify)
        }
        await this.#pollers.wait()
        ac?.abort()
        ctx.checkOpen() // the process ended while waiting: stop, never sleep again
        // Another list took the fds' watches while this one waited (a re-entered guest): check all.
        const k = s.gen === this.#live?.gen ? this.#scan(s, outPtr) : this.#scanAll(s, outPtr)
        if (k > 0) return this.#finish(neventsPtr, k)
      }
    } finally { this.#give(s) }
  }

  #finish(neventsPtr: number, k: number): number {
    this.#ctx.mem.setU32(neventsPtr, k)
    return ERRNO.SUCCESS
  }
}

function armConn(e: ConnEntry, w: FdWatch, read: boolean): void {
  const c = e.conn
  if (read) w.armedRead(c.watchReadable !== undefined ? c.watchReadable(w.onRead) : viaPromise(c.readable(), w.onRead))
  else w.armedWrite(c.watchWritable !== undefined ? c.watchWritable(w.onWrite) : viaPromise(c.writable(), w.onWrite))
}

/** The earliest clock deadline of `s` (its clocks are among `always`), or undefined. */
function earliest(s: SubList): bigint | undefined {
  let t: bigint | undefined
  for (let j = 0; j < s.nAlways; j++) {
    const i = s.always[j]!
    if (s.type[i] === EVENTTYPE_CLOCK && s.error[i] === ERRNO.SUCCESS && (t === undefined || s.deadlines[i]! < t)) t = s.deadlines[i]
  }
  return t
}
