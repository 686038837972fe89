// The guest side of two-party Cap'n Proto RPC over ww.send / ww.recv.
//
// The guest is a full peer: it asks questions (Bootstrap, Call) and imports the
// capabilities the host returns, and it serves capabilities of its own (Servers, passed
// in params and results or offered as its bootstrap), answering the host's calls on them.
// Waiting for one answer drains ww.recv and handles every frame in arrival order: Returns
// for other questions are kept on their Answer, and incoming calls are dispatched there
// and then, so a guest that waits still serves (A calls B, B calls A back: no deadlock).

import * as abi from "../abi";
import { MessageBuilder, StructBuilder } from "../capnp/builder";
import { MessageReader, StructReader, ListReader } from "../capnp/reader";
import { readErrorName } from "../capnp/errors";
import { copyPointer } from "../capnp/copy";
import { Answer, Cap, CapState, RpcException } from "./types";
import {
  Message, Bootstrap, Call, Return, Finish, Release, Resolve, MessageTarget, Payload,
  CapDescriptor, PromisedAnswer, Exception,
} from "./schema";
import { CallBuilder } from "./call";
import { writeException } from "./write";
import { IncomingCall, Server } from "./server";
import { ExportTable } from "./exports";

/** Incoming calls nested inside one another's waits, at most: deeper ones get ERR_LIMIT. */
export const MAX_DISPATCH_DEPTH: i32 = 32;

/** A question the host asked us (a Call or Bootstrap), kept from its arrival to its Finish. */
class Incoming {
  done: bool = false;
  /** The Return's exception, when it was one. */
  error: string | null = null;
  errorType: u16 = 0;
  /** The Return we sent (results), kept for calls pipelined on it; recycled at Finish. */
  ret: MessageBuilder | null = null;
  // The arrays below are made when first needed: most calls carry no capabilities and
  // have nothing pipelined on them, and allocation is most of a null call's guest time.
  /** The results' capabilities, by cap-table index (null: none). */
  caps: Array<Cap> | null = null;
  /** Export ids the results added a reference to (released by Finish.releaseResultCaps). */
  exports: Array<u32> | null = null;
  finished: bool = false;
  releaseOnFinish: bool = false;
  /** Calls pipelined on this answer before it was done: heap copies of their frames. */
  queue: Array<usize> | null = null;
  queueLens: Array<i32> | null = null;
  constructor(public id: u32) {}
}

class ImportEntry {
  /** References the host has given us: what one Release must return. */
  remote: u32 = 0;
  /** Handles and answers holding it here. */
  local: u32 = 0;
}

export class SessionStats {
  framesIn: u32 = 0;
  framesOut: u32 = 0;
  suspendingRecvs: u32 = 0;
}

export class Session {
  out: MessageBuilder = new MessageBuilder(4096);
  /** True while a CallBuilder owns `out` (one outgoing message at a time). */
  building: bool = false;
  questions: Array<Answer | null> = new Array<Answer | null>();
  freeIds: Array<u32> = new Array<u32>();
  imports: Map<u32, ImportEntry> = new Map<u32, ImportEntry>();
  /** Set once the connection is closed or aborted: every later question fails with it. */
  closed: RpcException | null = null;
  stats: SessionStats = new SessionStats();
  recvBuf: usize;
  recvCap: i32;
  /** The servers whose capabilities the host holds. */
  exports: ExportTable = new ExportTable();
  /** The host's questions to us, until their Finish. */
  private incoming: Map<u32, Incoming> = new Map<u32, Incoming>();
  /** What a Bootstrap from the host gets (an exception when null). */
  private offered: Server | null = null;
  /** Return builders not in use. */
  private retPool: Array<MessageBuilder> = new Array<MessageBuilder>();
  private depth: i32 = 0;
  private stopping: bool = false;

  constructor(recvBytes: i32 = 4096) {
    this.recvCap = recvBytes;
    this.recvBuf = heap.alloc(<usize>recvBytes);
  }

  // ---- asking ----

  /** Ask for the host's bootstrap capability; usable (pipelined) at once. */
  bootstrap(): Cap {
    const a = this.newQuestion();
    if (this.closed == null) {
      const b = this.beginMessage(Message.W_bootstrap, Message.P_bootstrap, Bootstrap.DATA_WORDS, Bootstrap.POINTER_COUNT);
      b.setU32(Bootstrap.F_questionId, a.id);
      this.sendOut();
    } else {
      // Never sent: free the id and answer locally.
      this.questions[a.id] = null;
      this.freeIds.push(a.id);
      this.failAnswer(a, changetype<RpcException>(this.closed));
    }
    a.autoDispose = true;
    const cap = this.capOf(a, new Array<u16>());
    if (a.done) this.disposeAnswer(a);
    return cap;
  }

  // ---- serving ----

  /** A capability served by `server` here, to pass in params or results. */
  local(server: Server): Cap {
    const cap = new Cap(this);
    cap.state = CapState.Local;
    cap.server = server;
    return cap;
  }

  /** Offer `server` as this guest's bootstrap capability (to whoever spawned it). */
  offer(server: Server): void {
    this.offered = server;
  }

  /**
   * Serve incoming calls until the connection closes or `stop()` is called, parked in
   * ww.recv between them (a guest with nothing to do costs no CPU).
   */
  serve(): void {
    this.stopping = false;
    while (!this.stopping && this.pump(true)) {}
  }

  /** Make `serve()` return once the call being handled is answered. */
  stop(): void {
    this.stopping = true;
  }

