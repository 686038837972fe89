// Where the capabilities of one message live. A capability pointer in Cap'n Proto is an
// index into its message's cap table, so reading or writing one needs the message's
// context: an Answer (results we received), an IncomingCall (params we received, results
// we build) or a CallBuilder (params we build). Generated code takes a CapContext.

import { StructBuilder, ListBuilder } from "../capnp/builder";
import { StructReader } from "../capnp/reader";
import { Cap } from "./types";

export abstract class CapContext {
  /**
   * A new handle (one reference, yours to `release()`) on entry `index` of the received
   * cap table; a Null cap for -1; a Broken one for an index outside the table.
   */
  cap(index: i32): Cap {
    abort("this message has no received cap table");
    return changetype<Cap>(0);
  }

  /** The capability in pointer field `ptr` of `s` (a struct of the received message). */
  capAt(s: StructReader, ptr: u16): Cap {
    return this.cap(s.capIndex(ptr));
  }

  /** Add `cap` to the cap table of the message being built; its index, or -1 for null. */
  addCap(cap: Cap): i32 {
    abort("this message is not being built");
    return -1;
  }

  /** Put `cap` in pointer field `ptr` of `s` (a struct of the message being built). */
  setCap(s: StructBuilder, ptr: u16, cap: Cap): void {
    const i = this.addCap(cap);
    if (i >= 0) s.setCapability(ptr, <u32>i);
  }

  /** Put `cap` at element `i` of `list` (a List(Interface) of the message being built). */
  setCapElement(list: ListBuilder, i: u32, cap: Cap): void {
    const idx = this.addCap(cap);
    if (idx >= 0) list.setCapability(i, <u32>idx);
  }
}
