// Schema-agnostic forwarding: a Server that takes a call of any interface and method and
// sends it on to another capability (an import of another connection, a pipelined answer,
// anything a Client can call), copying params and results as raw pointers (copy.ts) and
// wrapping each capability inside them that is not local in a forwarder of its own.
//
// RpcConnection uses it for every capability it is asked to send that belongs to another
// connection (forwarderFor): the capability goes out as one of ours (senderHosted), and
// the forwarder holds its own handle on the original until the last peer releases it,
// which then releases the original (the owner's export goes away). A capability whose
// owner's connection closed fails calls at once with ERR_CLOSED.
//
// Hot path (a target on an RpcConnection, unbounded or bounded by `watch`): no promise per
// call. The forwarder answers through the caller connection's Reply; the call it sends on
// carries a ReturnSink, which copies the results into the forwarder's own Return inside the
// receive() that brings them — one copy of each direction's payload on this host, none of
// the frame — and the caller's answer remembers that question, so calls pipelined on it
// follow it to the owner instead of waiting here. `stats` counts the calls and copies.

import { Client, Message, RemotePromise, Server, type Method, type Pointer, type Struct, type StructCtor } from 'capnp-ts'
import { AnyStruct } from 'capnp-ts/src/rpc/any-struct.js'
import { resize } from 'capnp-ts/src/serialization/pointers/struct.js'
import { getTargetStructSize } from 'capnp-ts/src/serialization/pointers/pointer.js'
import type { ObjectSize } from 'capnp-ts/src/serialization/object-size.js'
import { LimitError, RemoteError } from '../errors.js'
import { COPY_WORD_LIMIT, copyPointer, type CapTranslate } from './copy.js'
import { ImportClient, retainClient } from './imports.js'
import { AnyServer, findMethod, type Reply, type ReplyMethod } from './methods.js'
import type { Question, ReturnSink } from './question.js'
import type { CallTarget } from './connection.js'
import { onReleased } from './release.js'

export interface ForwardOptions {
  /** Throws the typed error calls fail with now (e.g. revoked); run as each call arrives and ends. */
  check?: () => void
  /**
   * Bounds one forwarded call (a deadline, a link's closing) by wrapping it in a promise:
   * such calls take the promise path, their Return frames copied. Prefer `watch`.
   */
  bound?: <T>(what: string, call: () => PromiseLike<T>) => Promise<T>
  /**
   * Bounds one forwarded call without a promise: `fail` ends the call with its error (a
   * deadline, a link's closing); the function returned is called when the call ended first.
   * `what` names the call, for that error.
   */
  watch?: (what: () => string, fail: (e: unknown) => void) => () => void
  /** The error a caller sees for a failed forwarded call (default: the failure as it is). */
  mapError?: (e: unknown) => unknown
  /** Runs once, when no peer holds the forwarder any more. */
  released?: () => void
  /**
   * Calls in flight through one forwarder (default 1024); past it a call fails ERR_LIMIT
   * (overloaded). What bounds a forwarding loop (A forwards to B, which forwards to A):
   * nothing on the wire counts hops, but each turn of a loop adds a call in flight here.
   */
  maxInFlight?: number
}

export const DEFAULT_MAX_IN_FLIGHT = 1024

/** Any method of any interface (the forwarder does not know the schema). */
export type AnyMethod = Method<Struct, Struct>
/** Where a forwarded call goes: a Client, or a function that finds one per call. */
export type ForwardTarget = Client | (() => Client | Promise<Client>)

/** RemotePromise with its pipelining primitive public, for a capability field by index. */
export class RawCall<R extends Struct = Struct> extends RemotePromise<R> {
  cap(index: number): Client { return this.pipelineClient(index) }
}

/** Calls `method` on `client`, params written by `fill`, pipelined (the Call is sent before this returns). */
export function callRaw(client: Client, method: Method<Struct, Struct>, fill: (params: Struct) => void): RawCall {
  return client.call(method, fill, RawCall) as RawCall
}

/** A Method for (interfaceId, methodId) whose params and results are raw structs. */
export function rawMethod(interfaceId: bigint, methodId: number): AnyMethod {
  return {
    interfaceId, methodId, interfaceName: interfaceId.toString(16), methodName: String(methodId),
    ParamsClass: AnyStruct, ResultsClass: AnyStruct,
  }
}