  /** Questions the host asked that are not finished yet. */
  get incomingCount(): i32 { return this.incoming.size; }

  /** Start a call on `target`; fill `params`, then `send()`. */
  call(target: Cap, interfaceId: u64, methodId: u16, dataWords: u16, pointerCount: u16): CallBuilder {
    assert(!this.building, "a call is already being built");
    this.settle(target);
    return new CallBuilder(this, target, interfaceId, methodId, dataWords, pointerCount);
  }

  /** Begin `Message.<which>` with a fresh struct body; the caller fills it and sends. */
  beginMessage(which: u16, ptr: u16, dataWords: u16, pointerCount: u16): StructBuilder {
    this.out.reset();
    const root = this.out.initRoot(Message.DATA_WORDS, Message.POINTER_COUNT);
    root.setU16(Message.DISCRIMINANT, which);
    return root.initStruct(ptr, dataWords, pointerCount);
  }

  sendOut(): void {
    const ptr = this.out.finish();
    abi.send(ptr, this.out.frameLength);
    this.stats.framesOut++;
  }

  newQuestion(): Answer {
    let id: u32;
    if (this.freeIds.length > 0) id = this.freeIds.pop();
    else { id = this.questions.length; this.questions.push(null); }
    const a = new Answer(this, id);
    this.questions[id] = a;
    return a;
  }

  /** Write the call target for `cap` (import or promised answer) into `target`. */
  writeTarget(target: StructBuilder, cap: Cap): void {
    if (cap.state == CapState.Import) {
      target.setU16(MessageTarget.DISCRIMINANT, MessageTarget.W_importedCap);
      target.setU32(MessageTarget.F_importedCap, cap.importId);
      return;
    }
    target.setU16(MessageTarget.DISCRIMINANT, MessageTarget.W_promisedAnswer);
    const pa = target.initStruct(MessageTarget.P_promisedAnswer, PromisedAnswer.DATA_WORDS, PromisedAnswer.POINTER_COUNT);
    this.writePromisedAnswer(pa, cap);
  }

  writePromisedAnswer(pa: StructBuilder, cap: Cap): void {
    pa.setU32(PromisedAnswer.F_questionId, changetype<Answer>(cap.answer).id);
    const n = cap.ops.length;
    if (n == 0) return;
    const ops = pa.initStructList(PromisedAnswer.P_transform, n, PromisedAnswer.Op.DATA_WORDS, PromisedAnswer.Op.POINTER_COUNT);
    for (let i = 0; i < n; i++) {
      const op = ops.struct(i);
      op.setU16(PromisedAnswer.Op.DISCRIMINANT, PromisedAnswer.Op.W_getPointerField);
      op.setU16(PromisedAnswer.Op.F_getPointerField, cap.ops[i]);
    }
  }

  // ---- capabilities ----

  /** A handle on the capability at `ops` in `a`'s results (a promise until it arrives). */
  capOf(a: Answer, ops: Array<u16>): Cap {
    const cap = new Cap(this);
    cap.answer = a;
    cap.ops = ops;
    if (a.done) { this.resolveCap(cap, a); return cap; }
    let ps = a.promises;
    if (ps == null) { ps = new Array<Cap>(); a.promises = ps; }
    ps.push(cap);
    return cap;
  }

  /** Resolve a promise cap whose answer is done (if it is). */
  settle(cap: Cap): void {
    if (cap.state != CapState.Promise) return;
    const a = changetype<Answer>(cap.answer);
    if (a.done) this.resolveCap(cap, a);
  }

  private resolveCap(cap: Cap, a: Answer): void {
    cap.answer = null;
    if (a.error != null) { this.breakCap(cap, changetype<RpcException>(a.error)); return; }
    if (a.disposed) { this.breakCap(cap, new RpcException("answer was disposed before its capability was taken")); return; }
    // Walk the transform: each op is a pointer field of the struct reached so far.
    let s = a.results;
    const n = cap.ops.length;
    for (let i = 0; i < n - 1; i++) s = s.struct(cap.ops[i]);
    const idx: i32 = n == 0 ? this.rootCapIndex(a) : s.capIndex(cap.ops[n - 1]);
    this.fillCap(cap, a.capTable, idx);
  }

  /**
   * Make `cap` the capability of entry `idx` of a received cap table: an import (one
   * more local reference: the answer or call holding the table holds the host's), our own
   * server handed back (receiverHosted, receiverAnswer), null or broken.
   */
  private fillCap(cap: Cap, table: ListReader, idx: i32): void {
    if (idx < 0) { cap.state = CapState.Null; return; }
    if (<u32>idx >= table.length) { this.breakCap(cap, new RpcException("cap index outside the cap table")); return; }
    const d = table.struct(<u32>idx);
    const w = d.u16(CapDescriptor.DISCRIMINANT);
    if (w == CapDescriptor.W_senderHosted || w == CapDescriptor.W_senderPromise) {
      const id = d.u32(CapDescriptor.F_senderHosted);
      if (!this.imports.has(id)) { this.breakCap(cap, new RpcException("import " + id.toString() + " is not held")); return; }
      cap.state = CapState.Import;
      cap.importId = id;
      this.imports.get(id).local++;
    } else if (w == CapDescriptor.W_none) {
      cap.state = CapState.Null;
    } else if (w == CapDescriptor.W_receiverHosted) {
      const server = this.exports.get(d.u32(CapDescriptor.F_receiverHosted));
      if (server == null) { this.breakCap(cap, new RpcException("receiverHosted: not a current export")); return; }
      cap.state = CapState.Local;
      cap.server = server;
    } else if (w == CapDescriptor.W_receiverAnswer) {
      const pa = d.struct(CapDescriptor.P_receiverAnswer);
      const qid = pa.u32(PromisedAnswer.F_questionId);
      if (!this.incoming.has(qid)) { this.breakCap(cap, new RpcException("receiverAnswer: no such question")); return; }
      const inc = this.incoming.get(qid);
      const got = this.incomingCap(inc, readOps(pa));
      cap.state = got.state;
      cap.server = got.server;
      cap.error = got.error;
      if (got.state == CapState.Import) { cap.importId = got.importId; this.imports.get(got.importId).local++; }
    } else {
      this.breakCap(cap, new RpcException("capability descriptor kind " + w.toString() + " is not supported by this guest"));
    }
  }

