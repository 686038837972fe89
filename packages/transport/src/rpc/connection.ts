// RpcConnection: one side of a two-party Cap'n Proto RPC connection, over capnp-ts
// serialization, reusing capnp-ts's Client/Server/RemotePromise so generated interface
// code works unchanged.
//
// Hot path: an incoming Call on a resolved local capability is dispatched synchronously
// inside receive(), its params read in place from the (possibly borrowed) frame; no
// promise hop, no per-call closure, method lookup by index. A call that must wait (on an
// answer still pending) is queued after copying its frame exactly once. Borrowed frames
// are expired when receive() returns.

import { Client, Message, Server } from 'capnp-ts'
import type { Method, ParamsInit, RemotePromise, Struct, InterfaceCtor } from 'capnp-ts'
import {
  Message as RpcMessage, Message_Which, MessageTarget_Which, Return_Which, CapDescriptor_Which,
  Disembargo_Context_Which, Resolve_Which, Exception_Type,
} from 'capnp-ts/src/std/rpc.capnp.js'
import { Payload } from 'capnp-ts/src/std/rpc.capnp.js'
import type { Call, Return, Finish, Bootstrap, Release, Resolve, Disembargo, CapDescriptor } from 'capnp-ts/src/std/rpc.capnp.js'
import type { StructCtor } from 'capnp-ts'
import type { Segment } from 'capnp-ts/src/serialization/segment.js'
import { initStructAt, getPointer, resize } from 'capnp-ts/src/serialization/pointers/struct.js'
import { setInterfacePointer, validate as validatePointer, getTargetStructSize } from 'capnp-ts/src/serialization/pointers/pointer.js'
import { PointerType } from 'capnp-ts/src/serialization/pointers/pointer-type.js'
import { applyParams } from 'capnp-ts/src/rpc/client.js'
import type { Target, RemotePromiseCtor } from 'capnp-ts/src/rpc/client.js'
import { initRemotePromise } from 'capnp-ts/src/rpc/remote-promise.js'
import { SingleSegmentArena } from 'capnp-ts/src/serialization/arena/single-segment-arena.js'
import { brokenClient } from 'capnp-ts/src/rpc/capability.js'
import {
  ConnectionClosedError, LimitError, RemoteError, RpcProtocolError, TransportError, reasonOf,
} from '../errors.js'
import { FrameMessage, expire, detach } from '../frame/message.js'
import {
  Span, NULL, DECLINE, M_CALL, M_RETURN, M_FINISH, writeCall, writeReturn, writeFinish, segmentOf,
  CALL_PAYLOAD_PTR, CALL_PARAMS_PTR, dvOf, baseOf, slabCopy, RETURN_PAYLOAD_PTR, RETURN_RESULTS_PTR, type RawSegment,
} from './envelope.js'
import { Answer, type DeferredCall } from './answer.js'
import { Question, type ReturnSink } from './question.js'
import { findMethod, type Reply, type ReplyMethod } from './methods.js'
import { capabilityAt, failedPromise, readTransform, writeTransform } from './caps.js'
import { RpcStats } from './stats.js'
import { holdServer, dropServer } from './release.js'
import { ImportClient, type ImportEntry } from './imports.js'
import { forwarderFor, forwardingServer } from './forward.js'

/** What a transport offers the connection for outgoing messages; it serializes them later. */
export interface MessageSink {
  send(message: Message): void
  close(reason?: Error): void
}

export interface RpcConnectionOptions {
  /** The capability a peer's Bootstrap receives. */
  bootstrap?: Server | Client
  /** For diagnostics. */
  name?: string
  /** Called once when the connection closes (reason: why, if not a clean close). */
  onClose?: (reason?: Error) => void
  /**
   * Capabilities the peer may export to us at once (distinct import ids, default 10 000):
   * one more ends the connection with ERR_LIMIT. Each costs us a table row and, once
   * passed on, a forwarder: a peer must not grow them without bound.
   */
  maxImports?: number
}

export const DEFAULT_MAX_IMPORTS = 10_000

export type CallTarget = { importedCap: number } | { promisedAnswer: { questionId: number; transform: number[] } }

interface ExportEntry { client: Client; key: Server; refs: number }

type Thenable = { then(ok: () => void, fail: (e: unknown) => void): unknown }

const EXCEPTION_TYPES = ['failed', 'overloaded', 'disconnected', 'unimplemented']

export class RpcConnection {
  readonly name: string
  readonly stats: RpcStats
  readonly #sink: MessageSink
  readonly #bootstrap: Client | undefined
  readonly #onClose: ((reason?: Error) => void) | undefined
  readonly #maxImports: number
  readonly #questions = new Map<number, Question>()
  readonly #answers = new Map<number, Answer>()
  readonly #exports = new Map<number, ExportEntry>()
  readonly #exportIds = new Map<object, number>()
  readonly #imports = new Map<number, ImportEntry>()
  /** Scratch for reading envelopes in place (receive is never re-entered while it reads). */
  readonly #span = new Span()
  #nextQuestion = 0
  #nextExport = 0
  #closed: Error | undefined

