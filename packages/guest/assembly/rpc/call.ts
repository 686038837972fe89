// Building one outgoing Call: the params struct is written straight into the session's
// outgoing message; capabilities passed in params go to the payload's cap table on send.

import { StructBuilder } from "../capnp/builder";
import { Answer, Cap, CapState, RpcException } from "./types";
import { Message, Call, Payload, CapDescriptor, PromisedAnswer, MessageTarget } from "./schema";
import { Session } from "./session";
import { CapContext } from "./context";

export class CallBuilder extends CapContext {
  /** The params struct: fill it with the method's Params layout. */
  params: StructBuilder;
  private payload: StructBuilder;
  private call: StructBuilder;
  /** Capabilities in the params, in cap-table order (null: none). */
  private caps: Array<Cap> | null = null;
  private answer: Answer;

  constructor(public session: Session, public target: Cap, interfaceId: u64, methodId: u16, dataWords: u16, pointerCount: u16) {
    super();
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

  /** Add `cap` to the params' cap table (see CapContext.setCap); -1 for a null cap. */
  addCap(cap: Cap): i32 {
    this.session.settle(cap);
    if (cap.state == CapState.Null) return -1;
    let caps = this.caps;
    if (caps == null) { caps = new Array<Cap>(); this.caps = caps; }
    let i = caps.indexOf(cap);
    if (i < 0) { i = caps.length; caps.push(cap); }
    return i;
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
    const caps = this.caps;
    if (caps != null) {
      const n = caps.length;
      if (!s.canExport(caps)) return this.fail(s.exportLimitError());
      const table = this.payload.initStructList(Payload.P_capTable, n, CapDescriptor.DATA_WORDS, CapDescriptor.POINTER_COUNT);
      for (let i = 0; i < n; i++) {
        const id = s.writeDescriptor(table.struct(i), caps[i]);
        if (id >= 0) {
          let ex = a.paramExports;
          if (ex == null) { ex = new Array<u32>(); a.paramExports = ex; }
          ex.push(<u32>id);
        }
      }
    }
    s.sendOut();
    return a;
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
