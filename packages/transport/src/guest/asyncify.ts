// Suspension by Binaryen's asyncify (any engine): the guest module was instrumented with
// `asyncify-imports` naming the imports that may wait. To wait, the import starts an
// unwind (the guest's stack is saved into its asyncify data area) and returns; the entry
// export returns early; we await the promise, start a rewind and call the entry again,
// which replays the saved stack down to the same import, which now returns the value.
//
// Data area: the guest's `ww_asyncify_data()` export returns the address of the header
// { i32 current, i32 end } (end set statically by the guest); we reset `current` to just
// past the header before every unwind and check both against the memory of that moment.
//
// Moving a waiting guest (hibernation): nothing here holds an instance's exports across a
// wait; they are looked up again after it. So the owner may detach() while the guest
// waits (dropping the instance), then attach() a new instance whose memory and globals it
// restored before the wait ends; the rewind then runs on the new one. For that, run()
// takes the entry by export name, called on whichever instance is attached at each call.
//
// Stepping (start/suspend/resume): for an owner that schedules guests itself, a wait need
// not be a promise. A wrapped import calls suspend() and returns its value; the guest
// unwinds and start()/resume() return SUSPENDED; the owner later calls resume() with the
// wait's value, which rewinds the guest there and then. No promise, no microtask per wait:
// the @ww/proc dispatcher steps its asyncify guests this way.

import type { Resume, Suspender, SuspendingImport } from './suspend.js'
import { GuestAbiError } from './errors.js'

const UNWINDING = 1
const ignore = (): void => {}
/** The pending wait of a stepped guest (suspend()): its owner continues it with resume(). */
const STEPPED = Symbol('stepped wait')
type Pending = Promise<number | Resume> | typeof STEPPED
/** A refused wait: nobody will await `p`, so its rejection must not surface as unhandled. */
function refuse(p: Pending, message: string): GuestAbiError {
  if (p !== STEPPED) p.catch(ignore)
  return new GuestAbiError(message)
}

/** The data area header at `addr` and the area it bounds lie within `dv`. */
function covers(dv: DataView, addr: number): boolean {
  // The buffer's length: 0 once detached (a DataView's own byteLength throws then).
  const n = dv.buffer.byteLength
  return addr + 8 <= n && dv.getUint32(addr + 4, true) <= n
}

/** What start() and resume() return while the guest waits (it unwound in suspend()). */
export const SUSPENDED: unique symbol = Symbol('suspended')

interface AsyncifyExports {
  memory: WebAssembly.Memory
  ww_asyncify_data: () => number
  asyncify_start_unwind: (addr: number) => void
  asyncify_stop_unwind: () => void
  asyncify_start_rewind: (addr: number) => void
  asyncify_stop_rewind: () => void
  asyncify_get_state: () => number
}

type Entry = (...args: number[]) => unknown

/** True if `instance` carries Binaryen's asyncify exports. */
export function isAsyncified(exports: WebAssembly.Exports): boolean {
  return typeof exports.asyncify_start_unwind === 'function' && typeof exports.asyncify_get_state === 'function'
}

export class AsyncifySuspender implements Suspender {
  readonly kind = 'asyncify' as const
  suspensions = 0
  // The attached instance: replaced by attach(), cleared by detach(), read afresh at each use.
  #instance: WebAssembly.Instance | undefined
  #exports: AsyncifyExports | undefined
  #pending: Pending | undefined
  #rewinding = false
  /** The entry (export name) and arguments of a stepped run: a rewind calls them again. */
  #stepEntry = ''
  #stepArgs: number[] = []
  /** That export on the attached instance, looked up once per attach (not per rewind). */
  #stepFn: Entry | undefined
  #value = 0
  #data = 0
  /** A view of the memory buffer of the last unwind (a new one only when the buffer changed). */
  #view: DataView | undefined

  wrapImport(fn: SuspendingImport): (...args: number[]) => number {
    return (...args: number[]): number => {
      if (this.#rewinding) {
        // Second entry into the import that unwound: finish the rewind, hand over the value.
        this.#rewinding = false
        this.#exports!.asyncify_stop_rewind()
        return this.#value
      }
      const r = fn(...args)
      if (typeof r === 'number') return r
      this.#startUnwind(r)
      return 0
    }
  }

  attach(instance: WebAssembly.Instance): void {
    const e = instance.exports
    this.#instance = instance
    this.#exports = isAsyncified(e) ? (e as unknown as AsyncifyExports) : undefined
    this.#view = undefined
    this.#stepFn = undefined
  }

  /**
   * Forget the attached instance (it is being dropped). A guest waiting in run() stays
   * suspended; attach() its new instance before the wait ends, or run() fails with
   * GuestAbiError when it does.
   */
  detach(): void {
    this.#instance = undefined
    this.#exports = undefined
    this.#view = undefined // nothing keeps the dropped instance's memory
    this.#stepFn = undefined
  }

