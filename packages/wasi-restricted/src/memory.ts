// Checked access to the guest's linear memory. Every range is checked against the memory
// of this moment; a bad one is EFAULT, never an access outside the guest's memory.
// memory.grow replaces the buffer and detaches the old one, so a view from before a grow
// must never be used. Reading `memory.buffer` costs a call into the engine each time
// (measured: clock_time_get 74–77 ns/op reading it at every access vs 56 with this
// scheme; fd_write 64 B 127–135 vs 77–88); instead each access checks that the
// view is not detached (length 0 after a grow) and re-derives it then. A range that seems
// out of bounds is re-checked against a fresh buffer (shared memories grow without
// detaching), so a view can be short but never stale-and-used past memory.

import { ERRNO, fail } from './errno.js'

/** Most iovecs one call may pass (POSIX IOV_MAX); more is EINVAL. */
export const IOV_MAX = 1024

export class GuestMemory {
  #memory: WebAssembly.Memory | undefined
  #buffer: ArrayBuffer | undefined
  #u8 = new Uint8Array(0)
  #dv = new DataView(new ArrayBuffer(0))

  set(memory: WebAssembly.Memory): void {
    this.#memory = memory
    this.#buffer = undefined
    this.#reload()
  }

  /** Let go of the memory (its instance is being dropped); set() binds the next one. */
  clear(): void {
    this.#memory = undefined
    this.#buffer = undefined
    this.#u8 = new Uint8Array(0)
    this.#dv = new DataView(new ArrayBuffer(0))
  }

  get attached(): boolean { return this.#memory !== undefined }

  #reload(): void {
    const b = this.#memory!.buffer as ArrayBuffer
    if (b !== this.#buffer) {
      this.#buffer = b
      this.#u8 = new Uint8Array(b)
      this.#dv = new DataView(b)
    }
  }

  #refresh(): void {
    if (this.#u8.length === 0) this.#reload() // detached by a grow (or never loaded)
  }

  /** Bytes of guest memory, current as of this call. Do not keep across calls. */
  u8(): Uint8Array { this.#refresh(); return this.#u8 }
  dv(): DataView { this.#refresh(); return this.#dv }

  /** `ptr` (an i32 read unsigned) if `[ptr, ptr+len)` lies inside memory, else EFAULT. */
  check(ptr: number, len: number): number {
    this.#refresh()
    const p = ptr >>> 0
    // Both < 2^32, so the sum is exact in a double: no wrap-around.
    if (p + (len >>> 0) > this.#u8.length) {
      this.#reload()
      if (p + (len >>> 0) > this.#u8.length) fail(ERRNO.EFAULT)
    }
    return p
  }

  u32(ptr: number): number { const p = this.check(ptr, 4); return this.#dv.getUint32(p, true) }
  u64(ptr: number): bigint { const p = this.check(ptr, 8); return this.#dv.getBigUint64(p, true) }
  setU32(ptr: number, v: number): void { const p = this.check(ptr, 4); this.#dv.setUint32(p, v, true) }
  setU64(ptr: number, v: bigint): void { const p = this.check(ptr, 8); this.#dv.setBigUint64(p, v, true) }

  /** A view of `[ptr, ptr+len)`, valid for this call only. */
  view(ptr: number, len: number): Uint8Array {
    const p = this.check(ptr, len)
    return this.#u8.subarray(p, p + (len >>> 0))
  }

  /** UTF-8 string at `[ptr, ptr+len)`; bytes that are not valid UTF-8 are EILSEQ. */
  string(ptr: number, len: number): string {
    const v = this.view(ptr, len)
    try { return DECODER.decode(v) } catch { return fail(ERRNO.EILSEQ) }
  }

  /**
   * The iovec array `[ptr, ptr + 8*count)` as (address, length) pairs, each range checked.
   * Fails EINVAL past IOV_MAX or when the total exceeds 2^32-1 (it cannot be returned).
   */
  iovecs(ptr: number, count: number): number[] {
    const n = count >>> 0
    if (n > IOV_MAX) fail(ERRNO.EINVAL)
    const base = this.check(ptr, n * 8)
    const dv = this.#dv
    const out: number[] = []
    let total = 0
    for (let i = 0; i < n; i++) {
      const p = dv.getUint32(base + i * 8, true)
      const l = dv.getUint32(base + i * 8 + 4, true)
      this.check(p, l)
      total += l
      out.push(p, l)
    }
    if (total > 0xffffffff) fail(ERRNO.EINVAL)
    return out
  }
}

const DECODER = new TextDecoder('utf-8', { fatal: true })
