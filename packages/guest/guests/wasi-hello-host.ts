// WASI guest for the demo: bootstraps its Host and uses it — who am I running on, which
// hosts are up, write and read back an anchor, publish on a topic — printing each step.
// Calls on capabilities that earlier calls return go out before those answers arrive
// (pipelining): `host.root().walk(…).set(…)` is three calls in one round trip.
export * from "../assembly/exports";
import { Session, HostClient, TypedAnswer } from "../assembly/index";

function ok(a: TypedAnswer, what: string): bool {
  if (a.wait()) return true;
  console.log(what + " failed: " + (a.error != null ? a.error!.reason : "no answer"));
  return false;
}

function utf8(s: string): Uint8Array { return Uint8Array.wrap(String.UTF8.encode(s)); }

export function ww_main(): i32 {
  const rpc = new Session();
  const host = new HostClient(rpc.bootstrap());

  const info = host.info();
  if (!ok(info, "host.info")) return 1;
  const me = info.results().getInfo();
  const id = me.getId();
  console.log("hello from a guest on host " + id + " (ww " + me.getVersion() + ")");
  info.dispose();

  const viewed = host.view();
  const view = viewed.view(); // a client pipelined on the answer: calls go out at once
  const list = view.listRequest(); // the default selector: every host
  list.params.setLimit(16);
  const hosts = list.send();
  if (!ok(hosts, "view.list")) return 1;
  console.log("the cluster has " + hosts.results().getHosts().length.toString() + " host(s)");
  hosts.dispose();
  view.release();
  viewed.dispose();

  const rooted = host.root();
  const root = rooted.root();
  const walked = root.walk("demo/greeting");
  const greeting = walked.anchor(); // three calls in one round trip: root, walk, set
  const set = greeting.setRequest();
  set.params.initValue().setData(utf8("hello, anchors"));
  const written = set.send();
  if (!ok(written, "anchor.set")) return 1;
  console.log("wrote demo/greeting (version " + written.results().getVersion().toString() + ")");
  written.dispose();
  const got = greeting.get();
  if (!ok(got, "anchor.get")) return 1;
  const value = got.results().getValue();
  console.log("read it back: \"" + (value.isData() ? String.UTF8.decode(value.getData().buffer) : "<none>") + "\"");
  got.dispose();
  greeting.release();
  walked.dispose();
  root.release();
  rooted.dispose();

  const joined = host.pubSub();
  const pubsub = joined.pubSub();
  const join = pubsub.join("demo");
  const topic = join.topic();
  const pub = topic.publish(utf8("hi from " + id));
  if (!ok(pub, "topic.publish")) return 1;
  console.log("published on topic demo");
  pub.dispose();
  topic.release();
  join.dispose();
  pubsub.release();
  joined.dispose();
  return 0;
}
