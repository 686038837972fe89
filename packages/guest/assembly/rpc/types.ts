// The guest's view of RPC objects: answers to its questions, capability handles and
// exceptions. The Session (session.ts) owns the tables these point into.

import { ListReader, MessageReader, StructReader, emptyStructReader, emptyListReader } from "../capnp/reader";
import { Exception } from "./schema";
import { Session } from "./session";
import { CapContext } from "./context";
import { Server } from "./server";

/** "ERR_[A-Z0-9_]+" at `at` in `s` when followed by ": " or the end, else "". */
function codeAt(s: string, at: i32): string {
  if (s.substr(at, 4) != "ERR_") return "";
  let end = at + 4;
  while (end < s.length) {
    const c = s.charCodeAt(end);
    if (!(c == 95 || (c >= 65 && c <= 90) || (c >= 48 && c <= 57))) break;
    end++;
  }
  if (end == at + 4) return "";
  if (end < s.length && (s.charCodeAt(end) != 58 || s.charCodeAt(end + 1) != 32)) return "";
  return s.substring(at, end);
}

/** An exception from the peer (or the connection), as rpc.capnp's Exception. */
export class RpcException {
  constructor(public reason: string, public type: u16 = Exception.Type.failed) {}
  /**
   * The stable code a ww host puts before its reason ("ERR_NOT_FOUND: no cap named …" →
   * "ERR_NOT_FOUND"), or "" when the reason carries none (a transport or peer failure).
   * A relaying "ERR_REMOTE: " is looked through: a call pipelined two deep on a failed
   * answer comes back as "ERR_REMOTE: ERR_NOT_FOUND: …" from the host's transport.
   */
  get code(): string {
    let code = codeAt(this.reason, 0);
    let at = 0;
    while (code == "ERR_REMOTE") {
      at += code.length + 2;
      const inner = codeAt(this.reason, at);
      if (inner == "") break;
      code = inner;
    }
    return code;
  }
  toString(): string { return "rpc exception (" + this.type.toString() + "): " + this.reason; }
}

// What an answer reads before (or without) results: the shared empty struct and list.
const NO_RESULTS: StructReader = emptyStructReader();
const NO_CAPS: ListReader = emptyListReader();

/** The answer to one question the guest asked (a call or a bootstrap). */
export class Answer {
  done: bool = false;
  error: RpcException | null = null;
  /** Results content (an empty struct until done, or on error). */
  results: StructReader = NO_RESULTS;
  /** The Return's Payload (content and cap table). */
  payload: StructReader = NO_RESULTS;
  capTable: ListReader = NO_CAPS;
  /** Import ids this answer holds one reference to, released by dispose(); null: none. */
  holds: Array<u32> | null = null;
  /** Promise caps created on this answer before it arrived, resolved when it does; null: none. */
  promises: Array<Cap> | null = null;
  disposed: bool = false;
  /** The copied Return frame (heap), kept until dispose so results stay readable. */
  frame: usize = 0;
  reader: MessageReader | null = null;
  /** Dispose as soon as the answer arrives (bootstrap: the caller only has the cap). */
  autoDispose: bool = false;
  /** Our exports whose references went out in this question's params (released by Return.releaseParamCaps). */
  paramExports: Array<u32> | null = null;

  constructor(public session: Session, public id: u32) {}

  get ok(): bool { return this.done && this.error == null; }

  /** Block (suspending, not spinning) until the answer arrives; true if it has results. */
  wait(): bool {
    this.session.wait(this);
    return this.ok;
  }

  /**
   * The capability in results pointer field `ptrIndex` (of the results struct). Before the
   * answer arrives this is a promise: calls on it are pipelined to the host at once.
   */
  cap(ptrIndex: u16): Cap {
    const ops = new Array<u16>(1);
    ops[0] = ptrIndex;
    return this.session.capOf(this, ops);
  }

  /** The results' cap table, for typed readers of capability fields (the answer must be done). */
  get caps(): AnswerCaps {
    return new AnswerCaps(this);
  }

  /** Release the answer's frame and the capabilities it holds (handles keep their own). */
  dispose(): void {
    this.session.disposeAnswer(this);
  }
}

/** An answer's results cap table as a CapContext. */
export class AnswerCaps extends CapContext {
  constructor(public answer: Answer) { super(); }
  /** A new handle (yours to release) on results cap-table entry `index`. */
  cap(index: i32): Cap {
    return this.answer.session.resultCap(this.answer, index);
  }
}

export enum CapState { Promise = 0, Import = 1, Broken = 2, Null = 3, Released = 4, Local = 5 }

/** A capability handle. Each handle holds one reference; release() drops it. */
export class Cap {
  state: CapState = CapState.Promise;
  importId: u32 = 0;
  answer: Answer | null = null;
  /** getPointerField path from the answer's results to the capability. */
  ops: Array<u16> = new Array<u16>();
  error: RpcException | null = null;
  /** The server, for a capability this guest serves (state Local). */
  server: Server | null = null;

  constructor(public session: Session) {}

  get isNull(): bool { return this.state == CapState.Null; }

  release(): void {
    this.session.releaseCap(this);
  }
}
