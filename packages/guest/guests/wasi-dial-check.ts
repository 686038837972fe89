// WASI test guest: every Dialer and Conn method the SDK offers, against the dialer its
// Host hands out (which must allow at least two addresses; the first an echo server that
// closes its side after the client's FIN). One line on stdout per step, for the test to
// compare: the allow-lists, attenuation (and that it never widens), a round trip with
// addrs/shutdown/eof/close, and revocation.
export * from "../assembly/exports";
import { Session, HostClient, DialerClient, ShutdownHow, TypedAnswer } from "../assembly/index";
import { Dialer_allowed$Answer, Dialer_restrict$Answer } from "../assembly/gen/net";

function outcome(a: TypedAnswer): string {
  return a.wait() ? "ok" : a.error != null ? a.error!.reason : "no answer";
}

function listOf(a: Dialer_allowed$Answer): string {
  return a.wait() ? "[" + a.results().getAddrs().toArray().join(",") + "]" : outcome(a);
}

function restrict(dialer: DialerClient, addrs: string[]): Dialer_restrict$Answer {
  const r = dialer.restrictRequest();
  const list = r.params.initAddrs(<u32>addrs.length);
  for (let i = 0; i < addrs.length; i++) list.set(<u32>i, addrs[i]);
  return r.send();
}

export function ww_main(): i32 {
  const rpc = new Session();
  const host = new HostClient(rpc.bootstrap());
  const granted = host.dialer();
  const dialer = granted.dialer();
  const all = dialer.allowed();
  console.log("allowed " + listOf(all));
  if (!all.ok) return 1;
  const addrs = all.results().getAddrs().toArray();
  all.dispose();
  if (addrs.length < 2) return 2;
  const first = addrs[0], second = addrs[1];

  const narrowing = restrict(dialer, [first]);
  const narrowed = narrowing.dialer(); // both pipelined on the restrict
  const revoker = narrowing.revoker();
  console.log("narrowed " + listOf(narrowed.allowed()));
  const wider = restrict(narrowed, [first, second]);
  console.log("widen " + outcome(wider));
  wider.dispose();
  console.log("narrowed dial " + second + " " + outcome(narrowed.dial(second, 0)));

  const dialed = narrowed.dial(first, 0);
  const conn = dialed.conn();
  const ends = conn.addrs();
  if (!ends.wait()) { console.log("addrs " + outcome(ends)); return 3; }
  const local = ends.results().getLocal();
  console.log("remote " + ends.results().getRemote() + " local is 127.0.0.1: " + (local.startsWith("127.0.0.1:") ? "yes" : "no"));
  ends.dispose();
  console.log("write " + outcome(conn.write(Uint8Array.wrap(String.UTF8.encode("ping from the guest")))));
  console.log("shutdown " + outcome(conn.shutdown(ShutdownHow.WRITE)));
  let echoed = "";
  for (;;) {
    const r = conn.read(7); // small reads: several answers for one echo
    if (!r.wait()) { console.log("read " + outcome(r)); return 4; }
    const got = r.results();
    echoed += String.UTF8.decode(got.getData().buffer);
    const eof = got.getEof();
    r.dispose();
    if (eof) break;
  }
  console.log("echoed " + echoed);
  console.log("close " + outcome(conn.close()));
  console.log("write after close " + outcome(conn.write(Uint8Array.wrap(String.UTF8.encode("late")))));
  conn.release();
  dialed.dispose();

  console.log("revoke " + outcome(revoker.revoke("test done")));
  console.log("dial after revoke " + outcome(narrowed.dial(first, 0)));
  narrowed.release();
  revoker.release();
  narrowing.dispose();
  dialer.release();
  granted.dispose();
  return 0;
}
