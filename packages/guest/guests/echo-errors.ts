// Failure modes a guest must see as inspectable errors, not traps:
// 1. a method the host does not implement → RpcException of type `unimplemented`;
// 2. a call pipelined on that failed answer → fails too (the promise is broken);
// 3. a call on a released capability → fails locally, nothing is sent;
// and one that must not be an error:
// 4. an answer disposed before it arrives → the client taken from it still resolves and works.
// Exit: ww_main returns 0 when every error arrived as expected, else the failed step (1-4).
// (Not in echo-client: its exact call sequence is asserted by tests and timed by benchmarks.)
export * from "../assembly/exports";
import { Session, EchoClient, RpcException } from "../assembly/index";
import { Echo } from "../assembly/gen/testing";
import { Exception } from "../assembly/rpc/schema";

// One past the last method of Echo: an ordinal the schema does not define.
const M_MISSING: u16 = Echo.M_counter + 1;

export function ww_main(): i32 {
  const rpc = new Session();
  const boot = rpc.bootstrap();
  const echo = new EchoClient(boot);

  const bad = rpc.call(boot, Echo.ID, M_MISSING, 0, 0).send();
  const onBad = rpc.call(bad.cap(0), Echo.ID, Echo.M_ping, 0, 0).send();
  if (bad.wait()) return 1;
  const e = changetype<RpcException>(bad.error);
  if (e.type != Exception.Type.unimplemented || e.reason.length == 0) return 1;

  if (onBad.wait() || onBad.error == null) return 2;
  // A client pipelined on the failed answer is broken with its error.
  const onBadClient = new EchoClient(bad.cap(0));
  if (onBadClient.ready() || onBadClient.error == null || onBadClient.error!.reason != e.reason) return 2;
  onBadClient.release();

  // Still usable after errors: the connection is fine.
  if (!echo.ping().wait()) return 3;

  const c = echo.counter(1);
  const early = c.counter();
  c.dispose();
  if (c.done || !early.ready()) return 4; // was: "answer was disposed before its capability was taken"
  const added = early.add(1);
  if (!added.wait() || added.results().getTotal() != 2) return 4;
  added.dispose();
  early.release();

  boot.release();
  const late = echo.ping();
  if (!late.done || late.error == null || late.error!.reason.indexOf("released") < 0) return 3;
  return 0;
}
