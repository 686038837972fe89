// The pubsub repair protocol between hosts (/ww/pubsub-repair/1.0.0, on the connection
// that is there or a dial): a subscriber that misses messages of a publisher asks that
// publisher's host for them, one request and one answer per stream (pubsub/repair.ts: the
// format and the publisher's window).
//
// Only the publisher answers for its messages: the asker opens the stream to the author
// itself (libp2p authenticates the remote peer), so an answer from any other host cannot
// arrive. Everything else is input: a request that is malformed or too long, or for a topic
// its sender does not subscribe to here, and an answer that is malformed, too long or holds
// entries that were not asked for, is dropped and counted (`reject`); the stream ends, and a
// forged answer (bytes not asked for) ends the connection as a forged gossipsub message does.

import type { Libp2p, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import {
  MAX_REPAIR_ANSWER_BYTES, MAX_REPAIR_REQUEST_BYTES, decodeRepairAnswer, decodeRepairRequest, encodeRepairAnswer,
  encodeRepairRequest, type RepairRequest, type RepairWindows,
} from '../pubsub/repair.js'
import type { RepairReply } from './reorder.js'

export const REPAIR_PROTOCOL = '/ww/pubsub-repair/1.0.0'

/** Bound on one repair: dial or stream, request, answer. */
const REPAIR_TIMEOUT_MS = 10_000
/** How long a request waits for its sender's subscription to reach this host (it may come second, after a reconnect). */
const SUBSCRIPTION_WAIT_MS = 5_000
/** Repair streams one peer may have open here at once. */
const MAX_INBOUND_STREAMS = 4

export interface PubsubRepairInit {
  node: Libp2p
  windows: RepairWindows
  /** Whether `peer` subscribes to `topic` here now. */
  subscribes(peer: string, topic: string): boolean
  /** Calls `cb` when a peer's subscriptions change; returns the unsubscribe. */
  onSubscriptionChange(cb: () => void): () => void
  /** A request or answer refused: counted by the cluster; `forged` ends the peer's connections. */
  reject(peer: string, why: string, forged: boolean): void
  onError: (e: unknown) => void
}

export class PubsubRepair {
  readonly #init: PubsubRepairInit
  #closed = false
  /** Requests served and answers used, for tests and the harness. */
  readonly stats = { served: 0, asked: 0, answered: 0 }

  constructor(init: PubsubRepairInit) {
    this.#init = init
  }

  async start(): Promise<void> {
    await this.#init.node.handle(REPAIR_PROTOCOL, (stream, connection) => {
      this.#serve(stream, connection.remotePeer.toString()).catch((e: unknown) => {
        stream.abort(e instanceof Error ? e : new Error(String(e)))
      })
    }, { maxInboundStreams: MAX_INBOUND_STREAMS })
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#init.node.unhandle(REPAIR_PROTOCOL).catch(this.#init.onError)
  }

  async #serve(stream: Stream, peer: string): Promise<void> {
    const signal = AbortSignal.timeout(REPAIR_TIMEOUT_MS)
    const bytes = await readAll(stream, MAX_REPAIR_REQUEST_BYTES, signal)
    const req = bytes === undefined ? `over ${MAX_REPAIR_REQUEST_BYTES} bytes` : decodeRepairRequest(bytes)
    if (typeof req === 'string') return this.#refuse(stream, peer, `repair request: ${req}`, false)
    if (!await this.#subscribed(peer, req.topic, signal)) return this.#refuse(stream, peer, `repair request for ${req.topic}, which it does not subscribe to`, false)
    this.stats.served++
    stream.send(encodeRepairAnswer(this.#init.windows.answer(req)))
    await stream.close({ signal })
  }

  #refuse(stream: Stream, peer: string, why: string, forged: boolean): void {
    this.#init.reject(peer, why, forged)
    stream.abort(new Error(why))
  }

  #subscribed(peer: string, topic: string, signal: AbortSignal): Promise<boolean> {
    const { subscribes, onSubscriptionChange } = this.#init
    if (subscribes(peer, topic)) return Promise.resolve(true)
    return new Promise((resolve) => {
      const end = (v: boolean): void => { off(); clearTimeout(t); signal.removeEventListener('abort', onAbort); resolve(v) }
      const onAbort = (): void => end(false)
      const off = onSubscriptionChange(() => { if (subscribes(peer, topic)) end(true) })
      const t = setTimeout(() => end(subscribes(peer, topic)), SUBSCRIPTION_WAIT_MS)
      signal.addEventListener('abort', onAbort)
    })
  }

  /**
   * Asks `publisher` for `req`'s ranges of its messages. Undefined when it could not be
   * asked (no route, a reset, the bound) or its answer was refused. An answer from another
   * epoch (the publisher restarted) says everything asked is gone.
   */
  async fetch(publisher: string, req: RepairRequest): Promise<RepairReply | undefined> {
    if (this.#closed) return undefined
    const signal = AbortSignal.timeout(REPAIR_TIMEOUT_MS)
    let stream: Stream
    try {
      stream = await this.#init.node.dialProtocol(peerIdFromString(publisher), REPAIR_PROTOCOL, { signal })
    } catch {
      return undefined
    }
    this.stats.asked++
    try {
      const answer = readAll(stream, MAX_REPAIR_ANSWER_BYTES, signal) // listening before the request leaves
      answer.catch(() => {}) // awaited below; a failure before that is not unhandled
      stream.send(encodeRepairRequest(req))
      await stream.close({ signal })
      const bytes = await answer
      const a = bytes === undefined ? { refused: `over ${MAX_REPAIR_ANSWER_BYTES} bytes`, forged: false } : decodeRepairAnswer(bytes, req)
      if ('refused' in a) { this.#refuse(stream, publisher, `repair answer: ${a.refused}`, a.forged); return undefined }
      this.stats.answered++
      // Another epoch: the publisher restarted, and nothing asked of the old one is left.
      if (a.epoch !== req.epoch) return { entries: [], through: req.ranges.at(-1)![1], head: 0 }
      return { entries: a.entries, through: a.through, head: a.head }
    } catch (e) {
      stream.abort(e instanceof Error ? e : new Error(String(e)))
      return undefined
    }
  }
}

/** What the remote sends until it closes its end, or undefined past `max` bytes. */
async function readAll(stream: Stream, max: number, signal: AbortSignal): Promise<Uint8Array | undefined> {
  const parts: Uint8Array[] = []
  let n = 0
  const onAbort = (): void => { stream.abort(new Error('repair timed out')) }
  signal.addEventListener('abort', onAbort)
  try {
    for await (const chunk of stream) {
      const b = chunk instanceof Uint8Array ? chunk : chunk.subarray()
      n += b.byteLength
      if (n > max) return undefined
      parts.push(b)
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
  signal.throwIfAborted()
  if (parts.length === 1) return parts[0]!
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.byteLength }
  return out
}