  /** A new handle on entry `index` of a done answer's results cap table. */
  resultCap(a: Answer, index: i32): Cap {
    const cap = new Cap(this);
    if (!a.done || a.disposed) this.breakCap(cap, new RpcException("the answer is not done, or disposed: its cap table is gone"));
    else if (a.error != null) this.breakCap(cap, changetype<RpcException>(a.error));
    else this.fillCap(cap, a.capTable, index);
    return cap;
  }

  /** A new handle on entry `index` of an incoming call's params cap table. */
  paramCap(call: IncomingCall, index: i32): Cap {
    const cap = new Cap(this);
    this.fillCap(cap, call.paramCaps, index);
    return cap;
  }

  /**
   * Write `cap` as a CapDescriptor: the host's own capabilities go back as receiverHosted
   * or receiverAnswer, ours go out as senderHosted (one more reference: its export id is
   * returned, else -1). Check `canExport` first.
   */
  writeDescriptor(d: StructBuilder, cap: Cap): i32 {
    this.settle(cap);
    if (cap.state == CapState.Import) {
      d.setU16(CapDescriptor.DISCRIMINANT, CapDescriptor.W_receiverHosted);
      d.setU32(CapDescriptor.F_receiverHosted, cap.importId);
    } else if (cap.state == CapState.Promise) {
      d.setU16(CapDescriptor.DISCRIMINANT, CapDescriptor.W_receiverAnswer);
      const pa = d.initStruct(CapDescriptor.P_receiverAnswer, PromisedAnswer.DATA_WORDS, PromisedAnswer.POINTER_COUNT);
      this.writePromisedAnswer(pa, cap);
    } else if (cap.state == CapState.Local) {
      const id = this.exports.add(changetype<Server>(cap.server));
      d.setU16(CapDescriptor.DISCRIMINANT, CapDescriptor.W_senderHosted);
      d.setU32(CapDescriptor.F_senderHosted, id);
      return <i32>id;
    } else {
      d.setU16(CapDescriptor.DISCRIMINANT, CapDescriptor.W_none);
    }
    // attachedFd defaults to 255 ("none"); stored XOR default, zero already means none.
    return -1;
  }

  /** Whether the local servers among `caps` fit in the export table. */
  canExport(caps: Array<Cap>): bool {
    let fresh = 0;
    for (let i = 0; i < caps.length; i++) {
      const c = caps[i];
      if (c.state != CapState.Local) continue;
      const srv = changetype<Server>(c.server);
      if (this.exports.isExported(srv)) continue;
      let seen = false;
      for (let j = 0; j < i; j++) if (caps[j].server === srv) { seen = true; break; }
      if (!seen) fresh++;
    }
    return this.exports.fits(fresh);
  }

  exportLimitError(): RpcException {
    return new RpcException("ERR_LIMIT: this guest exports " + this.exports.size.toString() + " capabilities, its limit");
  }

  /** A bootstrap answer's content is itself the capability pointer. */
  private rootCapIndex(a: Answer): i32 {
    return a.payload.capIndex(Payload.P_content);
  }

  private breakCap(cap: Cap, e: RpcException): void {
    cap.state = CapState.Broken;
    cap.error = e;
  }

  releaseCap(cap: Cap): void {
    this.settle(cap);
    // A local server is not counted here: the host's references keep its export.
    cap.server = null;
    if (cap.state == CapState.Import) this.dropLocal(cap.importId);
    if (cap.state == CapState.Promise) {
      // Its answer still holds the references; forget the handle so it is not resolved.
      const ps = changetype<Answer>(cap.answer).promises;
      if (ps != null) {
        const i = ps.indexOf(cap);
        if (i >= 0) ps.splice(i, 1);
      }
    }
    cap.state = CapState.Released;
    cap.answer = null;
  }

  private dropLocal(id: u32): void {
    if (!this.imports.has(id)) return;
    const e = this.imports.get(id);
    if (e.local > 1) { e.local--; return; }
    this.imports.delete(id);
    if (this.closed != null) return;
    const r = this.beginMessage(Message.W_release, Message.P_release, Release.DATA_WORDS, Release.POINTER_COUNT);
    r.setU32(Release.F_id, id);
    r.setU32(Release.F_referenceCount, e.remote);
    this.sendOut();
  }

  disposeAnswer(a: Answer): void {
    if (a.disposed) return;
    a.disposed = true;
    if (!a.done) { a.autoDispose = true; return; }
    const holds = a.holds;
    a.holds = null;
    if (holds != null) for (let i = 0; i < holds.length; i++) this.dropLocal(holds[i]);
    if (a.frame != 0) { heap.free(a.frame); a.frame = 0; }
    a.reader = null;
  }

