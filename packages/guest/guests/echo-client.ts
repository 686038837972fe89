// Bootstraps Echo, pings it, echoes a payload, gets a Counter and pipelines `add` on it
// before the `counter` answer arrives, then releases the Counter.
// Exit: ww_main returns 0 on success; a failed check aborts with its message.
export * from "../assembly/exports";
import { Session, EchoClient, CounterClient, Answer } from "../assembly/index";

const PINGS = 3;

function check(ok: bool, what: string): void {
  if (!ok) abort(what);
}

function expectOk(a: Answer, what: string): void {
  if (!a.wait()) abort(what + ": " + (a.error != null ? a.error!.reason : "no answer"));
}

export function ww_main(): i32 {
  const rpc = new Session();
  const echo = new EchoClient(rpc.bootstrap());

  for (let i = 0; i < PINGS; i++) expectOk(echo.ping(), "ping");

  const payload = new Uint8Array(300);
  for (let i = 0; i < payload.length; i++) payload[i] = <u8>(i * 7 + 1);
  const e = echo.echo(payload);
  expectOk(e, "echo");
  const back = EchoClient.payloadOf(e);
  check(back.length == payload.length, "echo: length differs");
  for (let i = 0; i < payload.length; i++) check(back[i] == payload[i], "echo: byte " + i.toString() + " differs");
  e.dispose();

  // Pipelined: both adds go out before the counter answer is read.
  const c = echo.counter(40);
  const counter = EchoClient.counterOf(c);
  const a1 = counter.add(1);
  const a2 = counter.add(1);
  check(!c.done, "counter answered before the pipelined calls were sent");
  expectOk(a1, "add 1");
  expectOk(a2, "add 2");
  check(CounterClient.totalOf(a1) == 41, "first add: expected 41, got " + CounterClient.totalOf(a1).toString());
  check(CounterClient.totalOf(a2) == 42, "second add: expected 42");
  expectOk(c, "counter");
  // After the answer, the same handle calls the imported capability directly.
  const a3 = counter.add(8);
  expectOk(a3, "add 3");
  check(CounterClient.totalOf(a3) == 50, "third add: expected 50");
  counter.release();
  c.dispose();
  check(rpc.importCount == 1, "only Echo should remain imported, have " + rpc.importCount.toString());
  // A last round trip so the host has processed the Release before we exit.
  expectOk(echo.ping(), "final ping");
  return 0;
}