/** What one forwarder copied: each copy of params or results between messages, and its bytes. */
export interface ForwardStats {
  calls: number
  copies: number
  copiedBytes: number
}

/** A forwarding server, with the counts of what it forwarded. */
export abstract class ForwardingServer extends AnyServer {
  abstract readonly stats: ForwardStats
}

/**
 * A server forwarding every call to `target` (a client, or a function giving one — at once
 * or once a link is up — asked on the first call).
 */
export function forwardingServer(target: ForwardTarget, opts: ForwardOptions = {}): ForwardingServer {
  return new Forwarder(target, opts, new Map())
}

/** The connection side of a capability a forwarder can send a call on with a ReturnSink. */
interface ForwardConn {
  sendForwarded(target: CallTarget, method: AnyMethod, fill: (p: Struct) => void, sink: ReturnSink): Question | Error
}

/**
 * Where a call on `client` goes when an RpcConnection sends it (an import, or a question
 * still pending), following resolved questions; undefined for anything else.
 */
function wireTarget(client: Client): { conn: ForwardConn; target: CallTarget } | undefined {
  for (;;) {
    const t = client._target as unknown as { tag: string; conn?: ForwardConn; id?: number; question?: Question; transform?: number[] }
    if (t.tag === 'import') return typeof t.conn?.sendForwarded === 'function' ? { conn: t.conn, target: { importedCap: t.id! } } : undefined
    if (t.tag !== 'promised') return undefined
    const q = t.question!
    if (q.state !== 'pending') { client = q.clientForTransform(t.transform!); continue }
    const conn = q.conn as unknown as ForwardConn
    return typeof conn.sendForwarded === 'function' ? { conn, target: { promisedAnswer: { questionId: q.id, transform: t.transform! } } } : undefined
  }
}

/** A promise's Reply, for callers of a forwarder's `impl` (capnp-ts's local calls, #local). */
function promisedReply(call: (reply: Reply) => void): Promise<void> {
  return new Promise((resolve, reject) => call({ done: resolve, fail: reject, forwardedAs: () => {} }))
}

class Forwarder extends ForwardingServer {
  readonly stats: ForwardStats = { calls: 0, copies: 0, copiedBytes: 0 }
  readonly #target: ForwardTarget
  readonly #opts: ForwardOptions
  readonly #max: number
  /** Forwarders made for capabilities that crossed this one, by the client they forward to. */
  readonly #wrappers: Map<Client, Client>
  readonly #methods = new Map<bigint, ReplyMethod[]>()
  #resolved: Client | Promise<Client> | undefined
  #root: Client | undefined
  #inFlight = 0

  constructor(target: ForwardTarget, opts: ForwardOptions, wrappers: Map<Client, Client>) {
    super()
    this.#target = target
    this.#opts = opts
    this.#max = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT
    this.#wrappers = wrappers
    if (target instanceof Client) this.#resolved = this.#root = target
    if (opts.released) onReleased(this, opts.released)
  }

