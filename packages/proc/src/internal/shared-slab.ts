// Message bytes in shared memory: copied once into a SharedArrayBuffer, they reach
// receivers on any worker thread as views of the same memory (posting a SharedArrayBuffer
// maps it, it does not copy it). Used for a pool's host-made messages and, with
// `messageMemory: 'shared'`, for what guests send. Small ones are cut from a shared slab:
// a SharedArrayBuffer costs ~0.4 µs to allocate, a slice ~0.05.

const SLAB_BYTES = 64 * 1024
/** Messages this large or larger get a buffer of their own (a slab lives as long as its longest-lived message). */
const OWN_BUFFER_BYTES = 4096

export class SharedSlab {
  #slab: SharedArrayBuffer | undefined
  #used = 0
  readonly #made = new WeakSet<Uint8Array>()

  /** A read-only (by contract) copy of `src` in shared memory. */
  copy(src: Uint8Array): Uint8Array {
    const view = this.alloc(src.byteLength)
    view.set(src)
    return view
  }

  /** `n` zeroed bytes of shared memory, to be filled once by the caller and never written again. */
  alloc(n: number): Uint8Array {
    let view: Uint8Array
    if (n >= OWN_BUFFER_BYTES) {
      view = new Uint8Array(new SharedArrayBuffer(n))
    } else {
      if (this.#slab === undefined || this.#used + n > SLAB_BYTES) {
        this.#slab = new SharedArrayBuffer(SLAB_BYTES)
        this.#used = 0
      }
      view = new Uint8Array(this.#slab, this.#used, n)
      this.#used += (n + 7) & ~7
    }
    this.#made.add(view)
    return view
  }

  /** True for bytes this slab made (already in custody: they cross without a copy). */
  owns(bytes: Uint8Array): boolean {
    return this.#made.has(bytes)
  }
}
