// Typed client for schemas/process.capnp's BootContext: how a process learns who it is
// and what it holds — its spawner's args blob and the capabilities it was handed by name —
// instead of argv and the environment.

import {
  BootContext, BootContext_info$Params, BootContext_info$Results, BootContext_self$Params,
  BootContext_self$Results, BootContext_parent$Params, BootContext_parent$Results,
  BootContext_args$Params, BootContext_args$Results, BootContext_caps$Params,
  BootContext_caps$Results, BootContext_cap$Params, BootContext_cap$Results, BootInfo,
} from "@ww/schema/assembly/process";
import { NamedCap, ProcessRef } from "@ww/schema/assembly/common";
import { ListReader, StructReader } from "../capnp/reader";
import { Answer } from "../rpc/types";
import { AnchorClient, PubSubClient, TopicClient } from "./host";
import { DialerClient } from "./net";
import { Obtained } from "./obtained";

/** One process by name (common.capnp ProcessRef): knowing it confers nothing. */
export class ProcessId {
  constructor(public host: string, public pid: u64) {}

  static read(s: StructReader): ProcessId {
    return new ProcessId(s.text(ProcessRef.P_host), s.u64(ProcessRef.F_pid))
  }
}

/** What `info` tells, copied out of its answer; the caps by name (take one with `cap`). */
export class BootSummary {
  constructor(
    public self: ProcessId, public parent: ProcessId, public name: string,
    public args: Uint8Array, public caps: string[],
  ) {}

  static read(s: StructReader): BootSummary {
    return new BootSummary(
      ProcessId.read(s.struct(BootInfo.P_self)), ProcessId.read(s.struct(BootInfo.P_parent)),
      s.text(BootInfo.P_name), s.data(BootInfo.P_args), namesIn(s.list(BootInfo.P_caps)),
    )
  }
}

function namesIn(list: ListReader): string[] {
  const out = new Array<string>(list.length)
  for (let i: u32 = 0; i < list.length; i++) out[i] = list.struct(i).text(NamedCap.P_name)
  return out
}

export class BootContextClient extends Obtained {
  /** Everything below in one round trip (see `infoOf`). */
  info(): Answer { return this.ask(BootContext.M_info, BootContext_info$Params.DATA_WORDS, BootContext_info$Params.POINTER_COUNT) }
  static infoOf(a: Answer): BootSummary { return BootSummary.read(a.results.struct(BootContext_info$Results.P_info)) }

  /** This process's host and pid. */
  self(): Answer { return this.ask(BootContext.M_self, BootContext_self$Params.DATA_WORDS, BootContext_self$Params.POINTER_COUNT) }
  static selfOf(a: Answer): ProcessId { return ProcessId.read(a.results.struct(BootContext_self$Results.P_self)) }

  /** Its spawner (pid 0: the host's embedder). */
  parent(): Answer { return this.ask(BootContext.M_parent, BootContext_parent$Params.DATA_WORDS, BootContext_parent$Params.POINTER_COUNT) }
  static parentOf(a: Answer): ProcessId { return ProcessId.read(a.results.struct(BootContext_parent$Results.P_parent)) }

  /** The opaque argument blob the spawner passed (ExecOptions.args). */
  args(): Answer { return this.ask(BootContext.M_args, BootContext_args$Params.DATA_WORDS, BootContext_args$Params.POINTER_COUNT) }
  static argsOf(a: Answer): Uint8Array { return a.results.data(BootContext_args$Results.P_args) }

  /** The names of the caps the spawner passed, in its order (see `namesOf`). */
  caps(): Answer { return this.ask(BootContext.M_caps, BootContext_caps$Params.DATA_WORDS, BootContext_caps$Params.POINTER_COUNT) }
  static namesOf(a: Answer): string[] { return namesIn(a.results.list(BootContext_caps$Results.P_caps)) }

  /**
   * BootContext.cap: the capability passed under `name`, usable (pipelined) at once; an
   * unknown name fails its answer, and every call made on it, with "ERR_NOT_FOUND: …".
   * (Not `cap`: that is the handle every Obtained carries.)
   */
  capNamed(name: string): Obtained {
    const a = this.capAnswer(name)
    return new Obtained(a.cap(BootContext_cap$Results.P_cap), a)
  }
  // Typed views of `capNamed(name)`: the guest knows what it was promised under each name.
  anchor(name: string): AnchorClient { const a = this.capAnswer(name); return new AnchorClient(a.cap(BootContext_cap$Results.P_cap), a) }
  pubSub(name: string): PubSubClient { const a = this.capAnswer(name); return new PubSubClient(a.cap(BootContext_cap$Results.P_cap), a) }
  topic(name: string): TopicClient { const a = this.capAnswer(name); return new TopicClient(a.cap(BootContext_cap$Results.P_cap), a) }
  dialer(name: string): DialerClient { const a = this.capAnswer(name); return new DialerClient(a.cap(BootContext_cap$Results.P_cap), a) }

  private capAnswer(name: string): Answer {
    const c = this.cap.session.call(this.cap, BootContext.ID, BootContext.M_cap, BootContext_cap$Params.DATA_WORDS, BootContext_cap$Params.POINTER_COUNT)
    c.params.setText(BootContext_cap$Params.P_name, name)
    return c.send()
  }

  private ask(method: u16, dataWords: u16, pointerCount: u16): Answer {
    return this.cap.session.call(this.cap, BootContext.ID, method, dataWords, pointerCount).send()
  }
}