  /** Number of capabilities imported from the host and not yet released. */
  get importCount(): i32 { return this.imports.size; }

  // ---- receiving ----

  /** Handle incoming frames until `a` is answered (or the connection ends). */
  wait(a: Answer): void {
    while (!a.done) {
      if (!this.pump(true)) break;
    }
  }

  /** Handle every frame already queued, without suspending. */
  poll(): void {
    while (this.pump(false)) {}
  }

  /** Receive and handle one frame; false when none came (closed, or nothing queued). */
  pump(block: bool): bool {
    if (this.closed != null) return false;
    for (;;) {
      const n = block ? abi.recv(this.recvBuf, this.recvCap) : abi.poll(this.recvBuf, this.recvCap);
      if (n < 0) { this.growRecv(-n); continue; }
      if (n == 0) {
        if (block) this.close(new RpcException("connection closed", Exception.Type.disconnected));
        return false;
      }
      this.stats.framesIn++;
      this.handle(this.recvBuf, n);
      return true;
    }
  }

  private growRecv(needed: i32): void {
    let cap = this.recvCap;
    while (cap < needed) cap <<= 1;
    heap.free(this.recvBuf);
    // heap blocks are 16-byte aligned: frames must start 8-byte aligned.
    this.recvBuf = heap.alloc(<usize>cap);
    this.recvCap = cap;
  }

  private handle(ptr: usize, len: i32): void {
    if (this.finishInPlace(ptr, len)) return;
    const msg = new MessageReader(ptr, <u32>len);
    const root = msg.root();
    const which = root.u16(Message.DISCRIMINANT);
    if (!msg.ok) { this.abort("malformed frame: " + readErrorName(msg.error)); return; }
    if (which == Message.W_return) this.onReturn(len, msg, root);
    else if (which == Message.W_call) this.onCall(len, msg, root);
    else if (which == Message.W_bootstrap) this.onBootstrap(root.struct(Message.P_bootstrap).u32(Bootstrap.F_questionId));
    else if (which == Message.W_finish) {
      const f = root.struct(Message.P_finish);
      this.onFinish(f.u32(Finish.F_questionId), f.bool(Finish.B_releaseResultCaps));
    }
    else if (which == Message.W_release) this.onRelease(root.struct(Message.P_release));
    else if (which == Message.W_resolve) this.onResolve(root.struct(Message.P_resolve));
    else if (which == Message.W_abort) {
      const ex = root.struct(Message.P_abort);
      this.close(new RpcException("peer aborted: " + ex.text(Exception.P_reason), ex.u16(Exception.F_type)));
    } else if (which == Message.W_unimplemented) this.onUnimplemented(root.struct(Message.P_unimplemented));
    else this.sendUnimplemented(msg);
    if (!msg.ok && this.closed == null) this.abort("malformed frame: " + readErrorName(msg.error));
  }

  /**
   * A Finish (one per call this guest answers) read straight from the frame, with no
   * reader objects: only its plain shape (one segment, struct pointers in bounds, sizes
   * at least the schema's). Anything else returns false and the full reader decides,
   * errors included.
   */
  private finishInPlace(ptr: usize, len: i32): bool {
    if (len < 16 || load<u32>(ptr) != 0) return false;
    const bytes = <u64>load<u32>(ptr, 4) << 3;
    if (bytes < 8 || 8 + bytes > <u64>len) return false;
    const seg = ptr + 8;
    const m = plainStruct(seg, bytes, 0, Message.DATA_WORDS, Message.POINTER_COUNT);
    if (m < 0 || load<u16>(seg + <usize>m + Message.DISCRIMINANT) != Message.W_finish) return false;
    const at = <u64>m + (<u64>(load<u32>(seg, 4) & 0xffff) << 3) + (<u64>Message.P_finish << 3);
    const f = plainStruct(seg, bytes, at, Finish.DATA_WORDS, Finish.POINTER_COUNT);
    if (f < 0) return false;
    const bit = Finish.B_releaseResultCaps;
    this.onFinish(load<u32>(seg + <usize>f + Finish.F_questionId), (load<u8>(seg + <usize>f + (bit >> 3)) & (1 << (bit & 7))) != 0);
    return true;
  }

