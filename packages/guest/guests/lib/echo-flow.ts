// The echo-client flow, shared by the plain and the WASI guest: bootstrap Echo, ping it,
// echo a payload, get a Counter and pipeline `add` on it before the `counter` answer
// arrives, then release the Counter. A failed check aborts with its message.
import { Session, EchoClient, TypedAnswer } from "../../assembly/index";

export const PINGS = 3;

function check(ok: bool, what: string): void {
  if (!ok) abort(what);
}

function expectOk(a: TypedAnswer, what: string): void {
  if (!a.wait()) abort(what + ": " + (a.error != null ? a.error!.reason : "no answer"));
}

/** Runs the flow; `log` reports progress (a no-op for plain guests). Returns 0. */
export function runEchoFlow(log: (line: string) => void): i32 {
  const rpc = new Session();
  const echo = new EchoClient(rpc.bootstrap());

  for (let i = 0; i < PINGS; i++) expectOk(echo.ping(), "ping");
  log("ping x" + PINGS.toString() + ": ok");

  const payload = new Uint8Array(300);
  for (let i = 0; i < payload.length; i++) payload[i] = <u8>(i * 7 + 1);
  const e = echo.echo(payload);
  expectOk(e, "echo");
  const back = e.results().getPayload();
  check(back.length == payload.length, "echo: length differs");
  for (let i = 0; i < payload.length; i++) check(back[i] == payload[i], "echo: byte " + i.toString() + " differs");
  e.dispose();
  log("echo " + payload.length.toString() + " bytes: ok");

  // Pipelined: both adds go out before the counter answer is read.
  const c = echo.counter(40);
  const counter = c.counter(); // a promise of its Counter: pipelined
  const a1 = counter.add(1);
  const a2 = counter.add(1);
  check(!c.done, "counter answered before the pipelined calls were sent");
  expectOk(a1, "add 1");
  expectOk(a2, "add 2");
  check(a1.results().getTotal() == 41, "first add: expected 41, got " + a1.results().getTotal().toString());
  check(a2.results().getTotal() == 42, "second add: expected 42");
  expectOk(c, "counter");
  // After the answer, the same handle calls the imported capability directly.
  const a3 = counter.add(8);
  expectOk(a3, "add 3");
  check(a3.results().getTotal() == 50, "third add: expected 50");
  log("counter(40), pipelined add(1) x2, add(8): total 50: ok");
  counter.release();
  c.dispose();
  check(rpc.importCount == 1, "only Echo should remain imported, have " + rpc.importCount.toString());
  // A last round trip: the host has handled the Release before it answers this.
  expectOk(echo.ping(), "final ping");
  log("counter released; done");
  return 0;
}
