// Answer: a call the peer sent us, from its Call until its Finish. Calls the peer
// pipelines on it while it is pending wait in `queue` (copied frames), in arrival order.

import type { Message } from 'capnp-ts'
import type { Segment } from 'capnp-ts/src/serialization/segment.js'
import { Payload } from 'capnp-ts/src/std/rpc.capnp.js'
import type { Question } from './question.js'

/** A call waiting for the answer it targets; its frame was copied once (host-owned). */
export interface DeferredCall {
  answer: Answer
  message: Message
  interfaceId: bigint
  methodId: number
  transform: number[]
}

export class Answer {
  state: 'pending' | 'resolved' | 'rejected' = 'pending'
  #payload?: Payload
  #payloadSeg?: Segment
  #payloadPos = 0
  error?: Error
  /** Export ids in the results' cap table (released on Finish.releaseResultCaps). */
  resultExports?: number[]
  queue?: DeferredCall[]
  /**
   * The question a forwarder sent this call on as (on another connection, or this one):
   * while both are pending, calls pipelined on this answer go on pipelined on that
   * question — one round trip to the owner, not a wait here for the answer.
   */
  onward?: Question
  /** Finish arrived while the call was still running. */
  finished = false
  releaseOnFinish = false
  #promise?: Promise<Payload>
  #resolve?: (p: Payload) => void
  #reject?: (e: Error) => void

  constructor(readonly id: number) {}

  /** For capnp-ts's "answer" client targets; created only when one is used. */
  get payloadPromise(): Promise<Payload> {
    if (this.#promise === undefined) {
      if (this.state === 'resolved') this.#promise = Promise.resolve(this.payload!)
      else if (this.state === 'rejected') this.#promise = Promise.reject(this.error)
      else this.#promise = new Promise((res, rej) => { this.#resolve = res; this.#reject = rej })
      this.#promise.catch(() => undefined)
    }
    return this.#promise
  }

  /** Results payload, in the Return message we sent; built on first use (pipelining only). */
  get payload(): Payload | undefined {
    if (this.#payload === undefined && this.#payloadSeg !== undefined) this.#payload = new Payload(this.#payloadSeg, this.#payloadPos)
    return this.#payload
  }

  /** Resolved with the Payload whose struct pointer is at byte `pos` of `seg`. */
  resolveAt(seg: Segment, pos: number): void {
    this.#payloadSeg = seg
    this.#payloadPos = pos
    this.state = 'resolved'
    if (this.#resolve !== undefined) this.#resolve(this.payload!)
  }

  reject(err: Error): void {
    this.error = err
    this.state = 'rejected'
    this.#reject?.(err)
  }
}
