// Plain benchmark guest: `n` calls on its bootstrap Echo, one at a time — `ping` (the null
// call), or `echo` of `payloadBytes` when that is set (bytes there and back). Set both with
// ww_bench_set before ww_main runs. Exit 0 when every call succeeded, 1 at the first failure.
export * from "../assembly/exports";
import { Session, EchoClient } from "../assembly/index";
import { Echo_echo$Results } from "../assembly/gen/testing";

let iterations: i32 = 1000;
let payloadBytes: i32 = 0;

export function ww_bench_set(n: i32, bytes: i32): void {
  iterations = n;
  payloadBytes = bytes;
}

export function ww_main(): i32 {
  const rpc = new Session();
  const echo = new EchoClient(rpc.bootstrap());
  const payload = new Uint8Array(payloadBytes);
  for (let i = 0; i < iterations; i++) {
    if (payloadBytes > 0) {
      const a = echo.echo(payload);
      if (!a.wait()) return 1;
      // Its length only: results().getPayload() would copy the bytes out.
      if (a.results().s.list(Echo_echo$Results.P_payload).length != <u32>payloadBytes) return 2;
      a.dispose();
    } else {
      const a = echo.ping();
      if (!a.wait()) return 1;
      a.dispose();
    }
  }
  return 0;
}