  constructor(sink: MessageSink, opts: RpcConnectionOptions = {}) {
    this.#sink = sink
    this.name = opts.name ?? 'rpc'
    this.#onClose = opts.onClose
    this.#maxImports = opts.maxImports ?? DEFAULT_MAX_IMPORTS
    const b = opts.bootstrap
    this.#bootstrap = b === undefined ? undefined : b instanceof Server ? new Client({ server: b, tag: 'local' }) : b
    this.stats = new RpcStats(this.#exports, this.#imports, this.#questions, this.#answers)
  }

  get closed(): boolean {
    return this.#closed !== undefined
  }

  /**
   * Handle one incoming message. `borrowed`: the message views memory that is reused once
   * this returns (guest memory, a socket chunk); it is expired before receive() returns.
   * Throws RpcProtocolError (and closes the connection, sending Abort) on a protocol violation.
   */
  receive(message: Message, borrowed: boolean): void {
    try {
      if (this.#closed !== undefined) return
      this.stats.messagesIn++
      this.#dispatch(message, borrowed)
    } catch (e) {
      const err = e instanceof TransportError ? e : new RpcProtocolError(`${this.name}: malformed message: ${reasonOf(e)}`, { cause: e })
      this.close(err)
      throw err
    } finally {
      if (borrowed) {
        expire(message)
        // The cursor must not keep the lender's memory either (a hibernated guest's is dropped).
        this.#span.release()
      }
    }
  }

  /** Ask the peer for its bootstrap capability. */
  bootstrap<C>(Iface: InterfaceCtor<C>): C {
    return new Iface.Client(this.bootstrapClient())
  }

  /** The peer's bootstrap capability, of any interface: calls on it pipeline until it answers. */
  bootstrapClient(): Client {
    if (this.#closed !== undefined) return brokenClient(new ConnectionClosedError(`${this.name}: ${this.#closed.message}`).message)
    const q = new Question(this, this.#nextQuestion++, undefined)
    this.#questions.set(q.id, q)
    const m = newMessage()
    m.initRoot(RpcMessage).initBootstrap().setQuestionId(q.id)
    this.#send(m)
    return q.pipelineClient([])
  }

  /**
   * Close the connection: pending questions reject with ConnectionClosedError, exports are
   * released (running servers' `onReleased` hooks), the sink is closed. With a reason, an Abort carrying it is sent first.
   */
  close(reason?: Error): void {
    this.#shutdown(reason, reason !== undefined)
  }

  /** Called by capnp-ts's Client for "import" and pending "promised" targets. Internal. */
  sendCall<P extends Struct, R extends Struct, A extends RemotePromise<R>>(
    target: CallTarget, method: Method<P, R>, paramsFunc: ParamsInit<P> | undefined, PromiseClass: RemotePromiseCtor<R, A>,
  ): A {
    const q = this.#ask(target, method, paramsFunc, undefined)
    return q instanceof Error ? failedPromise(PromiseClass, q) : initRemotePromise(PromiseClass, q as never)
  }

  /**
   * For forwarders: sends a call whose Return goes to `sink`, synchronously, inside the
   * receive() that brings it (so a borrowed frame needs no copy). Returns the question
   * (for calls pipelined on it), or the failure to send (`sink` is not called then). Internal.
   */
  sendForwarded<P extends Struct>(target: CallTarget, method: Method<P, Struct>, paramsFunc: ParamsInit<P>, sink: ReturnSink): Question | Error {
    return this.#ask(target, method, paramsFunc, sink)
  }

  #ask<P extends Struct, R extends Struct>(target: CallTarget, method: Method<P, R>, paramsFunc: ParamsInit<P> | undefined, sink: ReturnSink | undefined): Question | Error {
    if (this.#closed !== undefined) return new ConnectionClosedError(`${this.name}: ${this.#closed.message}`)
    const id = this.#nextQuestion++
    const q = new Question(this, id, method.ResultsClass as never)
    q.sink = sink
    if ('importedCap' in target) return this.#sendImportCall(q, target.importedCap, method, paramsFunc)
    const pending = target
    const m = newMessage()
    const call = m.initRoot(RpcMessage).initCall()
    call.setQuestionId(id)
    call.setInterfaceId(method.interfaceId)
    call.setMethodId(method.methodId)
    const t = call.initTarget()
    const pa = t.initPromisedAnswer()
    pa.setQuestionId(pending.promisedAnswer.questionId)
    writeTransform(pa, pending.promisedAnswer.transform)
    const payload = call.initParams()
    try {
      applyParams(paramsFunc, initStructAt(0, method.ParamsClass, payload))
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e))
    }
    const exported = this.#encodeCapTable(m, payload)
    if (exported !== undefined) q.paramExports = exported
    this.#questions.set(id, q)
    this.stats.callsOut++
    this.#send(m)
    return q
  }

  #sendImportCall<P extends Struct, R extends Struct>(q: Question, cap: number, method: Method<P, R>, paramsFunc: ParamsInit<P> | undefined): Question | Error {
    const size = method.ParamsClass._capnp.size
    const m = writeCall(q.id, method.interfaceId, method.methodId, cap, size.dataByteLength >>> 3, size.pointerLength)
    const seg = segmentOf(m)
    const b = baseOf(m)
    if (paramsFunc !== undefined) {
      try {
        applyParams(paramsFunc, new method.ParamsClass(seg, b + CALL_PARAMS_PTR))
      } catch (e) {
        return e instanceof Error ? e : new Error(String(e))
      }
    }
    const caps = m._capnp.capTable
    if (caps !== undefined && caps.length > 0) {
      const exported = this.#encodeCapTable(m, new Payload(seg, b + CALL_PAYLOAD_PTR))
      if (exported !== undefined) q.paramExports = exported
    }
    this.#questions.set(q.id, q)
    this.stats.callsOut++
    this.#send(m)
    return q
  }

  /**
   * One handle on import `id` was disposed (by ImportClient, or capnp-ts's Client.dispose).
   * The last one sends Release with every reference the peer gave us (imports.ts).
   */
  releaseImport(id: number): void {
    const entry = this.#imports.get(id)
    if (entry === undefined || --entry.local > 0) return
    this.#imports.delete(id)
    if (this.#closed === undefined) this.#sendRelease(id, entry.remote)
  }

  /** A new handle on import `id` (retainClient); after close, one whose calls fail ERR_CLOSED. */
  retainImport(id: number): Client {
    const entry = this.#imports.get(id)
    if (entry !== undefined) entry.local++
    return new ImportClient(this, id)
  }

  // ---- incoming --------------------------------------------------------------------

  #dispatch(message: Message, borrowed: boolean): void {
    if (this.#fastDispatch(message, borrowed)) return
    const root = message.getRoot(RpcMessage)
    switch (root.which()) {
      case Message_Which.CALL: return this.#onCall(message, root.getCall(), borrowed)
      case Message_Which.RETURN: return this.#onReturn(message, root.getReturn(), borrowed)
      case Message_Which.FINISH: return this.#onFinish(root.getFinish())
      case Message_Which.BOOTSTRAP: return this.#onBootstrap(root.getBootstrap())
      case Message_Which.RELEASE: return this.#onRelease(root.getRelease())
      case Message_Which.RESOLVE: return this.#onResolve(root.getResolve())
      case Message_Which.DISEMBARGO: return this.#onDisembargo(root, root.getDisembargo())
      case Message_Which.ABORT: {
        const ex = root.getAbort()
        this.#shutdown(new RemoteError(`peer aborted: ${ex.getReason()}`, EXCEPTION_TYPES[ex.getType()] ?? 'failed'), false)
        return
      }
      case Message_Which.UNIMPLEMENTED: return this.#onUnimplemented(root.getUnimplemented())
      default: return this.#sendUnimplemented(root)
    }
  }

  /**
   * Call, Return and Finish in their common shapes, read from the envelope bytes. Parses
   * everything first and declines (false, nothing done) on any other shape or anomaly, so
   * the capnp-ts path then handles it, errors included.
   */
  #fastDispatch(message: Message, borrowed: boolean): boolean {
    const sp = this.#span
    if (!sp.of(message)) return false
    const root = sp.root
    const m = sp.follow(root)
    if (m < 0 || sp.ptrCount(root) < 1) return false
    const mData = sp.dataBytes(root)
    const p0 = m + mData
    switch (sp.u16(m, mData, 0)) {
      case M_CALL: {
        const c = sp.follow(p0)
        if (c < 0 || sp.ptrCount(p0) < 2) return false
        const cData = sp.dataBytes(p0)
        const qid = sp.u32(c, cData, 0)
        // sendResultsTo other than caller: the slow path answers it.
        if (sp.u16(c, cData, 6) !== 0 || this.#answers.has(qid)) return false
        const tp = c + cData
        const t = sp.follow(tp)
        if (t < 0) return false
        const tData = sp.dataBytes(tp)
        if (sp.u16(t, tData, 4) !== 0) return false // promisedAnswer: slow path
        const e = this.#exports.get(sp.u32(t, tData, 0))
        if (e === undefined) return false
        const pp = tp + 8
        const pl = sp.follow(pp)
        if (pl === DECLINE) return false
        let contentPos = -1
        let capTable = false
        if (pl !== NULL) {
          const plData = sp.dataBytes(pp)
          const plPtrs = sp.ptrCount(pp)
          if (plPtrs >= 1) {
            contentPos = pl + plData
            if (sp.isNullAt(contentPos)) contentPos = -1
            else if (sp.follow(contentPos) < 0) return false
          }
          capTable = plPtrs >= 2 && !sp.isNullAt(pl + plData + 8)
        }
        const interfaceId = sp.u64(c, cData, 8)
        const methodId = sp.u16(c, cData, 4)
        const seg = sp.seg
        this.stats.callsIn++
        const caps = capTable ? this.#decodeCapTable(message, new Payload(seg, pp)) : undefined
        this.#deliver(this.#newAnswer(qid), e.client, interfaceId, methodId, seg, contentPos, caps)
        return true
      }
      case M_RETURN: {
        const r = sp.follow(p0)
        if (r < 0 || sp.ptrCount(p0) < 1) return false
        const rData = sp.dataBytes(p0)
        if (sp.u16(r, rData, 6) !== Return_Which.RESULTS) return false
        const id = sp.u32(r, rData, 0)
        const q = this.#questions.get(id)
        if (q === undefined) return false
        const flags = sp.u8(r, rData, 4)
        const pp = r + rData
        const pl = sp.follow(pp)
        if (pl < 0 || sp.ptrCount(pp) < 1) return false
        const plData = sp.dataBytes(pp)
        const contentPos = pl + plData
        const Results = q.ResultsClass
        // Bootstrap results (a capability) and odd contents: the slow path. Null contents
        // (empty results, as a guest may write them) too, unless a sink takes them as
        // they are: a typed reader would build a default struct in the frame.
        if (Results === undefined) return false
        const nullContent = sp.isNullAt(contentPos)
        if (nullContent ? q.sink === undefined : sp.follow(contentPos) < 0) return false
        const capTable = sp.ptrCount(pp) >= 2 && !sp.isNullAt(contentPos + 8)
        this.#questions.delete(id)
        // releaseParamCaps is stored XOR its default (true).
        if ((flags & 1) === 0) this.#releaseExports(q.paramExports)
        let host = message
        let seg: RawSegment = sp.seg
        let shift = 0
        // A sink reads the results now; a caller's continuation, or pipelined clients, later.
        const keep = borrowed && (q.sink === undefined || q.pipelined)
        if (keep) {
          // Copy once now, so the results outlive the frame.
          host = slabCopy(seg.buffer, sp.lo, sp.hi - sp.lo)
          seg = segmentOf(host)
          shift = sp.lo - baseOf(host)
          this.stats.deferredCopies++
        }
        if (capTable) this.#decodeCapTableFor(q, host, new Payload(seg, pp - shift))
        let value: Struct
        try {
          value = nullContent ? new Results(seg, contentPos - shift) : structAt(seg, contentPos - shift, Results)
        } catch (e) {
          q.reject(new RpcProtocolError(`Return ${id}: malformed results: ${reasonOf(e)}`, { cause: e }))
          value = undefined as never
        }
        if (value !== undefined) q.resolveAt(value, seg, pp - shift)
        if (borrowed && !keep) q.forget()
        // noFinishNeeded (default false).
        if ((flags & 2) === 0) this.#send(writeFinish(id))
        return true
      }
      case M_FINISH: {
        const f = sp.follow(p0)
        if (f < 0) return false
        const fData = sp.dataBytes(p0)
        const id = sp.u32(f, fData, 0)
        if (!this.#answers.has(id)) return false
        this.#finish(id, (sp.u8(f, fData, 4) & 1) === 0)
        return true
      }
      default:
        return false
    }
  }

  #onCall(message: Message, call: Call, borrowed: boolean): void {
    const qid = call.getQuestionId()
    if (this.#answers.has(qid)) throw new RpcProtocolError(`Call: question id ${qid} is still in use`)
    if (!call.getSendResultsTo().isCaller()) {
      const a = this.#newAnswer(qid)
      this.#returnException(a, new RemoteError('Call.sendResultsTo other than caller is not implemented', 'unimplemented'))
      return
    }
    this.stats.callsIn++
    const interfaceId = call.getInterfaceId()
    const methodId = call.getMethodId()
    const target = call.getTarget()
    let client: Client
    if (target.which() === MessageTarget_Which.IMPORTED_CAP) {
      const id = target.getImportedCap()
      const e = this.#exports.get(id)
      if (e === undefined) throw new RpcProtocolError(`Call ${qid}: target ${id} is not a current export`)
      client = e.client
    } else if (target.which() === MessageTarget_Which.PROMISED_ANSWER) {
      const pa = target.getPromisedAnswer()
      const aid = pa.getQuestionId()
      const a = this.#answers.get(aid)
      if (a === undefined) throw new RpcProtocolError(`Call ${qid}: pipelined on unknown question ${aid}`)
      const transform = readTransform(pa)
      const onward = a.onward
      if (a.state === 'pending' && onward !== undefined && onward.state === 'pending') {
        // A forwarder sent that call on: this one follows it, pipelined, to the owner.
        client = onward.pipelineClient(transform)
      } else if (a.state === 'pending') {
        // Must wait for that answer: copy the frame once, take its caps now (in order).
        const host = borrowed ? detach(message) : message
        if (borrowed) this.stats.deferredCopies++
        this.#decodeCapTable(host, host.getRoot(RpcMessage).getCall().getParams())
        const d: DeferredCall = { answer: this.#newAnswer(qid), message: host, interfaceId, methodId, transform }
        ;(a.queue ??= []).push(d)
        return
      } else {
        client = a.state === 'resolved' ? capabilityAt(a.payload!, transform) : brokenClient(reasonOf(a.error))
      }
    } else {
      throw new RpcProtocolError(`Call ${qid}: unknown target kind ${target.which()}`)
    }
    const params = call.getParams()
    const caps = this.#decodeCapTable(message, params)
    const cp = getPointer(0, params)
    this.#deliver(this.#newAnswer(qid), client, interfaceId, methodId, cp.segment, cp.byteOffset, caps)
  }

  #newAnswer(qid: number): Answer {
    const a = new Answer(qid)
    this.#answers.set(qid, a)
    return a
  }

  /**
   * Run the call on `client` now; the Return is sent when the implementation settles.
   * Params: the struct pointer at byte `paramsPtr` of `seg` (-1 or a null pointer: none);
   * `caps`: their cap table, whose import handles are the call's and are disposed once it
   * settled (after its Return): a server keeps one only by retainClient (README).
   */
  #deliver(answer: Answer, client: Client, interfaceId: bigint, methodId: number, seg: Segment, paramsPtr: number, caps: (Client | null)[] | undefined): void {
    const t = client._target
    if (t.tag === 'broken') {
      this.#returnException(answer, new RemoteError(t.reason, 'failed'))
      disposeImports(caps)
      return
    }
    // Not ours (a pipelined call on one of our answers that holds the peer's own
    // capability, or another connection's): forwarded, whatever its interface.
    const m = t.tag === 'local' ? findMethod(t.server, interfaceId, methodId) : forwardingServer(client).method(interfaceId, methodId)
    if (m === undefined) {
      this.#returnException(answer, new RemoteError(`method ${interfaceId.toString(16)}/${methodId} is not implemented`, 'unimplemented'))
      disposeImports(caps)
      return
    }
    const rsize = m.ResultsClass._capnp.size
    const ret = writeReturn(answer.id, rsize.dataByteLength >>> 3, rsize.pointerLength)
    const rseg = segmentOf(ret)
    const rb = baseOf(ret)
    let out: unknown
    try {
      const results = new m.ResultsClass(rseg, rb + RETURN_RESULTS_PTR)
      // A null params pointer would make capnp-ts allocate into the frame's message.
      const p = paramsPtr < 0 || isNullAt(seg, paramsPtr) ? new Message().initRoot(m.ParamsClass) : structAt(seg, paramsPtr, m.ParamsClass)
      const rm = (m as ReplyMethod).reply
      if (rm !== undefined) {
        rm(p, results, this.#replyTo(answer, ret, rseg, rb + RETURN_PAYLOAD_PTR, caps))
        return
      }
      out = m.impl(p, results)
    } catch (e) {
      this.#returnException(answer, e)
      disposeImports(caps)
      return
    }
    if (out !== undefined && out !== null && typeof (out as Thenable).then === 'function') {
      ;(out as Thenable).then(
        () => { this.#returnResults(answer, ret, rseg, rb + RETURN_PAYLOAD_PTR); disposeImports(caps) },
        (e: unknown) => { this.#returnException(answer, e); disposeImports(caps) },
      )
      return
    }
    this.#returnResults(answer, ret, rseg, rb + RETURN_PAYLOAD_PTR)
    disposeImports(caps)
  }

  /**
   * How a ReplyMethod answers `answer`. It may answer inside another connection's
   * receive(): a failure to send here closes this connection, never that one.
   */
  #replyTo(answer: Answer, ret: Message, seg: Segment, payloadPtr: number, caps: (Client | null)[] | undefined): Reply {
    let settled = false
    const settle = (send: () => void): void => {
      if (settled) return
      settled = true
      try {
        send()
      } catch (e) {
        this.close(e instanceof TransportError ? e : new RpcProtocolError(`${this.name}: ${reasonOf(e)}`, { cause: e }))
      } finally {
        disposeImports(caps)
      }
    }
    return {
      done: () => settle(() => this.#returnResults(answer, ret, seg, payloadPtr)),
      fail: (e) => settle(() => this.#returnException(answer, e)),
      forwardedAs: (q) => { if (!settled) answer.onward = q },
    }
  }

  /** Send `ret`, whose results Payload's struct pointer is at byte `payloadPtr` of `seg`. */
  #returnResults(answer: Answer, ret: Message, seg: Segment, payloadPtr: number): void {
    if (this.#closed !== undefined) return
    const caps = ret._capnp.capTable
    const exported = caps === undefined || caps.length === 0 ? undefined : this.#encodeCapTable(ret, new Payload(seg, payloadPtr))
    if (exported !== undefined) answer.resultExports = exported
    answer.resolveAt(seg, payloadPtr)
    this.#send(ret)
    if (answer.finished && answer.releaseOnFinish) this.#releaseExports(exported)
    if (answer.queue !== undefined) this.#drain(answer)
  }

  #returnException(answer: Answer, e: unknown): void {
    if (this.#closed !== undefined) return
    const err = e instanceof Error ? e : new Error(String(e))
    const ret = newMessage()
    const r = ret.initRoot(RpcMessage).initReturn()
    r.setAnswerId(answer.id)
    r.setReleaseParamCaps(false)
    const ex = r.initException()
    ex.setReason(reasonOf(e))
    const type = e instanceof RemoteError ? EXCEPTION_TYPES.indexOf(e.type) : 0
    ex.setType((type < 0 ? 0 : type) as Exception_Type)
    answer.reject(err)
    this.#send(ret)
    if (answer.queue !== undefined) this.#drain(answer)
  }

  /** Deliver the calls that waited on `answer`, in arrival order. */
  #drain(answer: Answer): void {
    const queue = answer.queue!
    answer.queue = undefined
    for (const d of queue) {
      if (this.#closed !== undefined) return
      const client = answer.state === 'resolved' ? capabilityAt(answer.payload!, d.transform) : brokenClient(reasonOf(answer.error))
      let cp: { segment: Segment; byteOffset: number }
      try {
        cp = getPointer(0, d.message.getRoot(RpcMessage).getCall().getParams())
      } catch (e) {
        this.#returnException(d.answer, e)
        disposeImports(d.message._capnp.capTable)
        continue
      }
      this.#deliver(d.answer, client, d.interfaceId, d.methodId, cp.segment, cp.byteOffset, d.message._capnp.capTable)
    }
  }

  #onReturn(message: Message, ret: Return, borrowed: boolean): void {
    const id = ret.getAnswerId()
    const q = this.#questions.get(id)
    if (q === undefined) throw new RpcProtocolError(`Return for unknown question ${id}`)
    this.#questions.delete(id)
    if (ret.getReleaseParamCaps()) this.#releaseExports(q.paramExports)
    switch (ret.which()) {
      case Return_Which.RESULTS: {
        // Results are read when the caller's continuation runs, i.e. later: copy once now
        // (not for a sink, which reads them at once, unless pipelined clients need them, or
        // null contents, which capnp-ts would build a default struct for in the frame).
        let host = message
        let r = ret
        const keep = borrowed && (q.sink === undefined || q.pipelined || !ret.getResults().hasContent())
        if (keep) {
          host = detach(message)
          this.stats.deferredCopies++
          r = host.getRoot(RpcMessage).getReturn()
        }
        const payload = r.getResults()
        this.#decodeCapTableFor(q, host, payload)
        q.resolve(payload)
        if (borrowed && !keep) q.forget()
        break
      }
      case Return_Which.EXCEPTION: {
        const ex = ret.getException()
        q.reject(new RemoteError(ex.getReason(), EXCEPTION_TYPES[ex.getType()] ?? 'failed'))
        break
      }
      case Return_Which.CANCELED:
        q.reject(new RemoteError('call was canceled', 'failed'))
        break
      default:
        throw new RpcProtocolError(`Return ${id}: ${Return_Which[ret.which()] ?? ret.which()} was not requested`)
    }
    // We keep the result caps we imported; each is released when its last handle is disposed.
    if (!ret.getNoFinishNeeded()) this.#send(writeFinish(id))
  }

  #onFinish(f: Finish): void {
    this.#finish(f.getQuestionId(), f.getReleaseResultCaps())
  }

  #finish(id: number, release: boolean): void {
    const a = this.#answers.get(id)
    if (a === undefined) throw new RpcProtocolError(`Finish for unknown question ${id}`)
    this.#answers.delete(id)
    if (a.state === 'pending') {
      a.finished = true
      a.releaseOnFinish = release
    } else if (release) {
      this.#releaseExports(a.resultExports)
    }
  }

  #onBootstrap(b: Bootstrap): void {
    const qid = b.getQuestionId()
    if (this.#answers.has(qid)) throw new RpcProtocolError(`Bootstrap: question id ${qid} is still in use`)
    const a = this.#newAnswer(qid)
    if (this.#bootstrap === undefined) {
      this.#returnException(a, new RemoteError('this vat offers no bootstrap capability', 'failed'))
      return
    }
    const ret = newMessage()
    const r = ret.initRoot(RpcMessage).initReturn()
    r.setAnswerId(qid)
    r.setReleaseParamCaps(false)
    const payload = r.initResults()
    setInterfacePointer(ret.addCap(this.#bootstrap), getPointer(0, payload))
    this.#returnResults(a, ret, payload.segment, payload.byteOffset)
  }

  #onRelease(r: Release): void {
    const id = r.getId()
    const count = r.getReferenceCount()
    const e = this.#exports.get(id)
    if (e === undefined) throw new RpcProtocolError(`Release of unknown export ${id}`)
    if (count > e.refs) throw new RpcProtocolError(`Release of ${count} references to export ${id}, which has ${e.refs}`)
    e.refs -= count
    if (e.refs === 0) this.#unexport(id, e)
  }

  #onResolve(r: Resolve): void {
    // Two-party: calls on a promise import keep going through its id and the peer forwards
    // them, so no embargo is needed. The resolution's own reference is returned at once.
    if (r.which() !== Resolve_Which.CAP) return
    const d = r.getCap()
    const w = d.which()
    if (w === CapDescriptor_Which.SENDER_HOSTED) this.#sendRelease(d.getSenderHosted(), 1)
    else if (w === CapDescriptor_Which.SENDER_PROMISE) this.#sendRelease(d.getSenderPromise(), 1)
  }

  #onDisembargo(root: RpcMessage, d: Disembargo): void {
    const ctx = d.getContext()
    switch (ctx.which()) {
      case Disembargo_Context_Which.SENDER_LOOPBACK: {
        // We never embargo (we send no promises), so echo it straight back.
        const m = newMessage()
        const reply = m.initRoot(RpcMessage).initDisembargo()
        reply.getContext().setReceiverLoopback(ctx.getSenderLoopback())
        reply.setTarget(d.getTarget())
        this.#send(m)
        return
      }
      case Disembargo_Context_Which.RECEIVER_LOOPBACK:
        throw new RpcProtocolError(`Disembargo.receiverLoopback ${ctx.getReceiverLoopback()}: no such embargo`)
      default:
        this.#sendUnimplemented(root)
    }
  }

  #onUnimplemented(inner: RpcMessage): void {
    // The peer did not understand something we sent; a Call becomes that call's failure.
    if (inner.which() === Message_Which.CALL) {
      const id = inner.getCall().getQuestionId()
      const q = this.#questions.get(id)
      if (q !== undefined) {
        this.#questions.delete(id)
        q.reject(new RemoteError('peer does not implement this call', 'unimplemented'))
      }
    }
  }

  #sendUnimplemented(root: RpcMessage): void {
    const m = newMessage()
    m.initRoot(RpcMessage).setUnimplemented(root)
    this.#send(m)
  }