  private onReturn(len: i32, msg: MessageReader, root: StructReader): void {
    const ret = root.struct(Message.P_return);
    const id = ret.u32(Return.F_answerId);
    if (id >= <u32>this.questions.length || this.questions[id] == null) { this.abort("Return for unknown question " + id.toString()); return; }
    const a = changetype<Answer>(this.questions[id]);
    this.questions[id] = null;
    this.freeIds.push(id);
    // releaseParamCaps (stored XOR its default, true): the host let go of our params caps.
    const pe = a.paramExports;
    if (pe != null && ret.bool(Return.B_releaseParamCaps) != Return.D_releaseParamCaps) {
      for (let i = 0; i < pe.length; i++) this.exports.release(pe[i], 1);
    }
    a.paramExports = null;
    this.sendFinish(id);
    const which = ret.u16(Return.DISCRIMINANT);
    if (which == Return.W_results) {
      // Copy once: the receive buffer is reused by the next frame. The reader moves with
      // it (its structs are offsets from its base), so nothing is parsed twice.
      const r = moveToHeap(msg, len);
      const payload = ret.struct(Return.P_results);
      a.frame = r.base;
      a.reader = r;
      a.payload = payload;
      // The content is a struct for calls, a capability pointer for bootstrap.
      if (!payload.isCapability(Payload.P_content)) a.results = payload.struct(Payload.P_content);
      a.capTable = payload.list(Payload.P_capTable);
      // Each descriptor the host sends is one reference we must eventually release.
      for (let i: u32 = 0; i < a.capTable.length; i++) {
        const d = a.capTable.struct(i);
        const w = d.u16(CapDescriptor.DISCRIMINANT);
        if (w == CapDescriptor.W_senderHosted || w == CapDescriptor.W_senderPromise) this.hold(a, d.u32(CapDescriptor.F_senderHosted));
      }
      if (!r.ok) { this.abort("malformed Return: " + readErrorName(r.error)); return; }
      a.done = true;
    } else if (which == Return.W_exception) {
      const ex = ret.struct(Return.P_exception);
      a.done = true;
      a.error = new RpcException(ex.text(Exception.P_reason), ex.u16(Exception.F_type));
    } else {
      a.done = true;
      a.error = new RpcException("Return kind " + which.toString() + " is not supported by this guest", Exception.Type.unimplemented);
    }
    this.resolvePromises(a);
  }

  private hold(a: Answer, id: u32): void {
    let holds = a.holds;
    if (holds == null) { holds = new Array<u32>(); a.holds = holds; }
    this.holdImport(holds, id);
  }

  private resolvePromises(a: Answer): void {
    const ps = a.promises;
    a.promises = null;
    if (ps != null) for (let i = 0; i < ps.length; i++) this.resolveCap(ps[i], a);
    if (a.autoDispose) { a.disposed = false; this.disposeAnswer(a); }
  }

  private failAnswer(a: Answer, e: RpcException): void {
    a.done = true;
    a.error = e;
    this.resolvePromises(a);
  }

  private sendFinish(id: u32): void {
    const b = this.out;
    const f = beginRaw(b, Message.W_finish, Message.P_finish, Finish.DATA_WORDS, Finish.POINTER_COUNT);
    store<u32>(b.at(f + Finish.F_questionId), id);
    // We account for result caps ourselves (holds), so the host must not release them:
    // releaseResultCaps = false, stored XOR its default (true).
    setBitRaw(b, f, Finish.B_releaseResultCaps, false != Finish.D_releaseResultCaps);
    this.sendOut();
  }

  // ---- answering the host's questions ----

  /** A Call from the host: copied out of the receive buffer (the method may wait), then run. */
  private onCall(len: i32, msg: MessageReader, root: StructReader): void {
    this.runCall(len, moveToHeap(msg, len), root.struct(Message.P_call));
  }

  /** Run a Call that waited for the answer it was pipelined on (`frame`: a heap copy this takes over). */
  private runQueued(frame: usize, len: i32): void {
    const r = new MessageReader(frame, <u32>len);
    this.runCall(len, r, r.root().struct(Message.P_call));
  }

  /** Run Call `c` read by `r`, whose frame (r.base, a heap copy) this takes over. */
  private runCall(len: i32, r: MessageReader, c: StructReader): void {
    const frame = r.base;
    const qid = c.u32(Call.F_questionId);
    if (this.incoming.has(qid)) { heap.free(frame); this.abort("Call: question id " + qid.toString() + " is still in use"); return; }
    const t = c.struct(Call.P_target);
    let server: Server | null = null;
    let why: string | null = null;
    let whyType: u16 = Exception.Type.failed;
    if (t.u16(MessageTarget.DISCRIMINANT) == MessageTarget.W_importedCap) {
      const id = t.u32(MessageTarget.F_importedCap);
      server = this.exports.get(id);
      if (server == null) { heap.free(frame); this.abort("Call " + qid.toString() + ": target " + id.toString() + " is not a current export"); return; }
    } else {
      const pa = t.struct(MessageTarget.P_promisedAnswer);
      const aid = pa.u32(PromisedAnswer.F_questionId);
      if (!this.incoming.has(aid)) { heap.free(frame); this.abort("Call " + qid.toString() + ": pipelined on unknown question " + aid.toString()); return; }
      const on = this.incoming.get(aid);
      if (!on.done) {
        // Its answer is still being computed (the method waits): run this after it, in order.
        let q = on.queue, ql = on.queueLens;
        if (q == null || ql == null) { q = new Array<usize>(); ql = new Array<i32>(); on.queue = q; on.queueLens = ql; }
        q.push(frame);
        ql.push(len);
        return;
      }
      const cap = this.incomingCap(on, readOps(pa));
      if (cap.state == CapState.Local) server = cap.server;
      else if (cap.state == CapState.Broken) { why = changetype<RpcException>(cap.error).reason; whyType = changetype<RpcException>(cap.error).type; }
      else if (cap.state == CapState.Null) why = "call on a null capability";
      else { why = "ERR_UNIMPLEMENTED: a call pipelined on a capability this guest does not serve"; whyType = Exception.Type.unimplemented; }
    }
    if (!r.ok) { heap.free(frame); this.abort("malformed Call: " + readErrorName(r.error)); return; }
    const inc = new Incoming(qid);
    this.incoming.set(qid, inc);
    const params = c.struct(Call.P_params);
    const ret = this.takeBuilder();
    const payload = beginResults(ret, qid);
    const call = new IncomingCall(this, qid, c.u64(Call.F_interfaceId), c.u16(Call.F_methodId), frame, r,
      params.struct(Payload.P_content), params.list(Payload.P_capTable), ret, payload);
    // Each senderHosted descriptor in the params is a reference the host gave us: the call
    // holds it until it ends; handles the method takes (call.cap) are the server's own.
    const table = call.paramCaps;
    for (let i: u32 = 0; i < table.length; i++) {
      const d = table.struct(i);
      const w = d.u16(CapDescriptor.DISCRIMINANT);
      if (w == CapDescriptor.W_senderHosted || w == CapDescriptor.W_senderPromise) this.holdImport(call.holdsArray(), d.u32(CapDescriptor.F_senderHosted));
    }
    if (c.u16(Call.SendResultsTo.DISCRIMINANT) != Call.SendResultsTo.W_caller) {
      call.fail("ERR_UNIMPLEMENTED: Call.sendResultsTo other than caller", Exception.Type.unimplemented);
    } else if (why != null) {
      call.fail(why, whyType);
    } else if (this.depth >= MAX_DISPATCH_DEPTH) {
      call.fail("ERR_LIMIT: calls nested " + this.depth.toString() + " deep in this guest", Exception.Type.overloaded);
    } else {
      this.depth++;
      const found = changetype<Server>(server).dispatch(call.interfaceId, call.methodId, call);
      this.depth--;
      if (!found && call.error == null) {
        call.fail("ERR_UNIMPLEMENTED: method " + call.interfaceId.toString(16) + "/" + call.methodId.toString() + " is not implemented", Exception.Type.unimplemented);
      }
    }
    if (!r.ok && call.error == null) call.fail("ERR_INVALID_ARGUMENT: malformed params: " + readErrorName(r.error));
    this.answer(inc, call);
  }

