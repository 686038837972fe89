// Typed clients for schemas/testing.capnp (Echo, Counter): ids, ordinals and layouts all
// come from the schema's generated constants.

import { Echo, Counter } from "../testing-schema";
import { Answer, Cap } from "../rpc/types";

export class EchoClient {
  constructor(public cap: Cap) {}

  ping(): Answer {
    const c = this.cap.session.call(this.cap, Echo.ID, Echo.M_ping, Echo.PingParams.DATA_WORDS, Echo.PingParams.POINTER_COUNT);
    return c.send();
  }

  echo(payload: Uint8Array): Answer {
    const c = this.cap.session.call(this.cap, Echo.ID, Echo.M_echo, Echo.EchoParams.DATA_WORDS, Echo.EchoParams.POINTER_COUNT);
    c.params.setData(Echo.EchoParams.P_payload, payload);
    return c.send();
  }

  /** The payload of a done `echo` answer (a copy). */
  static payloadOf(a: Answer): Uint8Array {
    return a.results.data(Echo.EchoResults.P_payload);
  }

  counter(start: u64): Answer {
    const c = this.cap.session.call(this.cap, Echo.ID, Echo.M_counter, Echo.CounterParams.DATA_WORDS, Echo.CounterParams.POINTER_COUNT);
    c.params.setU64(Echo.CounterParams.F_start, start);
    return c.send();
  }

  /** The Counter of a `counter` answer: usable (pipelined) before the answer arrives. */
  static counterOf(a: Answer): CounterClient {
    return new CounterClient(a.cap(Echo.CounterResults.P_counter));
  }
}

export class CounterClient {
  constructor(public cap: Cap) {}

  add(n: u64): Answer {
    const c = this.cap.session.call(this.cap, Counter.ID, Counter.M_add, Counter.AddParams.DATA_WORDS, Counter.AddParams.POINTER_COUNT);
    c.params.setU64(Counter.AddParams.F_n, n);
    return c.send();
  }

  static totalOf(a: Answer): u64 {
    return a.results.u64(Counter.AddResults.F_total);
  }

  release(): void { this.cap.release(); }
}
