// Building one outgoing Call: the params struct is written straight into the session's
// outgoing message; capabilities passed in params go to the payload's cap table on send.

import { StructBuilder } from "../capnp/builder";
import { Answer, Cap, CapState, RpcException } from "./types";
import { Message, Call, Payload, CapDescriptor, PromisedAnswer, MessageTarget } from "./schema";
import { Session } from "./session";

export class CallBuilder {
  /** The params struct: fill it with the method's Params layout. */
  params: StructBuilder;
  private payload: StructBuilder;
  private call: StructBuilder;
  private caps: Array<Cap> = new Array<Cap>();
  private answer: Answer;

  constructor(public session: Session, public target: Cap, interfaceId: u64, methodId: u16, dataWords: u16, pointerCount: u16) {
    const answer = session.newQuestion();
    const call = session.beginMessage(Message.W_call, Message.P_call, Call.DATA_WORDS, Call.POINTER_COUNT);
    call.setU32(Call.F_questionId, answer.id);
    call.setU64(Call.F_interfaceId, interfaceId);
    call.setU16(Call.F_methodId, methodId);
    const payload = call.initStruct(Call.P_params, Payload.DATA_WORDS, Payload.POINTER_COUNT);
    this.answer = answer;
    this.call = call;
    this.payload = payload;
    this.params = payload.initStruct(Payload.P_content, dataWords, pointerCount);
    session.building = true;
  }

  /** Put capability `cap` in pointer slot `ptr` of `s` (params or a struct inside them). */
  setCap(s: StructBuilder, ptr: u16, cap: Cap): void {
    this.session.settle(cap);
    if (cap.state == CapState.Null) return;
    let i = this.caps.indexOf(cap);
    if (i < 0) { i = this.caps.length; this.caps.push(cap); }
    s.setCapability(ptr, <u32>i);
  }

  /** Send the call; the answer may be waited for, or pipelined on at once. */
  send(): Answer {
    const s = this.session;
    s.building = false;
    const a = this.answer;
    const t = this.target;
    if (s.closed != null) return this.fail(changetype<RpcException>(s.closed));
    if (t.state == CapState.Broken) return this.fail(changetype<RpcException>(t.error));
    if (t.state == CapState.Null) return this.fail(new RpcException("call on a null capability"));
    if (t.state == CapState.Released) return this.fail(new RpcException("call on a released capability"));
    s.writeTarget(this.call.initStruct(Call.P_target, MessageTarget.DATA_WORDS, MessageTarget.POINTER_COUNT), t);
    const n = this.caps.length;
    if (n > 0) {
      const table = this.payload.initStructList(Payload.P_capTable, n, CapDescriptor.DATA_WORDS, CapDescriptor.POINTER_COUNT);
      for (let i = 0; i < n; i++) this.writeDescriptor(table.struct(i), this.caps[i]);
    }
    s.sendOut();
    return a;
  }

  private writeDescriptor(d: StructBuilder, cap: Cap): void {
    // The host's own capabilities go back as receiverHosted / receiverAnswer.
    if (cap.state == CapState.Import) {
      d.setU16(CapDescriptor.DISCRIMINANT, CapDescriptor.W_receiverHosted);
      d.setU32(CapDescriptor.F_receiverHosted, cap.importId);
    } else if (cap.state == CapState.Promise) {
      d.setU16(CapDescriptor.DISCRIMINANT, CapDescriptor.W_receiverAnswer);
      const pa = d.initStruct(CapDescriptor.P_receiverAnswer, PromisedAnswer.DATA_WORDS, PromisedAnswer.POINTER_COUNT);
      this.session.writePromisedAnswer(pa, cap);
    } else {
      d.setU16(CapDescriptor.DISCRIMINANT, CapDescriptor.W_none);
    }
    // attachedFd defaults to 255 ("none"); stored XOR default, zero already means none.
  }

  private fail(e: RpcException): Answer {
    // The question was never sent: free its id and answer it locally.
    const s = this.session;
    const a = this.answer;
    s.questions[a.id] = null;
    s.freeIds.push(a.id);
    a.done = true;
    a.error = e;
    return a;
  }
}