  /** Send the Return of `call` (results or its exception) and end the call. */
  private answer(inc: Incoming, call: IncomingCall): void {
    const caps = call.resultCaps;
    if (call.error == null && caps != null && !this.canExport(caps)) call.fail(this.exportLimitError().reason);
    const ret = call.ret;
    if (call.error != null) {
      inc.error = call.error;
      inc.errorType = call.errorType;
      this.sendException(ret, inc.id, changetype<string>(call.error), call.errorType);
      this.retPool.push(ret);
    } else {
      // Results the method never initialised go out as an empty struct, not a null
      // pointer, as Cap'n Proto's own servers send them (and a host reads them in place).
      if (call.results == null) call.initResults(0, 0);
      if (caps != null) {
        const list = call.payload.initStructList(Payload.P_capTable, caps.length, CapDescriptor.DATA_WORDS, CapDescriptor.POINTER_COUNT);
        const exported = new Array<u32>();
        for (let i = 0; i < caps.length; i++) {
          const id = this.writeDescriptor(list.struct(<u32>i), caps[i]);
          if (id >= 0) exported.push(<u32>id);
        }
        inc.exports = exported;
      }
      inc.caps = caps;
      inc.ret = ret;
      if (this.closed == null) { abi.send(ret.finish(), ret.frameLength); this.stats.framesOut++; }
    }
    inc.done = true;
    const holds = call.holds;
    call.holds = null;
    if (holds != null) for (let i = 0; i < holds.length; i++) this.dropLocal(holds[i]);
    heap.free(call.frame);
    call.frame = 0;
    // Calls pipelined on this answer while it was computed, in arrival order (a Finish
    // that came meanwhile does not cancel calls already sent on it).
    const q = inc.queue;
    const ql = inc.queueLens;
    inc.queue = null;
    inc.queueLens = null;
    if (q != null && ql != null) {
      for (let i = 0; i < q.length; i++) {
        if (this.closed != null) { heap.free(q[i]); continue; }
        this.runQueued(q[i], ql[i]);
      }
    }
    if (inc.finished) this.endIncoming(inc);
  }

  /** A Bootstrap from the host: our offered server, or an exception. */
  private onBootstrap(qid: u32): void {
    if (this.incoming.has(qid)) { this.abort("Bootstrap: question id " + qid.toString() + " is still in use"); return; }
    const inc = new Incoming(qid);
    this.incoming.set(qid, inc);
    const ret = this.takeBuilder();
    const offered = this.offered;
    if (offered == null || !this.exports.fits(this.exports.isExported(offered) ? 0 : 1)) {
      inc.error = offered == null ? "ERR_NOT_FOUND: this guest offers no bootstrap capability" : this.exportLimitError().reason;
      this.sendException(ret, qid, changetype<string>(inc.error), Exception.Type.failed);
      this.retPool.push(ret);
      inc.done = true;
      return;
    }
    const payload = beginResults(ret, qid);
    payload.setCapability(Payload.P_content, 0);
    const list = payload.initStructList(Payload.P_capTable, 1, CapDescriptor.DATA_WORDS, CapDescriptor.POINTER_COUNT);
    const cap = this.local(offered);
    const exported = new Array<u32>(1);
    exported[0] = <u32>this.writeDescriptor(list.struct(0), cap);
    inc.exports = exported;
    const caps = new Array<Cap>(1);
    caps[0] = cap;
    inc.caps = caps;
    inc.ret = ret;
    inc.done = true;
    if (this.closed == null) { abi.send(ret.finish(), ret.frameLength); this.stats.framesOut++; }
  }

