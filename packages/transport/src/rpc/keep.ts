// Custody helpers. A server reads its params in place (in guest memory) during the
// synchronous part of its method; the rule is: read params before your first await. What
// must outlive the call is copied once here into a host value nobody can mutate.

import { Message, Data, Struct } from 'capnp-ts'
import type { StructCtor } from 'capnp-ts'

/** Immutable bytes owned by the host; share freely (every holder reads the same bytes). */
export class KeptBytes {
  readonly #bytes: Uint8Array

  /** Use keep(); the constructor takes ownership of `bytes`. */
  constructor(bytes: Uint8Array, secret: typeof OWN) {
    if (secret !== OWN) throw new TypeError('use keep() to make KeptBytes')
    this.#bytes = bytes
  }

  get byteLength(): number { return this.#bytes.byteLength }

  at(index: number): number | undefined { return this.#bytes[index] }

  /** A fresh mutable copy of [start, end). */
  slice(start?: number, end?: number): Uint8Array { return this.#bytes.slice(start, end) }

  /** The bytes as UTF-8 text. */
  text(): string { return new TextDecoder().decode(this.#bytes) }

  equals(other: KeptBytes | Uint8Array): boolean {
    const b = other instanceof KeptBytes ? other.#bytes : other
    if (b.byteLength !== this.#bytes.byteLength) return false
    for (let i = 0; i < b.byteLength; i++) if (b[i] !== this.#bytes[i]) return false
    return true
  }

  /** Write the bytes into `target` at `offset` (e.g. into a results Data). */
  copyTo(target: Uint8Array, offset = 0): void { target.set(this.#bytes, offset) }

  [Symbol.iterator](): IterableIterator<number> { return this.#bytes.values() }
}

const OWN = Symbol('own')

/** Copy Data (or any byte view) once into immutable host bytes. */
export function keep(value: Data | ArrayBufferView): KeptBytes {
  const src = value instanceof Data
    ? value.toUint8Array()
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  return new KeptBytes(src.slice(), OWN)
}

/**
 * Copy a struct (and everything it points to) once into a host-owned message; capabilities
 * in it keep referring to the same clients. Treat the copy as read-only.
 */
export function keepStruct<T extends Struct>(s: T): T {
  const m = new Message()
  m.setRoot(s)
  const caps = s.segment.message._capnp.capTable
  if (caps !== undefined) m._capnp.capTable = caps.slice()
  return m.getRoot(s.constructor as StructCtor<T>)
}
