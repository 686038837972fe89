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

/**
 * The armed callbacks of one fd. Each calls `notify` (wakes the waiting polls) once and
 * disarms itself; the next poll that finds the fd not ready arms it again. The caller
 * checks `readArmed`/`writeArmed` before registering, so a poll over idle fds makes no
 * bound functions or closures.
 */
export class FdWatch implements ArmedWatch {
  #read: Unwatch | undefined
  #write: Unwatch | undefined
  readonly #notify: () => void
  // Made once per fd, not per poll. Unwatching after the fire drops a registration that
  // does not end by itself (Conn's watch* need not be one-shot).
  readonly onRead = (): void => { const u = this.#read; this.#read = undefined; u?.(); this.#notify() }
  readonly onWrite = (): void => { const u = this.#write; this.#write = undefined; u?.(); this.#notify() }

  constructor(notify: () => void) { this.#notify = notify }

  /** The watch of `e`, made on first use. */
  static of(e: FdEntry, notify: () => void): FdWatch {
    return (e.watch ??= new FdWatch(notify)) as FdWatch
  }

  get readArmed(): boolean { return this.#read !== undefined }
  get writeArmed(): boolean { return this.#write !== undefined }
  /** `u` drops the registration of `onRead` just made. */
  armedRead(u: Unwatch): void { this.#read = u }
  armedWrite(u: Unwatch): void { this.#write = u }

  release(): void {
    const r = this.#read, w = this.#write
    this.#read = this.#write = undefined
    r?.(); w?.()
  }
}

/**
 * The subscriptions of one call, parsed; kept for the next call. A server's next call
 * usually passes the same bytes over the same fd table: then the parse is one memcmp.
 */
export class SubList {
  n = 0
  hasClock = false
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
  /** The watch of each connection sub (else undefined): one class, so the loops over them stay monomorphic. */
  readonly watches: Array<FdWatch | undefined>
  /** Monotonic deadline of clock subs (bigint: beyond 64 bits after conversion). */
  readonly deadlines: bigint[]

  constructor(cap: number) {
    this.raw = Buffer.alloc(cap * SUB_SIZE)
    this.userdata = new Uint32Array(cap * 2)
    this.type = new Uint8Array(cap)
    this.error = new Uint16Array(cap)
    this.entries = new Array<FdEntry | undefined>(cap).fill(undefined)
    this.watches = new Array<FdWatch | undefined>(cap).fill(undefined)
    this.deadlines = new Array<bigint>(cap).fill(0n)
  }

  get capacity(): number { return this.type.length }

  /**
   * True when `n` subscriptions at `base` of `u8` are the bytes this list was parsed from,
   * over the same fd table, with nothing parsed against the clock or counted as a denial.
   */
  matches(u8: Uint8Array, base: number, n: number, version: number): boolean {
    return this.reusable && this.n === n && this.version === version && this.raw.compare(u8, base, base + n * SUB_SIZE, 0, n * SUB_SIZE) === 0
  }
}

export const SUB_SIZE = 48