  /** Finish `qid`; `releaseBit`: releaseResultCaps as stored (XOR its default). */
  private onFinish(qid: u32, releaseBit: bool): void {
    if (!this.incoming.has(qid)) { this.abort("Finish for unknown question " + qid.toString()); return; }
    const inc = this.incoming.get(qid);
    inc.finished = true;
    // releaseResultCaps is stored XOR its default (true).
    inc.releaseOnFinish = releaseBit != Finish.D_releaseResultCaps;
    if (inc.done) this.endIncoming(inc);
  }

  /** A finished and answered question: forget it, releasing its result caps if asked. */
  private endIncoming(inc: Incoming): void {
    this.incoming.delete(inc.id);
    const exported = inc.exports;
    inc.exports = null;
    if (exported != null && inc.releaseOnFinish) for (let i = 0; i < exported.length; i++) this.exports.release(exported[i], 1);
    const ret = inc.ret;
    if (ret != null) { this.retPool.push(ret); inc.ret = null; }
  }

  private onRelease(r: StructReader): void {
    const id = r.u32(Release.F_id);
    const count = r.u32(Release.F_referenceCount);
    if (!this.exports.release(id, count)) this.abort("Release of " + count.toString() + " references to export " + id.toString() + ", which holds fewer");
  }

  /** The capability at `ops` in the results of answered question `inc`. */
  private incomingCap(inc: Incoming, ops: Array<u16>): Cap {
    const cap = new Cap(this);
    if (!inc.done) { this.breakCap(cap, new RpcException("that answer is not ready")); return cap; }
    if (inc.error != null) { this.breakCap(cap, new RpcException(changetype<string>(inc.error), inc.errorType)); return cap; }
    const ret = changetype<MessageBuilder>(inc.ret);
    const r = new MessageReader(ret.finish(), <u32>ret.frameLength);
    const payload = r.root().struct(Message.P_return).struct(Return.P_results);
    let idx: i32;
    if (ops.length == 0) {
      idx = payload.capIndex(Payload.P_content);
    } else {
      let s = payload.struct(Payload.P_content);
      for (let i = 0; i < ops.length - 1; i++) s = s.struct(ops[i]);
      idx = s.capIndex(ops[ops.length - 1]);
    }
    if (idx < 0) { cap.state = CapState.Null; return cap; }
    const caps = inc.caps;
    if (caps == null || idx >= caps.length) { this.breakCap(cap, new RpcException("no capability at that transform")); return cap; }
    const got = caps[idx];
    cap.state = got.state;
    cap.server = got.server;
    cap.importId = got.importId;
    cap.error = got.error;
    if (got.state == CapState.Promise) { cap.answer = got.answer; cap.ops = got.ops; }
    return cap;
  }

  private holdImport(holds: Array<u32>, id: u32): void {
    let e: ImportEntry;
    if (this.imports.has(id)) e = this.imports.get(id);
    else { e = new ImportEntry(); this.imports.set(id, e); }
    e.remote++;
    e.local++;
    holds.push(id);
  }

  private takeBuilder(): MessageBuilder {
    if (this.retPool.length > 0) { const b = this.retPool.pop(); b.reset(); return b; }
    return new MessageBuilder(1024);
  }

  /** Write and send a Return carrying an exception for question `qid` into `b`. */
  private sendException(b: MessageBuilder, qid: u32, reason: string, type: u16): void {
    b.reset();
    const r = new StructBuilder(b, beginReturn(b, qid), Return.DATA_WORDS, Return.POINTER_COUNT);
    r.setU16(Return.DISCRIMINANT, Return.W_exception);
    writeException(r.initStruct(Return.P_exception, Exception.DATA_WORDS, Exception.POINTER_COUNT), reason, type);
    if (this.closed != null) return;
    abi.send(b.finish(), b.frameLength);
    this.stats.framesOut++;
  }

  private onResolve(res: StructReader): void {
    // We never call senderPromise imports differently from hosted ones; a resolution to
    // another capability is a new reference we do not need: give it back at once.
    if (res.u16(Resolve.DISCRIMINANT) != Resolve.W_cap) return;
    const d = res.struct(Resolve.P_cap);
    const w = d.u16(CapDescriptor.DISCRIMINANT);
    if (w != CapDescriptor.W_senderHosted && w != CapDescriptor.W_senderPromise) return;
    const r = this.beginMessage(Message.W_release, Message.P_release, Release.DATA_WORDS, Release.POINTER_COUNT);
    r.setU32(Release.F_id, d.u32(CapDescriptor.F_senderHosted));
    r.setU32(Release.F_referenceCount, 1);
    this.sendOut();
  }

  private onUnimplemented(m: StructReader): void {
    // The host did not understand something we sent: fail the question it belonged to.
    const which = m.u16(Message.DISCRIMINANT);
    let qid: u32 = 0xffffffff;
    if (which == Message.W_call) qid = m.struct(Message.P_call).u32(Call.F_questionId);
    else if (which == Message.W_bootstrap) qid = m.struct(Message.P_bootstrap).u32(Bootstrap.F_questionId);
    if (qid < <u32>this.questions.length && this.questions[qid] != null) {
      const a = changetype<Answer>(this.questions[qid]);
      this.questions[qid] = null;
      this.freeIds.push(qid);
      this.failAnswer(a, new RpcException("host does not implement this message", Exception.Type.unimplemented));
    }
  }

  /** Echo a message we do not implement back inside `unimplemented`, per rpc.capnp. */
  private sendUnimplemented(msg: MessageReader): void {
    this.out.reset();
    const root = this.out.initRoot(Message.DATA_WORDS, Message.POINTER_COUNT);
    root.setU16(Message.DISCRIMINANT, Message.W_unimplemented);
    copyPointer(msg, 0, 0, this.out, root.pointerAt(Message.P_unimplemented));
    if (!msg.ok) return;
    this.sendOut();
  }