  override method(interfaceId: bigint, methodId: number): ReplyMethod {
    let byId = this.#methods.get(interfaceId)
    if (byId === undefined) this.#methods.set(interfaceId, (byId = []))
    let m = byId[methodId]
    if (m === undefined) {
      const raw = rawMethod(interfaceId, methodId)
      m = byId[methodId] = {
        ...raw,
        impl: (p: Struct, r: Struct) => promisedReply((reply) => this.#call(raw, p, r, reply)),
        reply: (p: Struct, r: Struct, reply: Reply) => this.#call(raw, p, r, reply),
      }
    }
    return m
  }

  /** Throws (nothing sent) when the call may not go; else answers through `reply`, once. */
  #call(m: AnyMethod, p: Struct, r: Struct, reply: Reply): void {
    this.#opts.check?.()
    if (this.#inFlight >= this.#max) throw new LimitError(`more than ${this.#max} calls in flight through one forwarder (a forwarding loop?)`)
    const t = (this.#resolved ??= (this.#target as () => Client | Promise<Client>)())
    this.stats.calls++
    this.#inFlight++
    if (!(t instanceof Promise)) {
      this.#root = t
      // Sent now, on a connection: params copied straight from the caller's frame, the
      // Return taken in the receive() that brings it (no promise, no copy of its frame).
      const wire = this.#opts.bound === undefined ? wireTarget(t) : undefined
      if (wire !== undefined) return this.#send(wire.conn, wire.target, m, p, r, reply)
    }
    const end: Reply = {
      done: () => { this.#inFlight--; reply.done() },
      fail: (e) => { this.#inFlight--; reply.fail(e) },
      forwardedAs: () => {},
    }
    // Sent now too (a bound wraps the answer in a promise; a local server runs now).
    if (!(t instanceof Promise) && t._target.tag !== 'answer') { this.#forward(m, t, p, r).then(end.done, end.fail); return }
    // A client on one of our own pending answers sends later, after the frame expired:
    // so does a target not known yet. Those keep a copy.
    const held = new Message().initRoot(AnyStruct)
    this.#copy(p, held, (c) => c)
    Promise.resolve(t).then((c) => this.#forward(m, c, held, r), (e: unknown) => { throw this.#fail(e) }).then(end.done, end.fail)
  }

  #send(conn: ForwardConn, target: CallTarget, m: AnyMethod, params: Struct, results: Struct, reply: Reply): void {
    const sink = new ForwardedReturn(this, results, reply)
    const watch = this.#opts.watch
    if (watch !== undefined) {
      sink.unwatch = watch(() => `${m.interfaceName}.${m.methodName}`, (e) => sink.end(e))
      if (sink.ended) return // the bound ended it already (a link known closed)
    }
    const q = conn.sendForwarded(target, m, (out) => this.#copy(params, out, (c) => this.#wrap(c, true)), sink)
    if (q instanceof Error) sink.failed(q)
    else reply.forwardedAs(q)
  }

  /** A call #send forwarded ended (ForwardedReturn). */
  ended(): void { this.#inFlight-- }

  /** A Return for a call #send forwarded: its results copied into ours, in place (ForwardedReturn). */
  returned(got: Struct, results: Struct): void {
    this.#opts.check?.()
    this.#copy(got, results, (c) => this.#wrap(c, false))
  }

  /** copyPointer, counted. */
  #copy(from: Struct, to: Pointer, cap: CapTranslate): void {
    const budget = { words: COPY_WORD_LIMIT }
    copyPointer(from, to, cap, budget)
    const bytes = (COPY_WORD_LIMIT - budget.words) * 8
    if (bytes > 0) { this.stats.copies++; this.stats.copiedBytes += bytes }
  }

  async #forward(m: AnyMethod, client: Client, params: Struct, results: Struct): Promise<void> {
    this.#root = client
    const t = client._target
    if (t.tag === 'local') return this.#local(t.server, m, params, results)
    const rp = callRaw(client, m, (q) => this.#copy(params, q, (c) => this.#wrap(c, true)))
    let got: Struct
    try {
      got = await this.#bounded(`${m.interfaceName}.${m.methodName}`, rp)
    } catch (e) {
      throw this.#fail(e)
    }
    this.returned(got, results)
  }

  /** `answer`, bounded as opts.bound or opts.watch say. */
  #bounded<T>(what: string, answer: PromiseLike<T>): PromiseLike<T> {
    const { bound, watch } = this.#opts
    if (bound !== undefined) return bound(what, () => answer)
    if (watch === undefined) return answer
    return new Promise<T>((resolve, reject) => {
      const ended = watch(() => what, reject)
      answer.then((v) => { ended(); resolve(v) }, (e: unknown) => { ended(); reject(e) })
    })
  }

  /**
   * A target on this side (an embedder's server): run its own method, typed, on a copy of
   * the params (capnp-ts's local call would build them with the raw struct class).
   */
  async #local(server: Server, m: AnyMethod, params: Struct, results: Struct): Promise<void> {
    const sm = findMethod(server, m.interfaceId, m.methodId)
    if (sm === undefined) throw new RemoteError(`method ${m.interfaceName}/${m.methodId} is not implemented`, 'unimplemented')
    const p = new Message().initRoot(sm.ParamsClass as StructCtor<Struct>)
    this.#copy(params, p, (c) => c)
    widen(p, sm.ParamsClass._capnp.size)
    const r = new Message().initRoot(sm.ResultsClass as StructCtor<Struct>)
    try {
      await sm.impl(p, r)
    } catch (e) {
      throw this.#fail(e)
    }
    this.#opts.check?.()
    this.#copy(r, results, (c) => this.#wrap(c, false))
  }

  /** As opts.mapError says; without it, as it is (the target's exceptions keep their reason and type). */
  fail(e: unknown): unknown { return this.#fail(e) }

  #fail(e: unknown): unknown {
    return this.#opts.mapError === undefined ? e : this.#opts.mapError(e)
  }

  /**
   * A capability crossing this forwarder, as what the other side may call: local ones as
   * they are, others through a forwarder with the same options. `own`: one from a call's
   * params is the call's (disposed when the call settles), so its forwarder keeps a handle
   * of its own; one from results is ours to keep.
   */
  #wrap(c: Client | null, own: boolean): Client | null {
    if (c === null || c._target.tag === 'local' || c._target.tag === 'broken') return c
    let w = this.#wrappers.get(c)
    if (w === undefined) {
      const t = own ? retainClient(c) : c
      const released = (): void => {
        this.#wrappers.delete(c)
        if (t !== this.#root) t.dispose() // never the target itself, which its owner releases
      }
      w = new Client({ tag: 'local', server: new Forwarder(t, { ...this.#opts, released }, this.#wrappers) })
      this.#wrappers.set(c, w)
    }
    return w
  }
}

/**
 * The Return of a call a forwarder sent on, taken synchronously: its results are copied
 * into the forwarder's own results, and the caller answered, before the frame is reused.
 */
class ForwardedReturn implements ReturnSink {
  /** Ends opts.watch's bound on the call, if it has one. */
  unwatch: (() => void) | undefined
  #ended = false

  constructor(readonly forwarder: Forwarder, readonly into: Struct, readonly reply: Reply) {}

  results(value: Struct): void {
    if (this.#settle()) return
    try {
      this.forwarder.returned(value, this.into)
    } catch (e) {
      this.reply.fail(e)
      return
    }
    this.reply.done()
  }

  failed(e: Error): void {
    if (this.#settle()) return
    this.reply.fail(this.forwarder.fail(e))
  }

  get ended(): boolean { return this.#ended }

  /** The bound ended the call first: the caller gets `e`; the Return, if it comes, is dropped. */
  end(e: unknown): void {
    if (this.#ended) return
    this.#ended = true
    this.forwarder.ended()
    this.reply.fail(this.forwarder.fail(e))
  }

  /** True if the call already ended. */
  #settle(): boolean {
    if (this.#ended) return true
    this.#ended = true
    this.forwarder.ended()
    this.unwatch?.()
    return false
  }
}

/** The forwarders RpcConnection made for other connections' capabilities, by their owner. */
const ROUTED = new WeakMap<object, Map<number | string, AnyServer>>()

/**
 * What `client` (a capability of another connection, or a pipelined answer there) goes out
 * as on a connection that cannot name it: one forwarder per capability, holding a handle
 * of its own that it releases when the last peer releases the forwarder. Undefined for a
 * handle already disposed.
 */
export function forwarderFor(client: Client): AnyServer | undefined {
  if (client instanceof ImportClient && client.released) return undefined
  const t = client._target as unknown as { tag: string; conn?: object; id?: number; question?: object; answer?: object; transform?: number[] }
  const owner = t.tag === 'import' ? t.conn! : t.tag === 'promised' ? t.question! : t.answer!
  const key = t.tag === 'import' ? t.id! : t.transform!.join('.')
  let byKey = ROUTED.get(owner)
  if (byKey === undefined) ROUTED.set(owner, (byKey = new Map()))
  let f = byKey.get(key)
  if (f === undefined) {
    const held = retainClient(client)
    const map = byKey
    f = forwardingServer(held, { released: () => { map.delete(key); held.dispose() } })
    byKey.set(key, f)
  }
  return f
}

/** A struct written smaller than its class (an older schema, or empty params) widened to it. */
function widen(s: Struct, want: ObjectSize): void {
  const has = getTargetStructSize(s)
  if (has.dataByteLength < want.dataByteLength || has.pointerLength < want.pointerLength) resize(want, s)
}
