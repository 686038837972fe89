// Messages with custody: the bytes a process sends are copied exactly once out of its
// memory into a host buffer that nobody writes again. Every receiver gets the same
// Message object (and so the same bytes): host receivers read them in place, a guest
// receiver gets them written into its own memory (the one copy a guest needs).
// (A guest's message to a guest already waiting for it in recv skips the Message: the
// scheduler copies it straight from one memory into the other; see handOver in imports.ts.)

import type { ExitStatus, Pid } from './status.js'

/** What a message is: a user payload, or a notice the scheduler sends. */
export type MessageKind = 'user' | 'down' | 'exit'

export class Message {
  readonly kind: MessageKind
  /** Sender pid; 0 for the host. */
  readonly from: Pid
  /** For `down`/`exit` notices: how `from` ended. */
  readonly status: ExitStatus | undefined
  /**
   * The mailbox capability it carries (the pid of that process; 0: none). A guest that
   * receives it gets a handle to that mailbox in its own table (`ww_proc.cap`).
   */
  readonly cap: Pid
  readonly #bytes: Uint8Array

  private constructor(kind: MessageKind, from: Pid, bytes: Uint8Array, status?: ExitStatus, cap: Pid = 0) {
    this.kind = kind
    this.from = from
    this.#bytes = bytes
    this.status = status
    this.cap = cap
  }

  /**
   * Takes custody of a copy of `src` (the only copy ever made of it on the host), in a
   * heap buffer of its own, or in what `alloc` gives (e.g. shared memory).
   */
  static copyOf(src: Uint8Array, from: Pid = 0, alloc?: (n: number) => Uint8Array, cap: Pid = 0): Message {
    if (alloc === undefined) return new Message('user', from, src.slice(), undefined, cap)
    const bytes = alloc(src.byteLength)
    bytes.set(src)
    return new Message('user', from, bytes, undefined, cap)
  }

  /**
   * Wraps bytes already in host custody without copying them: the one copy out of a
   * sender was made elsewhere (on another worker thread) and nobody writes them again.
   */
  static adopt(bytes: Uint8Array, from: Pid, kind: MessageKind = 'user', status?: ExitStatus, cap: Pid = 0): Message {
    return new Message(kind, from, bytes, status, cap)
  }

  /** The same bytes (no copy), from the same sender, carrying the capability to `cap`'s mailbox. */
  withCap(cap: Pid): Message {
    return new Message(this.kind, this.from, this.#bytes, this.status, cap)
  }

  /** A scheduler notice that `from` ended with `status` (payload: the status as JSON). */
  static notice(kind: 'down' | 'exit', from: Pid, status: ExitStatus): Message {
    return new Message(kind, from, new TextEncoder().encode(JSON.stringify(status)), status)
  }

  get byteLength(): number { return this.#bytes.byteLength }

  /**
   * The bytes, in place: shared by every receiver, so read them and never write them.
   * (Node 20 has no immutable ArrayBuffer; custody is kept by this contract and by
   * never handing out the sender's memory.)
   */
  get bytes(): Uint8Array { return this.#bytes }

  /** Writes the bytes into `target` at `offset` (a guest receiver's memory). */
  copyTo(target: Uint8Array, offset = 0): void {
    target.set(this.#bytes, offset)
  }

  text(): string { return new TextDecoder().decode(this.#bytes) }
}
