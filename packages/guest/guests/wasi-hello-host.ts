// WASI guest for the demo: bootstraps its Host and uses it — who am I running on, which
// hosts are up, write and read back an anchor, publish on a topic — printing each step.
// Calls on capabilities that earlier calls return go out before those answers arrive
// (pipelining): `host.root().walk(…).set(…)` is three calls in one round trip.
export * from "../assembly/exports";
import { Session, HostClient, ViewClient, AnchorClient, Answer } from "../assembly/index";

function ok(a: Answer, what: string): bool {
  if (a.wait()) return true;
  console.log(what + " failed: " + (a.error != null ? a.error!.reason : "no answer"));
  return false;
}

export function ww_main(): i32 {
  const rpc = new Session();
  const host = new HostClient(rpc.bootstrap());

  const info = host.info();
  if (!ok(info, "host.info")) return 1;
  const me = HostClient.infoOf(info);
  console.log("hello from a guest on host " + me.id + " (ww " + me.version + ")");
  info.dispose();

  const view = host.view();
  const hosts = view.list(16);
  if (!ok(hosts, "view.list")) return 1;
  const all = ViewClient.hostsOf(hosts);
  console.log("the cluster has " + all.length.toString() + " host(s)");
  hosts.dispose();
  view.release();

  const root = host.root();
  const greeting = root.walk("demo/greeting");
  const set = greeting.set(Uint8Array.wrap(String.UTF8.encode("hello, anchors")));
  if (!ok(set, "anchor.set")) return 1;
  console.log("wrote demo/greeting (version " + AnchorClient.versionOfSet(set).toString() + ")");
  set.dispose();
  const got = greeting.get();
  if (!ok(got, "anchor.get")) return 1;
  const data = AnchorClient.dataOf(got);
  console.log("read it back: \"" + (data != null ? String.UTF8.decode(data.buffer) : "<none>") + "\"");
  got.dispose();
  greeting.release();
  root.release();

  const pubsub = host.pubSub();
  const topic = pubsub.join("demo");
  const pub = topic.publish(Uint8Array.wrap(String.UTF8.encode("hi from " + me.id)));
  if (!ok(pub, "topic.publish")) return 1;
  console.log("published on topic demo");
  pub.dispose();
  topic.release();
  pubsub.release();
  return 0;
}