  /** Abort the connection: tell the host why, and fail everything pending. */
  abort(reason: string): void {
    if (this.closed != null) return;
    const ex = this.beginMessage(Message.W_abort, Message.P_abort, Exception.DATA_WORDS, Exception.POINTER_COUNT);
    writeException(ex, reason, Exception.Type.failed);
    this.sendOut();
    this.close(new RpcException(reason, Exception.Type.failed));
  }

  private close(e: RpcException): void {
    if (this.closed != null) return;
    this.closed = e;
    for (let i = 0; i < this.questions.length; i++) {
      const q = this.questions[i];
      if (q == null) continue;
      this.questions[i] = null;
      this.failAnswer(changetype<Answer>(q), e);
    }
  }
}

// The envelopes every call writes (Finish, the Return around results) are laid out with
// the builder's raw offsets: a StructBuilder per envelope struct was an allocation each.

/**
 * Reset `b` and start `Message.<which>` (its pointer `ptr`) with an inner struct of the
 * given size, zeroed; returns the inner struct's segment offset.
 */
function beginRaw(b: MessageBuilder, which: u16, ptr: u16, dataWords: u16, pointerCount: u16): u32 {
  b.reset();
  const m = b.allocate(<u32>Message.DATA_WORDS + <u32>Message.POINTER_COUNT);
  b.writeStructPointer(0, m, Message.DATA_WORDS, Message.POINTER_COUNT);
  store<u16>(b.at(m + Message.DISCRIMINANT), which);
  const inner = b.allocate(<u32>dataWords + <u32>pointerCount);
  b.writeStructPointer(m + (<u32>Message.DATA_WORDS << 3) + (<u32>ptr << 3), inner, dataWords, pointerCount);
  return inner;
}

/** Set bool field `bit` of the struct at segment offset `off` (data section bounds are the caller's). */
function setBitRaw(b: MessageBuilder, off: u32, bit: u32, v: bool): void {
  const p = b.at(off + (bit >> 3));
  const mask = <u8>(<u32>1 << (bit & 7));
  store<u8>(p, v ? load<u8>(p) | mask : load<u8>(p) & ~mask);
}

/**
 * Start a Return for question `qid` in `b` (reset): releaseParamCaps false, as we release
 * the params' imports ourselves. Returns the Return struct's offset; the caller adds
 * results or an exception.
 */
function beginReturn(b: MessageBuilder, qid: u32): u32 {
  const r = beginRaw(b, Message.W_return, Message.P_return, Return.DATA_WORDS, Return.POINTER_COUNT);
  store<u32>(b.at(r + Return.F_answerId), qid);
  // Stored XOR its default (true).
  setBitRaw(b, r, Return.B_releaseParamCaps, false != Return.D_releaseParamCaps);
  return r;
}

/** A Return of results for question `qid` in `b` (reset); returns its Payload, to fill. */
function beginResults(b: MessageBuilder, qid: u32): StructBuilder {
  const r = beginReturn(b, qid);
  const p = b.allocate(<u32>Payload.DATA_WORDS + <u32>Payload.POINTER_COUNT);
  b.writeStructPointer(r + (<u32>Return.DATA_WORDS << 3) + (<u32>Return.P_results << 3), p, Payload.DATA_WORDS, Payload.POINTER_COUNT);
  return new StructBuilder(b, p, Payload.DATA_WORDS, Payload.POINTER_COUNT);
}

/**
 * Content offset of the struct whose pointer is at byte `at` of the segment at `seg`
 * (`bytes` long, `at` + 8 inside it): -1 unless it is a plain, non-null struct pointer
 * whose content lies inside the segment with at least `dataWords` and `pointerCount`.
 */
function plainStruct(seg: usize, bytes: u64, at: u64, dataWords: u16, pointerCount: u16): i64 {
  const lo = load<u32>(seg + <usize>at);
  const hi = load<u32>(seg + <usize>at, 4);
  if ((lo & 3) != 0 || (lo == 0 && hi == 0)) return -1;
  const dw = hi & 0xffff, pc = hi >>> 16;
  if (dw < <u32>dataWords || pc < <u32>pointerCount) return -1;
  const off = <i64>at + 8 + (<i64>(<i32>lo >> 2) << 3);
  if (off < 0 || off + ((<i64>dw + <i64>pc) << 3) > <i64>bytes) return -1;
  return off;
}

/**
 * Copy the frame `msg` reads (in the receive buffer) to a new heap block, and point `msg`
 * and every reader taken from it there. The block is the caller's to free.
 */
function moveToHeap(msg: MessageReader, len: i32): MessageReader {
  const frame = heap.alloc(<usize>len);
  memory.copy(frame, msg.base, len);
  msg.base = frame;
  return msg;
}

/** A PromisedAnswer's transform as pointer-field indices (noops skipped). */
function readOps(pa: StructReader): Array<u16> {
  const list = pa.list(PromisedAnswer.P_transform);
  const ops = new Array<u16>();
  for (let i: u32 = 0; i < list.length; i++) {
    const op = list.struct(i);
    if (op.u16(PromisedAnswer.Op.DISCRIMINANT) == PromisedAnswer.Op.W_getPointerField) ops.push(op.u16(PromisedAnswer.Op.F_getPointerField));
  }
  return ops;
}
