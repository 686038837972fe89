import { InvalidArgumentError, QueueFullError } from '../errors.js'

/**
 * What a full queue does with one more item:
 * - `block`: the producer waits (offer returns a promise) — lossless, slows the publisher;
 * - `dropOldest`: the oldest queued item is discarded — a consumer sees the latest;
 * - `dropNewest`: the incoming item is discarded — a consumer sees a prefix.
 * Drops are counted; nothing is lost silently.
 */
export type OverflowPolicy = 'block' | 'dropOldest' | 'dropNewest'

export interface MailboxStats {
  delivered: number
  dropped: number
  queued: number
  /** Producers currently waiting for room (policy `block`). */
  blocked: number
}

export interface MailboxOptions {
  capacity?: number
  policy?: OverflowPolicy
  /** Producers allowed to wait at once under `block` before offers fail with ERR_QUEUE_FULL. */
  maxBlocked?: number
}

const RESOLVED: Promise<void> = Promise.resolve()

/**
 * A bounded single-consumer FIFO. Consumed either by a handler (drained in a microtask;
 * a handler's promise is awaited before the next item, so order holds) or by async
 * iteration.
 */
export class Mailbox<T> implements AsyncIterable<T> {
  readonly capacity: number
  readonly policy: OverflowPolicy
  readonly #maxBlocked: number
  // Ring buffer: `#head` is the oldest item, `#size` items from there.
  #buf: Array<T | undefined>
  #head = 0
  #size = 0
  #blocked: Array<{ item: T; resolve: () => void; reject: (e: Error) => void }> = []
  #delivered = 0
  #dropped = 0
  #closed = false
  #handler: ((item: T) => void | Promise<void>) | undefined
  #draining = false
  #waiter: ((r: IteratorResult<T>) => void) | undefined
  #onError: (e: unknown) => void

  constructor(opts: MailboxOptions = {}, onError: (e: unknown) => void = () => {}) {
    const capacity = opts.capacity ?? 32
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 20) {
      throw new InvalidArgumentError(`capacity must be an integer in [1, 2^20], got ${capacity}`)
    }
    this.capacity = capacity
    this.policy = opts.policy ?? 'block'
    this.#maxBlocked = opts.maxBlocked ?? capacity
    this.#buf = new Array<T | undefined>(capacity)
    this.#onError = onError
  }

  get closed(): boolean { return this.#closed }

  stats(): MailboxStats {
    return { delivered: this.#delivered, dropped: this.#dropped, queued: this.#size, blocked: this.#blocked.length }
  }

  /** Sets the consumer to a handler. Call once, before any iteration. */
  handle(handler: (item: T) => void | Promise<void>): void {
    this.#handler = handler
    if (this.#size > 0) this.#scheduleDrain()
  }

  /**
   * Adds an item. Returns a promise only when the producer must wait (policy `block`
   * with a full queue); otherwise undefined. Rejects with ERR_CLOSED on a closed box.
   */
  offer(item: T): Promise<void> | undefined {
    if (this.#closed) return undefined
    if (this.#waiter) {
      // An iterator is parked on an empty queue: hand over directly.
      const w = this.#waiter
      this.#waiter = undefined
      this.#delivered++
      w({ value: item, done: false })
      return undefined
    }
    if (this.#size < this.capacity && this.#blocked.length === 0) {
      this.#push(item)
      return undefined
    }
    switch (this.policy) {
      case 'dropNewest':
        this.#dropped++
        return undefined
      case 'dropOldest':
        this.#buf[this.#head] = undefined
        this.#head = (this.#head + 1) % this.capacity
        this.#size--
        this.#dropped++
        this.#push(item)
        return undefined
      case 'block':
        if (this.#blocked.length >= this.#maxBlocked) {
          this.#dropped++
          return Promise.reject(new QueueFullError(`${this.#blocked.length} producers already waiting`))
        }
        return new Promise<void>((resolve, reject) => this.#blocked.push({ item, resolve, reject }))
    }
  }

  #push(item: T): void {
    this.#buf[(this.#head + this.#size) % this.capacity] = item
    this.#size++
    if (this.#handler && this.#size === 1) this.#scheduleDrain()
  }

  #shift(): T {
    const item = this.#buf[this.#head] as T
    this.#buf[this.#head] = undefined
    this.#head = (this.#head + 1) % this.capacity
    this.#size--
    this.#delivered++
    // Room freed: admit the longest-waiting producer, keeping FIFO order.
    const b = this.#blocked.shift()
    if (b) { this.#push(b.item); b.resolve() }
    return item
  }

  #scheduleDrain(): void {
    if (this.#draining) return
    this.#draining = true
    queueMicrotask(() => { void this.#drain() })
  }

  async #drain(): Promise<void> {
    const handler = this.#handler!
    try {
      while (this.#size > 0 && !this.#closed) {
        const r = handler(this.#shift())
        if (r !== undefined) {
          try { await r } catch (e) { this.#onError(e) }
        }
      }
    } catch (e) {
      this.#onError(e)
      if (this.#size > 0 && !this.#closed) queueMicrotask(() => { void this.#drain() })
      return
    } finally {
      this.#draining = false
    }
  }

  /** Next item, waiting if none; `done` once closed and drained. */
  next(): Promise<IteratorResult<T>> {
    if (this.#size > 0) return Promise.resolve({ value: this.#shift(), done: false })
    if (this.#closed) return Promise.resolve({ value: undefined, done: true })
    if (this.#waiter) return Promise.reject(new InvalidArgumentError('mailbox has one consumer'))
    return new Promise((resolve) => { this.#waiter = resolve })
  }

  /**
   * Closes the box: queued and waiting items are discarded (counted) and waiting
   * producers released — a subscriber going away never fails its publishers.
   */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#dropped += this.#size
    this.#buf.fill(undefined)
    this.#size = 0
    this.#dropped += this.#blocked.length
    for (const b of this.#blocked.splice(0)) b.resolve()
    const w = this.#waiter
    this.#waiter = undefined
    w?.({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: () => { this.close(); return Promise.resolve({ value: undefined, done: true }) },
    }
  }
}

export { RESOLVED }
