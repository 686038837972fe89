// A guest that serves: it offers an Echo (schemas/testing.capnp) as its bootstrap and
// serves until its connection closes. Its `ping` calls the host's own bootstrap Echo back
// before answering (the host may call this guest again meanwhile: no deadlock); `counter`
// answers with a Counter this guest serves. Used by serve-echo (plain) and
// wasi-serve-echo; the `ww_test_*` exports read its tables.
import { Session, IncomingCall, EchoClient, EchoServer, CounterClient, CounterServer, HostClient } from "../../assembly/index";
import {
  Echo_ping$Params, Echo_ping$Results, Echo_echo$Params, Echo_echo$Results, Echo_counter$Params, Echo_counter$Results,
  Counter_add$Params, Counter_add$Results,
} from "../../assembly/gen/testing";

let rpc: Session | null = null;
let host: EchoClient | null = null;
let countersReleased: i32 = 0;
/** Whether `ping` calls the host back before answering (off: a null call, for benchmarks). */
let callBack: bool = false;

class Counter extends CounterServer {
  constructor(public total: u64) { super(); }
  add(params: Counter_add$Params.Reader, results: Counter_add$Results.Builder, call: IncomingCall): void {
    this.total += params.getN();
    results.setTotal(this.total);
  }
  released(): void { countersReleased++; }
}

class Echo extends EchoServer {
  ping(params: Echo_ping$Params.Reader, results: Echo_ping$Results.Builder, call: IncomingCall): void {
    if (!callBack) return;
    // Call the host back and wait: incoming calls are served while this waits.
    const a = changetype<EchoClient>(host).ping();
    if (!a.wait()) call.fail("ERR_REMOTE: the host's ping failed: " + a.error!.reason);
    a.dispose();
  }
  echo(params: Echo_echo$Params.Reader, results: Echo_echo$Results.Builder, call: IncomingCall): void {
    results.setPayload(params.getPayload());
  }
  counter(params: Echo_counter$Params.Reader, results: Echo_counter$Results.Builder, call: IncomingCall): void {
    results.setCounter(new CounterClient(changetype<Session>(rpc).local(new Counter(params.getStart()))));
  }
}

/**
 * Offer the Echo as this guest's bootstrap and serve. With `provide`, also offer it in the
 * registry under the name its BootContext's args give (when they give one): the bootstrap
 * is then a Host, not an Echo, so `ping` must not be asked to call back.
 */
export function serveEcho(provide: bool): i32 {
  const s = new Session();
  rpc = s;
  const boot = s.bootstrap();
  host = new EchoClient(boot);
  const echo = new Echo();
  s.offer(echo);
  if (provide) {
    const h = new HostClient(boot);
    const args = h.args();
    if (args.length > 0) {
      const name = String.UTF8.decode(args.buffer);
      const r = h.registry().registry().provideRequest();
      r.params.setName(name);
      r.params.setServiceCap(s.local(echo));
      r.params.initOptions().setTtlMs(3600000); // serving only, it cannot renew: the longest lease
      const p = r.send();
      if (!p.wait()) { console.log("provide failed: " + p.error!.reason); return 1; }
      console.log("providing echo as " + name);
    }
  }
  s.serve();
  return 0;
}

/** Servers this guest exports now. */
export function ww_test_exports(): i32 { return rpc == null ? -1 : changetype<Session>(rpc).exports.size; }
/** Counters whose last reference the host released. */
export function ww_test_counters_released(): i32 { return countersReleased; }
/** Imports (host capabilities) this guest holds. */
export function ww_test_imports(): i32 { return rpc == null ? -1 : changetype<Session>(rpc).importCount; }
/** Make `ping` call the host back before answering (1) or not (0). */
export function ww_test_callback(on: i32): void { callBack = on != 0; }
