// A guest that serves: it offers an Echo (schemas/testing.capnp) as its bootstrap and
// serves until its connection closes. Its `ping` calls the host's own bootstrap Echo back
// before answering (the host may call this guest again meanwhile: no deadlock); `counter`
// answers with a Counter this guest serves. Used by serve-echo (plain) and
// wasi-serve-echo; the `ww_test_*` exports read its tables.
import { Session, Server, IncomingCall, EchoClient, HostClient } from "../../assembly/index";
import {
  Echo, Counter, Echo_echo$Params, Echo_echo$Results, Echo_counter$Params, Echo_counter$Results,
  Counter_add$Params, Counter_add$Results,
} from "@ww/schema/assembly/testing";

let rpc: Session | null = null;
let host: EchoClient | null = null;
let countersReleased: i32 = 0;
/** Whether `ping` calls the host back before answering (off: a null call, for benchmarks). */
let callBack: bool = false;

class CounterServer extends Server {
  constructor(public total: u64) { super(); }
  dispatch(interfaceId: u64, methodId: u16, call: IncomingCall): bool {
    if (interfaceId != Counter.ID || methodId != Counter.M_add) return false;
    this.total += call.params.u64(Counter_add$Params.F_n);
    call.initResults(Counter_add$Results.DATA_WORDS, Counter_add$Results.POINTER_COUNT).setU64(Counter_add$Results.F_total, this.total);
    return true;
  }
  released(): void { countersReleased++; }
}

class EchoServer extends Server {
  dispatch(interfaceId: u64, methodId: u16, call: IncomingCall): bool {
    if (interfaceId != Echo.ID) return false;
    if (methodId == Echo.M_ping) {
      if (!callBack) return true;
      // Call the host back and wait: incoming calls are served while this waits.
      const a = changetype<EchoClient>(host).ping();
      if (!a.wait()) call.fail("ERR_REMOTE: the host's ping failed: " + a.error!.reason);
      a.dispose();
      return true;
    }
    if (methodId == Echo.M_echo) {
      const bytes = call.params.data(Echo_echo$Params.P_payload);
      call.initResults(Echo_echo$Results.DATA_WORDS, Echo_echo$Results.POINTER_COUNT).setData(Echo_echo$Results.P_payload, bytes);
      return true;
    }
    if (methodId == Echo.M_counter) {
      const start = call.params.u64(Echo_counter$Params.F_start);
      const r = call.initResults(Echo_counter$Results.DATA_WORDS, Echo_counter$Results.POINTER_COUNT);
      call.setCap(r, Echo_counter$Results.P_counter, changetype<Session>(rpc).local(new CounterServer(start)));
      return true;
    }
    return false;
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
  const echo = new EchoServer();
  s.offer(echo);
  if (provide) {
    const h = new HostClient(boot);
    const args = h.args();
    if (args.length > 0) {
      const name = String.UTF8.decode(args.buffer);
      const p = h.registry().provide(name, s.local(echo), 3600000); // serving only, it cannot renew: the longest lease
      if (!p.ready()) { console.log("provide failed: " + p.from.error!.reason); return 1; }
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
