// Typed client for schemas/process.capnp's BootContext: what a process was started with.

import { BootContext, BootContext_args$Params, BootContext_args$Results } from "@ww/schema/assembly/process";
import { Answer } from "../rpc/types";
import { Obtained } from "./obtained";

export class BootContextClient extends Obtained {
  /** The opaque argument blob the spawner passed (ExecRequest.args). */
  args(): Answer {
    return this.cap.session.call(this.cap, BootContext.ID, BootContext.M_args, BootContext_args$Params.DATA_WORDS, BootContext_args$Params.POINTER_COUNT).send()
  }
  static argsOf(a: Answer): Uint8Array { return a.results.data(BootContext_args$Results.P_args) }
}