  // ---- capability tables ------------------------------------------------------------

  /** Results' cap table of question `q` (out of the table already): a failure fails `q` too. */
  #decodeCapTableFor(q: Question, message: Message, payload: Payload): void {
    try {
      this.#decodeCapTable(message, payload)
    } catch (e) {
      q.reject(e instanceof Error ? e : new Error(String(e)))
      throw e
    }
  }

  /** Turn a received Payload.capTable into clients on `message`'s cap table (returned). */
  #decodeCapTable(message: Message, payload: Payload): (Client | null)[] | undefined {
    if (!payload.hasCapTable()) return undefined
    const list = payload.getCapTable()
    const n = list.getLength()
    const table: (Client | null)[] = new Array(n)
    for (let i = 0; i < n; i++) table[i] = this.#decodeCap(list.get(i))
    message._capnp.capTable = table
    return table
  }

  #decodeCap(d: CapDescriptor): Client | null {
    switch (d.which()) {
      case CapDescriptor_Which.NONE: return null
      case CapDescriptor_Which.SENDER_HOSTED: return this.#importCap(d.getSenderHosted())
      case CapDescriptor_Which.SENDER_PROMISE: return this.#importCap(d.getSenderPromise())
      case CapDescriptor_Which.RECEIVER_HOSTED:
        return this.#exports.get(d.getReceiverHosted())?.client ?? brokenClient(`capability ${d.getReceiverHosted()} is not a current export`)
      case CapDescriptor_Which.RECEIVER_ANSWER: {
        const pa = d.getReceiverAnswer()
        const a = this.#answers.get(pa.getQuestionId())
        if (a === undefined) return brokenClient(`receiverAnswer: no such question ${pa.getQuestionId()}`)
        const transform = readTransform(pa)
        if (a.state === 'resolved') return capabilityAt(a.payload!, transform)
        if (a.state === 'rejected') return brokenClient(reasonOf(a.error))
        return new Client({ answer: a, tag: 'answer', transform } as unknown as Target)
      }
      default: return brokenClient('third-party capabilities are not supported')
    }
  }

  /** One more reference from the peer to its export `id`: a handle of its own (imports.ts). */
  #importCap(id: number): Client {
    const e = this.#imports.get(id)
    if (e === undefined) {
      if (this.#imports.size >= this.#maxImports) throw new LimitError(`${this.name}: the peer exports more than ${this.#maxImports} capabilities to us`)
      this.#imports.set(id, { remote: 1, local: 1 })
    }
    else { e.remote++; e.local++ }
    return new ImportClient(this, id)
  }

  /** Write `message`'s cap table into `payload.capTable`; returns the export ids it added. */
  #encodeCapTable(message: Message, payload: Payload): number[] | undefined {
    const caps = message._capnp.capTable
    if (caps === undefined || caps.length === 0) return undefined
    const list = payload.initCapTable(caps.length)
    let exported: number[] | undefined
    for (let i = 0; i < caps.length; i++) {
      let c = caps[i] ?? null
      // Another connection's capability goes out as a forwarder of ours; the message's
      // table names the forwarder too, so calls pipelined on it here reach it.
      if (c !== null && this.#foreign(c)) {
        const f = forwarderFor(c)
        c = caps[i] = f === undefined ? null : new Client({ tag: 'local', server: f })
      }
      const id = this.#encodeCap(c, list.get(i))
      if (id !== undefined) (exported ??= []).push(id)
    }
    return exported
  }

  /** A capability this connection cannot name: another connection's import or question, or one in our own pending answer. */
  #foreign(client: Client): boolean {
    const t = client._target as Target
    switch (t.tag) {
      case 'import': return (t.conn as unknown) !== this
      case 'promised': {
        const q = t.question as unknown as Question
        if ((q.conn as unknown) !== this) return true
        return q.state === 'resolved' && this.#foreign(q.clientForTransform(t.transform))
      }
      case 'answer': return true
      default: return false
    }
  }

  #encodeCap(client: Client | null, d: CapDescriptor): number | undefined {
    if (client === null) { d.setNone(); return undefined }
    const t = client._target as Target
    switch (t.tag) {
      case 'local': {
        const id = this.#export(client, t.server)
        d.setSenderHosted(id)
        return id
      }
      case 'import':
        if ((t.conn as unknown) === this) d.setReceiverHosted(t.id)
        else d.setNone()
        return undefined
      case 'promised': {
        const q = t.question as unknown as Question
        if ((q.conn as unknown) !== this) { d.setNone(); return undefined }
        if (q.state === 'pending') {
          const pa = d.initReceiverAnswer()
          pa.setQuestionId(q.id)
          writeTransform(pa, t.transform)
          return undefined
        }
        return this.#encodeCap(q.clientForTransform(t.transform), d)
      }
      default:
        d.setNone()
        return undefined
    }
  }

  #export(client: Client, server: Server): number {
    let id = this.#exportIds.get(server)
    if (id === undefined) {
      id = this.#nextExport++
      this.#exportIds.set(server, id)
      this.#exports.set(id, { client, key: server, refs: 0 })
      holdServer(server)
    }
    this.#exports.get(id)!.refs++
    return id
  }

  #releaseExports(ids: number[] | undefined): void {
    if (ids === undefined) return
    for (const id of ids) {
      const e = this.#exports.get(id)
      if (e === undefined) continue
      if (--e.refs <= 0) this.#unexport(id, e)
    }
  }

  /** The peer holds no reference to export `id` any more: its server's release hooks may run. */
  #unexport(id: number, e: ExportEntry): void {
    this.#exports.delete(id)
    this.#exportIds.delete(e.key)
    dropServer(e.key)
  }

  // ---- outgoing -----------------------------------------------------------------------

  #send(m: Message): void {
    if (this.#closed !== undefined) return
    this.stats.messagesOut++
    this.#sink.send(m)
  }

  #sendRelease(id: number, count: number): void {
    const m = newMessage()
    const r = m.initRoot(RpcMessage).initRelease()
    r.setId(id)
    r.setReferenceCount(count)
    this.#send(m)
  }

  #shutdown(reason: Error | undefined, sendAbort: boolean): void {
    if (this.#closed !== undefined) return
    if (sendAbort && reason !== undefined) {
      const m = newMessage()
      const ex = m.initRoot(RpcMessage).initAbort()
      ex.setReason(reasonOf(reason))
      try { this.#send(m) } catch { /* the transport is already gone */ }
    }
    this.#closed = reason ?? new ConnectionClosedError()
    const err = new ConnectionClosedError(
      reason === undefined ? `${this.name}: connection closed` : `${this.name}: connection closed: ${reasonOf(reason)}`,
      reason === undefined ? {} : { cause: reason },
    )
    for (const q of this.#questions.values()) q.reject(err)
    this.#questions.clear()
    for (const a of this.#answers.values()) if (a.state === 'pending') a.reject(err)
    this.#answers.clear()
    const held = [...this.#exports.values()]
    this.#exports.clear()
    this.#exportIds.clear()
    this.#imports.clear()
    // Every export still held is released with the connection (their hooks see it closed).
    for (const e of held) dropServer(e.key)
    this.#sink.close(reason)
    this.#onClose?.(reason)
  }
}

/**
 * An outgoing message. capnp-ts's default arena zero-fills 4 KiB per message, the largest
 * cost of a null call in profiles; RPC envelopes fit in 128 bytes and grow once if not.
 */
function newMessage(): Message {
  return new Message(new SingleSegmentArena(new ArrayBuffer(128)))
}

/**
 * A call's params handles, once it settled: each import handle the params carried drops
 * its reference (what the server kept with retainClient is another handle). Local, broken
 * and pipelined clients in the table count nothing and are left alone.
 */
function disposeImports(caps: (Client | null)[] | undefined): void {
  if (caps === undefined) return
  for (const c of caps) if (c instanceof ImportClient) c.dispose()
}

function isNullAt(seg: Segment, pos: number): boolean {
  const dv = dvOf(seg)
  return dv.getUint32(pos, true) === 0 && dv.getUint32(pos + 4, true) === 0
}

/**
 * The struct of class `Ctor` whose (non-null) pointer is at byte `pos` of `seg`, as capnp-ts's
 * getStruct makes it: the pointer must be a struct pointer, and a struct written with an
 * older, smaller schema is widened (copied) to `Ctor`'s size.
 */
function structAt<T extends Struct>(seg: Segment, pos: number, Ctor: StructCtor<T>): T {
  const s = new Ctor(seg, pos)
  const dv = dvOf(seg)
  const want = Ctor._capnp.size
  const hi = dv.getUint32(pos + 4, true)
  if ((dv.getUint32(pos, true) & 3) === 0) {
    if ((hi & 0xffff) * 8 < want.dataByteLength || hi >>> 16 < want.pointerLength) resize(want, s)
    return s
  }
  // Far pointers (copied multi-segment frames) and wrong kinds: capnp-ts decides.
  validatePointer(PointerType.STRUCT, s)
  const ts = getTargetStructSize(s)
  if (ts.dataByteLength < want.dataByteLength || ts.pointerLength < want.pointerLength) resize(want, s)
  return s
}
