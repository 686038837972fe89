// What poll_oneoff (poller.ts) keeps between calls. A server polls every connection it
// holds on every call and gets a few events back, so the per-call work must not grow
// objects with the number of fds: subscriptions are parsed into typed arrays reused by
// the next call, and readiness callbacks stay armed on an fd across calls (at most one
// per direction, dropped when it fires or when the fd closes). An idle connection then
// costs a flag test per poll and no allocation (net.http: 10.3 KB allocated per request
// before; see packages/wasi-restricted/README.md).

import type { ArmedWatch, FdEntry } from '../fds.js'
import type { Unwatch } from '../sockets.js'

/** Stands for a registration made through a promise (nothing to drop but the flag). */
const BY_PROMISE: Unwatch = () => {}

/** For capabilities without watch*: `wake` runs when `p` settles; returns a no-op Unwatch. */
export function viaPromise(p: Promise<void>, wake: () => void): Unwatch {
  p.then(wake, wake)
  return BY_PROMISE
}

/** Told which fd watch fired, and for which direction. */
export type Fired = (w: FdWatch, read: boolean) => void

/**
 * The armed callbacks of one fd. Each reports its fire once (`fired`: the poller marks the
 * subscription due and wakes the waiting polls) and disarms itself; the next poll that
 * finds the fd not ready arms it again. The caller checks `readArmed`/`writeArmed` before
 * registering, so a poll over idle fds makes no bound functions or closures.
 */
export class FdWatch implements ArmedWatch {
  #read: Unwatch | undefined
  #write: Unwatch | undefined
  readonly #fired: Fired
  /**
   * Where this fd sits in the subscription list parsed as generation `gen`, per direction
   * (-1: not there): a fire marks exactly that subscription due, so a wake costs what
   * fired, not one check per subscription.
   */
  gen = -1
  readSub = -1
  writeSub = -1
  // Made once per fd, not per poll. Unwatching after the fire drops a registration that
  // does not end by itself (Conn's watch* need not be one-shot).
  readonly onRead = (): void => { const u = this.#read; this.#read = undefined; u?.(); this.#fired(this, true) }
  readonly onWrite = (): void => { const u = this.#write; this.#write = undefined; u?.(); this.#fired(this, false) }

  constructor(fired: Fired) { this.#fired = fired }

  /** The watch of `e`, made on first use. */
  static of(e: FdEntry, fired: Fired): FdWatch {
    return (e.watch ??= new FdWatch(fired)) as FdWatch
  }

  get readArmed(): boolean { return this.#read !== undefined }
  get writeArmed(): boolean { return this.#write !== undefined }
  /** `u` drops the registration of `onRead` just made. */
  armedRead(u: Unwatch): void { this.#read = u }
  armedWrite(u: Unwatch): void { this.#write = u }

  /**
   * Takes subscription `i` of list `gen` for one direction; false when this fd already
   * has one there (a duplicate subscription, then checked at every scan instead).
   */
  claim(gen: number, i: number, read: boolean): boolean {
    if (this.gen !== gen) { this.gen = gen; this.readSub = this.writeSub = -1 }
    if ((read ? this.readSub : this.writeSub) >= 0) return false
    if (read) this.readSub = i
    else this.writeSub = i
    return true
  }

  release(): void {
    const r = this.#read, w = this.#write
    this.#read = this.#write = undefined
    this.gen = -1
    r?.(); w?.()
  }
}

/**
 * The subscriptions of one call, parsed; kept for the next call. A server's next call
 * usually passes the same bytes over the same fd table: then the parse is one memcmp
 * (plus the clock deadlines, recomputed from now).
 *
 * Which subscriptions a scan checks: `always` (clocks, files, bad subscriptions, stdio
 * that is always ready — each O(1), and few) and `due` (watched fds whose watch fired, or
 * that were ready at the last scan and so hold no armed watch). A watched fd whose watch is
 * armed is not ready and costs nothing: a wake is O(ready), not O(subscriptions).
 */
export class SubList {
  n = 0
  /** Clock subscriptions among the `n`. */
  clocks = 0
  /** Which parse this is (FdWatch.gen): unique per poller. */
  gen = -1
  /** The bytes parsed, the fd table's version then, and whether the next call may reuse them. */
  readonly raw: Buffer
  version = -1
  reusable = false
  /** userdata as two u32 halves (copied to events unchanged: no BigInt per sub). */
  readonly userdata: Uint32Array
  readonly type: Uint8Array
  /** Per-sub errno (0: valid); such subs are events of their own. */
  readonly error: Uint16Array
  readonly entries: Array<FdEntry | undefined>
  /** The watch of each watched sub (else undefined): one class, so the loops over them stay monomorphic. */
  readonly watches: Array<FdWatch | undefined>
  /** Monotonic deadline of clock subs (bigint: beyond 64 bits after conversion). */
  readonly deadlines: bigint[]
  readonly always: Int32Array
  nAlways = 0
  readonly due: Int32Array
  nDue = 0
  readonly isDue: Uint8Array
  /** Scratch for one scan's ready subs (sorted into subscription order before writing). */
  readonly ready: Int32Array

  constructor(cap: number) {
    this.raw = Buffer.alloc(cap * SUB_SIZE)
    this.userdata = new Uint32Array(cap * 2)
    this.type = new Uint8Array(cap)
    this.error = new Uint16Array(cap)
    this.entries = new Array<FdEntry | undefined>(cap).fill(undefined)
    this.watches = new Array<FdWatch | undefined>(cap).fill(undefined)
    this.deadlines = new Array<bigint>(cap).fill(0n)
    this.always = new Int32Array(cap)
    this.due = new Int32Array(cap)
    this.isDue = new Uint8Array(cap)
    this.ready = new Int32Array(cap)
  }

  get capacity(): number { return this.type.length }

  /** Marks sub `i` to be checked at the next scan. */
  markDue(i: number): void {
    if (this.isDue[i] === 0) { this.isDue[i] = 1; this.due[this.nDue++] = i }
  }

  /**
   * True when `n` subscriptions at `base` of `u8` are the bytes this list was parsed from,
   * over the same fd table, with nothing counted as a denial.
   */
  matches(u8: Uint8Array, base: number, n: number, version: number): boolean {
    return this.reusable && this.n === n && this.version === version && this.raw.compare(u8, base, base + n * SUB_SIZE, 0, n * SUB_SIZE) === 0
  }
}

export const SUB_SIZE = 48
