// An asyncify Suspender (same contract and data-area rules as @ww/transport's, ABI.md)
// that can move a suspended guest to a new instance: the exports are looked up after
// each wait, never held across one, and the entry is called by name on the current
// instance. That is what hibernation needs (the old instance is dropped while the guest
// waits; a new one is rewound).

import { GuestAbiError, type Suspender, type SuspendingImport } from '@ww/transport'

const UNWINDING = 1

interface AsyncifyExports {
  memory: WebAssembly.Memory
  ww_asyncify_data: () => number
  asyncify_start_unwind: (addr: number) => void
  asyncify_stop_unwind: () => void
  asyncify_start_rewind: (addr: number) => void
  asyncify_stop_rewind: () => void
  asyncify_get_state: () => number
}

export class RebindableAsyncify implements Suspender {
  readonly kind = 'asyncify' as const
  suspensions = 0
  #x: AsyncifyExports | undefined
  #pending: Promise<number> | undefined
  #rewinding = false
  #value = 0
  #data = 0

  wrapImport(fn: SuspendingImport): (...args: number[]) => number {
    return (...args: number[]): number => {
      if (this.#rewinding) {
        this.#rewinding = false
        this.#x!.asyncify_stop_rewind()
        return this.#value
      }
      const r = fn(...args)
      if (typeof r === 'number') return r
      this.#unwind(r)
      return 0
    }
  }

  attach(instance: WebAssembly.Instance): void {
    const e = instance.exports
    this.#x = typeof e.asyncify_start_unwind === 'function' ? (e as unknown as AsyncifyExports) : undefined
  }

  /** Forget the instance (it is being dropped); attach a new one before the guest resumes. */
  detach(): void { this.#x = undefined }

  /** `entry` must call the export on the *current* instance (looked up at each call). */
  async run(entry: (...args: number[]) => unknown, args: number[] = []): Promise<unknown> {
    try {
      let result = entry(...args)
      while (this.#pending !== undefined) {
        if (this.#x!.asyncify_get_state() !== UNWINDING) throw new GuestAbiError('an import suspended but the guest did not unwind')
        this.#x!.asyncify_stop_unwind()
        this.#value = await this.#pending
        this.#pending = undefined
        this.#rewinding = true
        if (this.#x === undefined) throw new GuestAbiError('resumed without an instance')
        this.#x.asyncify_start_rewind(this.#data)
        result = entry(...args)
      }
      return result
    } finally {
      this.#pending = undefined
      this.#rewinding = false
    }
  }

  #unwind(p: Promise<number>): void {
    const x = this.#x
    if (x === undefined) {
      p.catch(() => undefined)
      throw new GuestAbiError('the guest must wait, but its module is not asyncify-instrumented and JSPI is unavailable')
    }
    if (this.#pending !== undefined) throw new GuestAbiError('a second suspension started while the guest was unwinding')
    if (typeof x.ww_asyncify_data !== 'function') throw new GuestAbiError('an asyncify guest must export ww_asyncify_data')
    const addr = x.ww_asyncify_data() >>> 0
    const dv = new DataView(x.memory.buffer)
    if ((addr & 3) !== 0 || addr + 8 > dv.byteLength) throw new GuestAbiError(`ww_asyncify_data ${addr} is not an aligned header inside memory`)
    const end = dv.getUint32(addr + 4, true)
    if (end < addr + 8 || end > dv.byteLength) throw new GuestAbiError(`asyncify data end ${end} is outside [${addr + 8}, ${dv.byteLength}]`)
    dv.setUint32(addr, addr + 8, true)
    this.#data = addr
    this.#pending = p
    this.suspensions++
    x.asyncify_start_unwind(addr)
  }
}
