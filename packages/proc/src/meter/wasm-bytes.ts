// Reading and writing the WebAssembly binary format's primitives (LEB128 integers, names,
// vectors), for the quick metering tier that rewrites modules without Binaryen.

/** The bytes are not a module this reader understands: truncated, garbled, or a feature it does not take. */
export class DecodeError extends Error {
  /** `unsupported`: well-formed as far as read, but beyond what the quick tier rewrites. */
  constructor(message: string, readonly unsupported = false) { super(message) }
}

export class Reader {
  pos: number
  readonly end: number

  constructor(readonly bytes: Uint8Array, start = 0, end = bytes.byteLength) {
    this.pos = start
    this.end = end
  }

  get done(): boolean { return this.pos >= this.end }

  byte(): number {
    if (this.pos >= this.end) throw new DecodeError(`unexpected end at byte ${this.pos}`)
    return this.bytes[this.pos++]!
  }

  /** An unsigned LEB128 of at most 32 bits. */
  u32(): number {
    let result = 0
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte()
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) throw new DecodeError(`integer too large at byte ${this.pos}`)
        return result
      }
    }
    throw new DecodeError(`integer too long at byte ${this.pos}`)
  }

  /** Skips a signed or unsigned LEB128 of at most `bits` bits. */
  skipLeb(bits: number): void {
    const max = Math.ceil(bits / 7)
    for (let i = 0; i < max; i++) if ((this.byte() & 0x80) === 0) return
    throw new DecodeError(`integer too long at byte ${this.pos}`)
  }

  skip(n: number): void {
    if (n > this.end - this.pos) throw new DecodeError(`unexpected end at byte ${this.end}`)
    this.pos += n
  }

  /** `n` bytes, as a view (not a copy). */
  take(n: number): Uint8Array {
    const at = this.pos
    this.skip(n)
    return this.bytes.subarray(at, at + n)
  }

  name(): string {
    return new TextDecoder('utf-8', { fatal: false }).decode(this.take(this.u32()))
  }
}

export class Writer {
  #buf: Uint8Array
  length = 0

  constructor(capacity = 64) { this.#buf = new Uint8Array(capacity) }

  #room(n: number): void {
    if (this.length + n <= this.#buf.byteLength) return
    let size = this.#buf.byteLength * 2
    while (size < this.length + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.#buf.subarray(0, this.length))
    this.#buf = next
  }

  byte(b: number): this {
    this.#room(1)
    this.#buf[this.length++] = b
    return this
  }

  bytes(b: Uint8Array | readonly number[]): this {
    this.#room(b.length)
    this.#buf.set(b, this.length)
    this.length += b.length
    return this
  }

  /** `src[from, to)`: short runs byte by byte, which is cheaper than a view for `set`. */
  copy(src: Uint8Array, from: number, to: number): this {
    const n = to - from
    this.#room(n)
    if (n > 32) this.#buf.set(src.subarray(from, to), this.length)
    else for (let i = 0; i < n; i++) this.#buf[this.length + i] = src[from + i]!
    this.length += n
    return this
  }

  u32(v: number): this {
    do {
      let b = v & 0x7f
      v = Math.floor(v / 128)
      if (v !== 0) b |= 0x80
      this.byte(b)
    } while (v !== 0)
    return this
  }

  /** A signed LEB128 (i32.const's immediate). */
  s32(v: number): this {
    for (;;) {
      const b = v & 0x7f
      v >>= 7
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) return this.byte(b)
      this.byte(b | 0x80)
    }
  }

  name(s: string): this {
    const b = new TextEncoder().encode(s)
    return this.u32(b.byteLength).bytes(b)
  }

  /** A length-prefixed copy of `w`'s bytes (a section or function body). */
  sized(w: Writer): this { return this.u32(w.length).bytes(w.result()) }

  result(): Uint8Array { return this.#buf.subarray(0, this.length) }
}

/** `v` as an unsigned LEB128, for immediates spliced into code. */
export function u32Bytes(v: number): Uint8Array {
  return new Writer(5).u32(v).result()
}
