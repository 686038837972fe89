import type { CallOptions } from '../util/abort.js'
import type { MailboxOptions, MailboxStats } from '../pubsub/mailbox.js'

/** What a node holds: immutable bytes, or a capability-like object. */
export type AnchorValue =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'cap'; readonly cap: object }

/** What a caller stores: bytes (copied once, then immutable) or `{ cap }`. */
export type AnchorInput = Uint8Array | { cap: object }

export interface AnchorEvent {
  /** Where it happened, relative to the watched anchor ('' = the anchor itself). */
  readonly path: string
  readonly kind: 'set' | 'clear'
  readonly value?: AnchorValue
  /** The node's version after this change (see Anchor.version). */
  readonly version?: number
}

export interface AnchorWatch extends AsyncIterable<AnchorEvent>, Disposable {
  stats(): MailboxStats
  close(): void
  /**
   * Resolves once changes flow to this watch: at once for a local node; for a node on
   * another host, once that host registered it (or the watch ended).
   */
  readonly ready?: Promise<void>
}

export interface WatchOptions extends MailboxOptions {
  handler?: (e: AnchorEvent) => void | Promise<void>
}

/**
 * A handle on one node of a path tree. Data calls are async because the node may live on
 * another host; `walk` is not (it names a node; the first call on it does the work).
 */
export interface Anchor extends Disposable {
  /** Path from the root this handle was given out from. */
  readonly path: string
  readonly writable: boolean
  /** Names of the children. */
  ls(opts?: CallOptions): Promise<string[]>
  /** A handle on a descendant (relative path, see parsePath); '' gives a new handle on this node. */
  walk(path: string): Anchor
  load(opts?: CallOptions): Promise<AnchorValue | undefined>
  /**
   * The node's write counter (0: never held a value), read synchronously. Present on
   * local nodes; a remote anchor may not have it.
   */
  version?(): number
  /**
   * A node on another host has no synchronous `version`; it offers these instead, each
   * answering the version that host reported (a read, a write, a compare-and-set there).
   * `storeVersioned(undefined)` clears.
   */
  loadVersioned?(opts?: CallOptions): Promise<{ value: AnchorValue | undefined; version: number }>
  storeVersioned?(value: AnchorInput | undefined, opts?: CallOptions): Promise<number>
  compareAndSet?(expected: number, value: AnchorInput | undefined, opts?: CallOptions): Promise<{ swapped: boolean; version: number }>
  /** ERR_CAP_DENIED on a read-only handle. A replaced capability gets its release() called. */
  store(value: AnchorInput, opts?: CallOptions): Promise<void>
  clear(opts?: CallOptions): Promise<void>
  /** Events for this node and its whole subtree, from now on. */
  watch(opts?: WatchOptions): AnchorWatch
  /** Attenuation: the same node and subtree, without store/clear. */
  readOnly(): Anchor
  /** Drops this handle's reference; nodes with no value, children or handles disappear. */
  release(): void
}
