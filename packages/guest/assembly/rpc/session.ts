// The guest side of two-party Cap'n Proto RPC over ww.send / ww.recv.
//
// The guest exports no capabilities: it asks questions (Bootstrap, Call), imports the
// capabilities the host returns, and answers the host's own calls with exceptions.
// Waiting for one answer drains ww.recv and handles every frame in arrival order; Returns
// for other questions are kept on their Answer, so nothing is lost.

import * as abi from "../abi";
import { MessageBuilder, StructBuilder } from "../capnp/builder";
import { MessageReader, StructReader } from "../capnp/reader";
import { readErrorName } from "../capnp/errors";
import { copyPointer } from "../capnp/copy";
import { Answer, Cap, CapState, RpcException } from "./types";
import {
  Message, Bootstrap, Call, Return, Finish, Release, Resolve, MessageTarget, Payload,
  CapDescriptor, PromisedAnswer, Exception,
} from "./schema";
import { CallBuilder } from "./call";
import { writeException } from "./write";

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
    if (a.done) this.resolveCap(cap, a);
    else a.promises.push(cap);
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
    if (idx < 0) { cap.state = CapState.Null; return; }
    if (<u32>idx >= a.capTable.length) { this.breakCap(cap, new RpcException("cap index outside the cap table")); return; }
    const d = a.capTable.struct(<u32>idx);
    const w = d.u16(CapDescriptor.DISCRIMINANT);
    if (w == CapDescriptor.W_senderHosted || w == CapDescriptor.W_senderPromise) {
      cap.state = CapState.Import;
      cap.importId = d.u32(CapDescriptor.F_senderHosted);
      const e = this.imports.get(cap.importId);
      e.local++;
    } else if (w == CapDescriptor.W_none) {
      cap.state = CapState.Null;
    } else {
      this.breakCap(cap, new RpcException("capability descriptor kind " + w.toString() + " is not supported by this guest"));
    }
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
    if (cap.state == CapState.Import) this.dropLocal(cap.importId);
    if (cap.state == CapState.Promise) {
      // Its answer still holds the references; forget the handle so it is not resolved.
      const a = changetype<Answer>(cap.answer);
      const i = a.promises.indexOf(cap);
      if (i >= 0) a.promises.splice(i, 1);
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
    for (let i = 0; i < a.holds.length; i++) this.dropLocal(a.holds[i]);
    a.holds.length = 0;
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
    const msg = new MessageReader(ptr, <u32>len);
    const root = msg.root();
    const which = root.u16(Message.DISCRIMINANT);
    if (!msg.ok) { this.abort("malformed frame: " + readErrorName(msg.error)); return; }
    if (which == Message.W_return) this.onReturn(ptr, len, msg);
    else if (which == Message.W_call) this.onCall(root.struct(Message.P_call));
    else if (which == Message.W_bootstrap) this.refuse(root.struct(Message.P_bootstrap).u32(Bootstrap.F_questionId), "this guest exports no bootstrap capability");
    else if (which == Message.W_finish || which == Message.W_release) { /* we export nothing: nothing to free */ }
    else if (which == Message.W_resolve) this.onResolve(root.struct(Message.P_resolve));
    else if (which == Message.W_abort) {
      const ex = root.struct(Message.P_abort);
      this.close(new RpcException("peer aborted: " + ex.text(Exception.P_reason), ex.u16(Exception.F_type)));
    } else if (which == Message.W_unimplemented) this.onUnimplemented(root.struct(Message.P_unimplemented));
    else this.sendUnimplemented(msg);
    if (!msg.ok && this.closed == null) this.abort("malformed frame: " + readErrorName(msg.error));
  }

  private onReturn(ptr: usize, len: i32, msg: MessageReader): void {
    const ret = msg.root().struct(Message.P_return);
    const id = ret.u32(Return.F_answerId);
    if (id >= <u32>this.questions.length || this.questions[id] == null) { this.abort("Return for unknown question " + id.toString()); return; }
    const a = changetype<Answer>(this.questions[id]);
    this.questions[id] = null;
    this.freeIds.push(id);
    this.sendFinish(id);
    const which = ret.u16(Return.DISCRIMINANT);
    if (which == Return.W_results) {
      // Copy once: the receive buffer is reused by the next frame.
      const frame = heap.alloc(<usize>len);
      memory.copy(frame, ptr, len);
      const r = new MessageReader(frame, <u32>len);
      const payload = r.root().struct(Message.P_return).struct(Return.P_results);
      a.frame = frame;
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
    let e: ImportEntry;
    if (this.imports.has(id)) e = this.imports.get(id);
    else { e = new ImportEntry(); this.imports.set(id, e); }
    e.remote++;
    e.local++;
    a.holds.push(id);
  }

  private resolvePromises(a: Answer): void {
    const ps = a.promises;
    a.promises = new Array<Cap>();
    for (let i = 0; i < ps.length; i++) this.resolveCap(ps[i], a);
    if (a.autoDispose) { a.disposed = false; this.disposeAnswer(a); }
  }

  private failAnswer(a: Answer, e: RpcException): void {
    a.done = true;
    a.error = e;
    this.resolvePromises(a);
  }

  private sendFinish(id: u32): void {
    const f = this.beginMessage(Message.W_finish, Message.P_finish, Finish.DATA_WORDS, Finish.POINTER_COUNT);
    f.setU32(Finish.F_questionId, id);
    // We account for result caps ourselves (holds), so the host must not release them:
    // releaseResultCaps = false, stored XOR its default (true).
    f.setBool(Finish.B_releaseResultCaps, false != Finish.D_releaseResultCaps);
    this.sendOut();
  }

  private onCall(call: StructReader): void {
    this.refuse(call.u32(Call.F_questionId), "this guest exports no capabilities");
  }

  /** Answer question `qid` of the host's with an exception (params caps released). */
  private refuse(qid: u32, reason: string): void {
    const r = this.beginMessage(Message.W_return, Message.P_return, Return.DATA_WORDS, Return.POINTER_COUNT);
    r.setU32(Return.F_answerId, qid);
    r.setU16(Return.DISCRIMINANT, Return.W_exception);
    writeException(r.initStruct(Return.P_exception, Exception.DATA_WORDS, Exception.POINTER_COUNT), reason, Exception.Type.failed);
    this.sendOut();
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
