import type { CallOptions } from '../util/abort.js'
import type { MailboxOptions, MailboxStats } from './mailbox.js'

/** A host's identity: its libp2p peer id, or a random id for an embedded host. */
export type HostId = string

/** One published message. `data` is shared by every subscriber and must not be mutated. */
export interface Message {
  readonly topic: string
  /** The publishing host (authenticated by the transport's signature on libp2p). */
  readonly from: HostId
  /**
   * Per (publisher, topic) sequence number, from 1; subscribers see it increase (by 1 unless
   * a gap was skipped: `gaps()`). A publisher whose host restarted counts from 1 again.
   */
  readonly seq: number
  readonly data: Uint8Array
}

export interface SubscribeOptions extends MailboxOptions {
  /** Consume by callback; its promise is awaited before the next message. Otherwise iterate. */
  handler?: (m: Message) => void | Promise<void>
}

export interface Subscription extends AsyncIterable<Message>, Disposable {
  readonly topic: string
  stats(): MailboxStats
  /** Unsubscribes and releases this subscription's hold on the topic. Idempotent. */
  close(): void
}

export interface Topic extends Disposable {
  readonly name: string
  readonly canPublish: boolean
  readonly canSubscribe: boolean
  /**
   * Publishes `data` (taken as immutable: do not mutate it afterwards). Resolves at once
   * unless a local subscriber with policy `block` is full; then when it has room.
   */
  publish(data: Uint8Array): Promise<void>
  subscribe(opts?: SubscribeOptions): Subscription
  /** Remote hosts known to subscribe to this topic. */
  peers(): HostId[]
  /** Resolves once at least `n` remote hosts subscribe (to start publishing after a mesh forms). */
  waitForPeers(n: number, opts?: CallOptions): Promise<void>
  /** Attenuations: a handle that can only publish, or only subscribe. */
  publishOnly(): Topic
  subscribeOnly(): Topic
  /** Releases this handle; the topic is left when its last handle and subscription go. */
  release(): void
}

export interface PubSubStats {
  /** Topics currently joined (held by at least one handle or subscription). */
  topics: number
  subscriptions: number
  published: number
  /** Messages received from other hosts. */
  received: number
}

export interface PubSub {
  join(name: string): Topic
  stats(): PubSubStats
}

/**
 * What a cluster supplies to carry pubsub between hosts. Messages it delivers are
 * already in order per publisher; the embedded cluster has none.
 */
export interface PubSubNetwork {
  join(topic: string, deliver: (from: HostId, seq: number, data: Uint8Array) => void): void
  leave(topic: string): void
  /** Throws (RateLimitedError) if this host may not send `bytes` more on `topic` now; called before publish. */
  admit?(topic: string, bytes: number): void
  publish(topic: string, seq: number, data: Uint8Array): void
  peers(topic: string): HostId[]
  onPeersChange(topic: string, cb: () => void): () => void
}
