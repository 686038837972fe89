// Question: a call we sent, until its Return. It is also the RemotePromise state
// (pipeline/promise) and the duck type capnp-ts's Client uses for "promised" targets
// (state, id, conn, error, pipelineClient, clientForTransform).

import { Client } from 'capnp-ts'
import type { Struct, StructCtor } from 'capnp-ts'
import type { Segment } from 'capnp-ts/src/serialization/segment.js'
import { Payload } from 'capnp-ts/src/std/rpc.capnp.js'
import { getStruct } from 'capnp-ts/src/serialization/pointers/struct.js'
import type { Target } from 'capnp-ts/src/rpc/client.js'
import { brokenClient } from 'capnp-ts/src/rpc/capability.js'
import { RpcProtocolError, reasonOf } from '../errors.js'
import { capabilityAt } from './caps.js'

/** What Question needs from its connection (RpcConnection satisfies it). */
export interface QuestionConn {
  sendCall(...args: never[]): unknown
}

/**
 * Takes a question's Return synchronously, inside the receive() that brought it (a
 * forwarder): the results are read while a borrowed frame is still there, so the frame
 * need not be copied to outlive it. Neither method may throw.
 */
export interface ReturnSink {
  /** The results struct; of a borrowed frame, readable during this call only. */
  results(value: Struct): void
  failed(e: Error): void
}

export class Question {
  state: 'pending' | 'resolved' | 'rejected' = 'pending'
  error?: Error
  /** Set before the Call is sent: where the Return goes (instead of `promise`). */
  sink?: ReturnSink
  /** Pipelined clients were made on it while pending: its results must outlive their frame. */
  pipelined = false
  #payload?: Payload
  #payloadSeg?: Segment
  #payloadPos = 0
  /** Export ids we put in the params' cap table (released if the peer says releaseParamCaps). */
  paramExports?: number[]
  #value?: Struct
  #promise?: Promise<Struct>
  #resolve?: (v: Struct) => void
  #reject?: (e: Error) => void
  #clients?: Map<string, Client>
  /** The client at the empty transform (a bootstrap capability): asked for on every call through it. */
  #root?: Client

  constructor(
    readonly conn: QuestionConn,
    readonly id: number,
    readonly ResultsClass: StructCtor<Struct> | undefined,
  ) {}

  /** The results struct; created lazily so a call nobody awaits allocates no promise. */
  get promise(): Promise<Struct> {
    if (this.#promise === undefined) {
      if (this.state === 'resolved') this.#promise = Promise.resolve(this.#value!)
      else if (this.state === 'rejected') this.#promise = Promise.reject(this.error)
      else this.#promise = new Promise((res, rej) => { this.#resolve = res; this.#reject = rej })
    }
    return this.#promise
  }

  /** RemotePromise state: a pipelined client for pointer field `index` of the results. */
  pipeline(index: number): Client {
    return this.pipelineClient([index])
  }

  pipelineClient(transform: number[]): Client {
    if (this.state === 'pending') {
      this.pipelined = true
      return new Client({ question: this, tag: 'promised', transform } as unknown as Target)
    }
    return this.clientForTransform(transform)
  }

  clientForTransform(transform: number[]): Client {
    if (this.state === 'rejected') return brokenClient(this.error === undefined ? 'call failed' : reasonOf(this.error))
    if (this.payload === undefined) return brokenClient('question is not resolved')
    if (transform.length === 0) return (this.#root ??= capabilityAt(this.payload, transform))
    const key = transform.join('.')
    let c = this.#clients?.get(key)
    if (c === undefined) {
      c = capabilityAt(this.payload, transform)
      ;(this.#clients ??= new Map()).set(key, c)
    }
    return c
  }

  /** The results Payload; built on first use (pipelining, bootstrap). */
  get payload(): Payload | undefined {
    if (this.#payload === undefined && this.#payloadSeg !== undefined) this.#payload = new Payload(this.#payloadSeg, this.#payloadPos)
    return this.#payload
  }

  /**
   * Resolve with `value` (the results struct, already checked) and the Payload whose struct
   * pointer is at byte `pos` of `seg`.
   */
  resolveAt(value: Struct, seg: Segment, pos: number): void {
    if (this.state !== 'pending') return
    this.#payloadSeg = seg
    this.#payloadPos = pos
    this.#value = value
    this.state = 'resolved'
    if (this.sink !== undefined) this.sink.results(value)
    if (this.#resolve !== undefined) this.#resolve(value)
  }

  /**
   * Its results were in a borrowed frame that was not kept (a sink read them in time):
   * drop the views of it, so nothing reads the frame's memory after it is reused.
   */
  forget(): void {
    this.#payload = undefined
    this.#payloadSeg = undefined
    this.#value = undefined
  }

  resolve(payload: Payload): void {
    if (this.state !== 'pending') return
    let value: Struct = payload
    if (this.ResultsClass !== undefined) {
      try {
        value = getStruct(0, this.ResultsClass, payload)
      } catch (e) {
        this.reject(new RpcProtocolError(`Return ${this.id}: malformed results: ${reasonOf(e)}`, { cause: e }))
        return
      }
    }
    this.#payload = payload
    this.#value = value
    this.state = 'resolved'
    this.sink?.results(value)
    this.#resolve?.(value)
  }

  reject(err: Error): void {
    if (this.state !== 'pending') return
    this.error = err
    this.state = 'rejected'
    this.sink?.failed(err)
    if (this.#reject !== undefined) this.#reject(err)
  }
}
