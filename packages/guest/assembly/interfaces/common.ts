// Typed clients for schemas/common.capnp.

import { Revoker, Revoker_revoke$Params } from "@ww/schema/assembly/common";
import { Answer } from "../rpc/types";
import { Obtained } from "./obtained";

/** Revokes what it was handed out with (e.g. `DialerClient.restrict`'s narrowed dialer). */
export class RevokerClient extends Obtained {
  revoke(reason: string): Answer {
    const c = this.cap.session.call(this.cap, Revoker.ID, Revoker.M_revoke, Revoker_revoke$Params.DATA_WORDS, Revoker_revoke$Params.POINTER_COUNT)
    c.params.setText(Revoker_revoke$Params.P_reason, reason)
    return c.send()
  }
}
