// What the SDK adds to the generated Host and BootContext clients (gen/host.ts,
// gen/process.ts): a process's start-up questions in one call each. Everything else a
// guest says to its host is the generated API.

import * as host from "../gen/host";
import * as proc from "../gen/process";

/** The Host a guest bootstraps: `new HostClient(rpc.bootstrap())`. */
export class HostClient extends host.HostClient {
  /**
   * What this process was started with, usable (pipelined) at once; every call on it fails
   * with ERR_NOT_FOUND when its host was given no BootContext.
   */
  context(): BootContextClient {
    const a = this.bootContext();
    const ctx = new BootContextClient(a.answer.cap(host.Host_bootContext$Results.P_context));
    a.dispose(); // the context keeps its own reference
    return ctx;
  }

  /**
   * The args blob this process's spawner passed (ExecOptions.args, `ww spawn --args`), read
   * from its BootContext: waits for the answer. Empty when none were given, or when its host
   * was given no BootContext.
   */
  args(): Uint8Array {
    const ctx = this.context();
    const a = ctx.args();
    const out = a.wait() ? a.results().getArgs() : new Uint8Array(0);
    a.dispose();
    ctx.release();
    return out;
  }
}

/** A process's BootContext (schemas/process.capnp): who it is, and what it was handed. */
export class BootContextClient extends proc.BootContextClient {
  /**
   * The capability handed over as `name`, as a client of the interface its spawner promised
   * (`ctx.capNamed<AnchorClient>("store")`), usable (pipelined) at once. A name that was not
   * handed over fails every call on it with ERR_NOT_FOUND (`ready()` is false, `error` says
   * why). Release it when done.
   */
  capNamed<C>(name: string): C {
    const a = this.cap$(name);
    const c = instantiate<C>(a.answer.cap(proc.BootContext_cap$Results.P_cap));
    a.dispose();
    return c;
  }
}
