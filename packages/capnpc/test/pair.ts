// Two in-process capnp-ts Transports joined back to back. Messages are copied and
// delivered on a later microtask, as a real transport would (no re-entrancy).

import type { Transport } from 'capnp-ts'

class End implements Transport {
  peer: End | undefined
  #onMessage: ((data: Uint8Array) => void) | undefined
  #onClose: ((err?: Error) => void) | undefined
  #closed = false
  sent = 0

  send(data: Uint8Array): void {
    if (this.#closed) return
    this.sent++
    const copy = data.slice()
    const peer = this.peer
    queueMicrotask(() => peer?.deliver(copy))
  }
  deliver(data: Uint8Array): void { if (!this.#closed) this.#onMessage?.(data) }
  onMessage(cb: (data: Uint8Array) => void): void { this.#onMessage = cb }
  onClose(cb: (err?: Error) => void): void { this.#onClose = cb }
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#onClose?.()
    this.peer?.close()
  }
}

export function transportPair(): [End, End] {
  const a = new End()
  const b = new End()
  a.peer = b
  b.peer = a
  return [a, b]
}
