// Capabilities a guest serves. A Server is an object the guest hands out (in a call's
// params, in results, as its bootstrap); the host calls it back with IncomingCalls, which
// the Session dispatches by interface id and method id. @ww/capnpc generates a typed base
// per interface (`KvServer`) whose dispatch reads the params and builds the results.

import { MessageBuilder, StructBuilder } from "../capnp/builder";
import { MessageReader, StructReader, ListReader } from "../capnp/reader";
import { Cap } from "./types";
import { CapContext } from "./context";
import { Exception } from "./schema";
import { Session } from "./session";

export abstract class Server {
  /**
   * Handle one call. Return false when this server does not implement (interfaceId,
   * methodId): the caller gets an `unimplemented` exception. To fail, call `call.fail()`.
   * The method may make calls of its own and wait for them; calls arriving meanwhile are
   * dispatched too (to this server as well: Cap'n Proto delivers in order, it does not
   * serialize).
   */
  abstract dispatch(interfaceId: u64, methodId: u16, call: IncomingCall): bool;

  /** The peer dropped its last reference to this server (every export of it released). */
  released(): void {}
}

/** One call to a guest's Server: its params (read) and its results (built). */
export class IncomingCall extends CapContext {
  /** The params struct; valid until dispatch returns (copy what you keep). */
  params: StructReader;
  /** The results, once `initResults` was called. */
  results: StructBuilder | null = null;
  /** Set by `fail`: the Return is this exception instead of results. */
  error: string | null = null;
  errorType: u16 = Exception.Type.failed;
  /** Capabilities added to the results, in cap-table order (null: none yet). */
  resultCaps: Array<Cap> | null = null;
  /** Import ids whose reference this call holds (params caps), dropped when it ends (null: none). */
  holds: Array<u32> | null = null;

  constructor(
    public session: Session,
    public questionId: u32,
    public interfaceId: u64,
    public methodId: u16,
    /** The call's frame (a heap copy), freed when the call ends. */
    public frame: usize,
    public reader: MessageReader,
    params: StructReader,
    /** The params Payload's cap table (CapDescriptor list). */
    public paramCaps: ListReader,
    /** The Return being built (owned by the session's pool). */
    public ret: MessageBuilder,
    public payload: StructBuilder,
  ) {
    super();
    this.params = params;
  }

  /** A new handle on params cap-table entry `index` (yours: `release()` it when done). */
  cap(index: i32): Cap {
    return this.session.paramCap(this, index);
  }

  /** The results struct of this call's Return, `dataWords` and `pointerCount` in size (once). */
  initResults(dataWords: u16, pointerCount: u16): StructBuilder {
    let r = this.results;
    if (r != null) return r;
    r = this.payload.initStruct(0, dataWords, pointerCount);
    this.results = r;
    return r;
  }

  addCap(cap: Cap): i32 {
    this.session.settle(cap);
    if (cap.isNull) return -1;
    let caps = this.resultCaps;
    if (caps == null) { caps = new Array<Cap>(); this.resultCaps = caps; }
    let i = caps.indexOf(cap);
    if (i < 0) { i = caps.length; caps.push(cap); }
    return i;
  }

  /** `holds`, made if it was not yet. */
  holdsArray(): Array<u32> {
    let h = this.holds;
    if (h == null) { h = new Array<u32>(); this.holds = h; }
    return h;
  }

  /**
   * Answer with an exception instead of results. Start `reason` with a stable code
   * ("ERR_NOT_FOUND: no key x") so callers can tell failures apart.
   */
  fail(reason: string, type: u16 = Exception.Type.failed): void {
    this.error = reason;
    this.errorType = type;
  }
}
