// A bounded FIFO of messages for one process, with backpressure both ways: a receiver
// waits for a message, a sender waits for room. Waiters are settled in arrival order.

import { Message } from './message.js'

export interface Waiter<T> { resolve: (v: T) => void; reject: (e: unknown) => void }
interface Sender extends Waiter<void> { message: Message }

export class Mailbox {
  readonly capacity: number
  received = 0
  #queue: Message[] = []
  #head = 0
  #receivers: Waiter<void>[] = []
  #senders: Sender[] = []
  #closed: unknown = undefined

  constructor(capacity: number) { this.capacity = capacity }

  get size(): number { return this.#queue.length - this.#head }
  get full(): boolean { return this.size >= this.capacity }

  /** Enqueues if there is room; false when full (or closed). Notices bypass the bound. */
  offer(m: Message, force = false): boolean {
    if (this.#closed !== undefined || (!force && this.full)) return false
    this.#queue.push(m)
    this.received++
    this.#receivers.shift()?.resolve()
    return true
  }

  peek(): Message | undefined { return this.#head < this.#queue.length ? this.#queue[this.#head] : undefined }

  get closed(): boolean { return this.#closed !== undefined }

  take(): Message | undefined {
    if (this.#head >= this.#queue.length) return undefined
    const m = this.#queue[this.#head]!
    this.#queue[this.#head++] = undefined as unknown as Message
    if (this.#head > 64 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
    // The room just made goes to the first waiting sender (backpressure in order).
    const s = this.#senders.shift()
    if (s !== undefined) {
      this.#queue.push(s.message)
      this.received++
      s.resolve()
    }
    return m
  }

  /** Settles when a message is queued (at once if one is). */
  whenNonEmpty(): Promise<void> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed)
    if (this.size > 0) return Promise.resolve()
    return new Promise((resolve, reject) => this.#receivers.push({ resolve, reject }))
  }

  /**
   * Calls `w.resolve()` when a message is queued (now, if one is), or `w.reject` when the
   * mailbox closes: whenNonEmpty() without a promise, for the scheduler, which parks a
   * guest in every recv that finds nothing and reuses one waiter per process for it.
   */
  whenNonEmptyCall(w: Waiter<void>): void {
    if (this.#closed !== undefined) w.reject(this.#closed)
    else if (this.size > 0) w.resolve()
    else this.#receivers.push(w)
  }

  /**
   * A message the scheduler wrote straight into the receiver waiting on `w` (its recv
   * buffer): counted as received, and `w` waits no more.
   */
  handedOver(w: Waiter<void>): void {
    const i = this.#receivers.indexOf(w)
    if (i >= 0) this.#receivers.splice(i, 1)
    this.received++
  }

  /** Enqueues `m` as soon as there is room, in the order senders asked; settles then. */
  put(m: Message): Promise<void> {
    if (this.offer(m)) return Promise.resolve()
    if (this.#closed !== undefined) return Promise.reject(this.#closed)
    return new Promise((resolve, reject) => this.#senders.push({ message: m, resolve, reject }))
  }

  /** Refuses everything from now on; waiters fail with `reason`. */
  close(reason: unknown): void {
    if (this.#closed !== undefined) return
    this.#closed = reason
    for (const w of [...this.#receivers, ...this.#senders]) w.reject(reason)
    this.#receivers = []
    this.#senders = []
    this.#queue = []
    this.#head = 0
  }
}
