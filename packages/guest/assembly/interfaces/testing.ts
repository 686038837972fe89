// Typed clients for schemas/testing.capnp (Echo, Counter): ids, ordinals and layouts all
// come from the schema's generated constants.

import {
  Echo, Counter, Echo_ping$Params, Echo_echo$Params, Echo_echo$Results, Echo_counter$Params,
  Echo_counter$Results, Counter_add$Params, Counter_add$Results,
} from "@ww/schema/assembly/testing";
import { Answer, Cap } from "../rpc/types";

export class EchoClient {
  constructor(public cap: Cap) {}

  ping(): Answer {
    const c = this.cap.session.call(this.cap, Echo.ID, Echo.M_ping, Echo_ping$Params.DATA_WORDS, Echo_ping$Params.POINTER_COUNT);
    return c.send();
  }

  echo(payload: Uint8Array): Answer {
    const c = this.cap.session.call(this.cap, Echo.ID, Echo.M_echo, Echo_echo$Params.DATA_WORDS, Echo_echo$Params.POINTER_COUNT);
    c.params.setData(Echo_echo$Params.P_payload, payload);
    return c.send();
  }

  /** The payload of a done `echo` answer (a copy). */
  static payloadOf(a: Answer): Uint8Array {
    return a.results.data(Echo_echo$Results.P_payload);
  }

  counter(start: u64): Answer {
    const c = this.cap.session.call(this.cap, Echo.ID, Echo.M_counter, Echo_counter$Params.DATA_WORDS, Echo_counter$Params.POINTER_COUNT);
    c.params.setU64(Echo_counter$Params.F_start, start);
    return c.send();
  }

  /** The Counter of a `counter` answer: usable (pipelined) before the answer arrives. */
  static counterOf(a: Answer): CounterClient {
    return new CounterClient(a.cap(Echo_counter$Results.P_counter));
  }
}

export class CounterClient {
  constructor(public cap: Cap) {}

  add(n: u64): Answer {
    const c = this.cap.session.call(this.cap, Counter.ID, Counter.M_add, Counter_add$Params.DATA_WORDS, Counter_add$Params.POINTER_COUNT);
    c.params.setU64(Counter_add$Params.F_n, n);
    return c.send();
  }

  static totalOf(a: Answer): u64 {
    return a.results.u64(Counter_add$Results.F_total);
  }

  release(): void { this.cap.release(); }
}
