// WASI test guest: every Dialer and Conn method the SDK offers, against the dialer its
// Host hands out (which must allow at least two addresses; the first an echo server that
// closes its side after the client's FIN). One line on stdout per step, for the test to
// compare: the allow-lists, attenuation (and that it never widens), a round trip with
// addrs/shutdown/eof/close, and revocation.
export * from "../assembly/exports";
import { Session, HostClient, DialerClient, ConnClient, ShutdownHow, Answer } from "../assembly/index";

function outcome(a: Answer): string {
  return a.wait() ? "ok" : a.error != null ? a.error!.reason : "no answer";
}

function listOf(a: Answer): string {
  return a.wait() ? "[" + DialerClient.allowedOf(a).join(",") + "]" : outcome(a);
}

export function ww_main(): i32 {
  const rpc = new Session();
  const host = new HostClient(rpc.bootstrap());
  const dialer = host.dialer();
  const all = dialer.allowed();
  console.log("allowed " + listOf(all));
  if (!all.ok) return 1;
  const addrs = DialerClient.allowedOf(all);
  all.dispose();
  if (addrs.length < 2) return 2;
  const first = addrs[0], second = addrs[1];

  const narrowed = dialer.restrict([first]);
  console.log("narrowed " + listOf(narrowed.dialer.allowed()));
  const wider = narrowed.dialer.restrict([first, second]);
  console.log("widen " + outcome(wider.dialer.from));
  wider.release();
  console.log("narrowed dial " + second + " " + outcome(narrowed.dialer.dial(second).from));

  const conn = narrowed.dialer.dial(first);
  const ends = conn.addrs();
  if (!ends.wait()) { console.log("addrs " + outcome(ends)); return 3; }
  console.log("remote " + ConnClient.remoteOf(ends) + " local is 127.0.0.1: " + (ConnClient.localOf(ends).startsWith("127.0.0.1:") ? "yes" : "no"));
  ends.dispose();
  console.log("write " + outcome(conn.write(Uint8Array.wrap(String.UTF8.encode("ping from the guest")))));
  console.log("shutdown " + outcome(conn.shutdown(ShutdownHow.WRITE)));
  let echoed = "";
  for (;;) {
    const r = conn.read(7); // small reads: several answers for one echo
    if (!r.wait()) { console.log("read " + outcome(r)); return 4; }
    echoed += String.UTF8.decode(ConnClient.dataOf(r).buffer);
    const eof = ConnClient.eofOf(r);
    r.dispose();
    if (eof) break;
  }
  console.log("echoed " + echoed);
  console.log("close " + outcome(conn.close()));
  console.log("write after close " + outcome(conn.write(Uint8Array.wrap(String.UTF8.encode("late")))));
  conn.release();

  console.log("revoke " + outcome(narrowed.revoker.revoke("test done")));
  console.log("dial after revoke " + outcome(narrowed.dialer.dial(first).from));
  narrowed.release();
  dialer.release();
  return 0;
}