  /**
   * Call `entry` and settle when it returns for good. `entry` is a function (called as it
   * is, every time), or the name of an export, looked up on the instance attached at each
   * call: the form that survives a detach()/attach() while the guest waits.
   */
  async run(entry: Entry | string, args: number[] = []): Promise<unknown> {
    let result: unknown
    try {
      result = this.#call(entry, args)
      while (this.#pending !== undefined) {
        this.#stopUnwind()
        const pending = this.#pending
        if (pending === STEPPED) throw new GuestAbiError('suspend() is for a stepped guest (start/resume), not run()')
        // A rejection ends the guest here: it stays unwound and is never re-entered.
        const settled = await pending
        this.#pending = undefined
        result = this.#rewind(entry, args, settled)
      }
    } finally {
      // A guest that trapped or misbehaved after an unwind began leaves its wait behind:
      // nobody awaits it now, and its rejection (say, the process being closed) must not
      // surface as the host's unhandled rejection.
      const left = this.#pending
      if (left !== undefined && left !== STEPPED) left.catch(ignore)
      this.#pending = undefined
      this.#rewinding = false
    }
    return result
  }

  /**
   * Steps `entry` (an export name, looked up on the instance attached at each call):
   * returns its result when it returns for good, or SUSPENDED when it unwound in a wait
   * (suspend()). A throw (a trap, a refused unwind) ends the run.
   */
  start(entry: string, args: number[] = []): unknown {
    this.#stepEntry = entry
    this.#stepArgs = args
    this.#stepFn = undefined
    return this.#step(undefined)
  }

  /**
   * Called by a wrapped import, in place of returning a promise: the guest unwinds from
   * this import once it returns (return this value), and start()/resume() return SUSPENDED.
   */
  suspend(): number {
    this.#startUnwind(STEPPED)
    return 0
  }

  /**
   * Continues a stepped guest that waits: the import it waits in returns `value` (a Resume
   * is called first, on the instance attached now). Returns like start().
   */
  resume(value: number | Resume): unknown {
    if (this.#pending !== STEPPED) throw new GuestAbiError('resume() of a guest that does not wait in suspend()')
    this.#pending = undefined
    return this.#step(value)
  }

  /** One call into the guest (a first call, or a rewind with `value`) up to its return or its next unwind. */
  #step(value: number | Resume | undefined): unknown {
    try {
      const entry = (this.#stepFn ??= this.#entry(this.#stepEntry))
      const result = value === undefined ? entry(...this.#stepArgs) : this.#rewind(entry, this.#stepArgs, value)
      if (this.#pending === undefined) return result
      this.#stopUnwind()
      if (this.#pending !== STEPPED) throw new GuestAbiError('a stepped guest waited on a promise: its imports must suspend() instead')
      return SUSPENDED
    } catch (e) {
      const left = this.#pending
      if (left !== undefined && left !== STEPPED) left.catch(ignore)
      this.#pending = undefined
      this.#rewinding = false
      throw e
    }
  }

  // The instance is touched only in these synchronous steps, never in run()'s own frame:
  // what an async function holds across its await stays reachable, and a hibernated
  // guest's dropped instance (and its memory) must be free to go.

  #call(entry: Entry | string, args: number[]): unknown {
    return this.#entry(entry)(...args)
  }

  #stopUnwind(): void {
    const x = this.#exports!
    if (x.asyncify_get_state() !== UNWINDING) {
      throw new GuestAbiError('an import suspended but the guest did not unwind: is it listed in asyncify-imports?')
    }
    x.asyncify_stop_unwind()
  }

  /** Continues the guest on the instance attached now (it may have changed during the wait). */
  #rewind(entry: Entry | string, args: number[], settled: number | Resume): unknown {
    const now = this.#exports
    if (now === undefined) throw new GuestAbiError('the guest resumed, but no asyncify instance is attached')
    this.#value = typeof settled === 'function' ? settled() : settled
    const call = this.#entry(entry)
    this.#rewinding = true
    now.asyncify_start_rewind(this.#data)
    return call(...args)
  }

  #entry(entry: Entry | string): Entry {
    if (typeof entry !== 'string') return entry
    const f = this.#instance?.exports[entry]
    if (typeof f !== 'function') throw new GuestAbiError(this.#instance === undefined ? `no instance attached to call ${entry}` : `the guest has no ${entry} export`)
    return f as Entry
  }

  #startUnwind(p: Pending): void {
    const x = this.#exports
    if (x === undefined) throw refuse(p, 'the guest must wait, but its module is not asyncify-instrumented and JSPI is unavailable')
    if (this.#pending !== undefined) throw refuse(p, 'a second suspension started while the guest was unwinding')
    if (typeof x.ww_asyncify_data !== 'function') throw refuse(p, 'an asyncify guest must export ww_asyncify_data')
    const addr = x.ww_asyncify_data() >>> 0
    // -1: a data area the host reserves (@ww/proc) could not be had.
    if (addr === 0xffffffff) throw refuse(p, 'the guest must wait, but its memory cannot grow to hold the asyncify data area (at its maximum)')
    // The view of an earlier unwind serves while it covers the header and the area: a grow
    // (even within ww_asyncify_data, for a host-reserved area) detaches the old buffer, so
    // its view reads as empty, and attach() drops it. Else one read of the buffer.
    let dv = this.#view
    if (dv === undefined || !covers(dv, addr)) dv = this.#view = new DataView(x.memory.buffer)
    if ((addr & 3) !== 0 || addr + 8 > dv.byteLength) throw refuse(p, `ww_asyncify_data ${addr} is not an aligned header inside memory`)
    const end = dv.getUint32(addr + 4, true)
    if (end < addr + 8 || end > dv.byteLength) throw refuse(p, `asyncify data end ${end} is outside [${addr + 8}, ${dv.byteLength}]`)
    dv.setUint32(addr, addr + 8, true)
    this.#data = addr
    this.#pending = p
    this.suspensions++
    x.asyncify_start_unwind(addr)
  }
}
