// WASI guest: works with what its spawner handed it by name (ExecOptions.caps), read from
// its BootContext — no argv, no environment, and no rights of its own are needed:
//   "store" (an Anchor, required): writes "written by pid N" under store/greeting and
//     reads it back — context, cap, walk and set go out in one round trip (pipelined);
//   "news" (a Topic, if handed): publishes the same line there;
//   "secrets", which no spawner gives it: reports the ERR_NOT_FOUND it gets.
// Exit: 0 done; 1 no BootContext; 2 "store" was not handed (ERR_NOT_FOUND); 3 the write or
// read failed; 4 the publish failed; 5 "secrets" did not fail ERR_NOT_FOUND.
export * from "../assembly/exports";
import { Session, HostClient, AnchorClient, BootContextClient, Answer } from "../assembly/index";

function failure(a: Answer): string {
  return a.error != null ? a.error!.reason : "no answer";
}

function utf8(s: string): Uint8Array { return Uint8Array.wrap(String.UTF8.encode(s)); }

export function ww_main(): i32 {
  const rpc = new Session();
  const host = new HostClient(rpc.bootstrap());
  const ctx = host.context();

  const info = ctx.info(); // pipelined on the context
  if (!info.wait()) { console.log("context: " + failure(info)); return 1; }
  const boot = BootContextClient.infoOf(info);
  info.dispose(); // its answer held a reference to every cap listed: let them go
  const handed = boot.caps.length > 0 ? boot.caps.join(", ") : "nothing";
  console.log("pid " + boot.self.pid.toString() + " on " + boot.self.host + ", spawned by pid " + boot.parent.pid.toString() + "; handed: " + handed);

  const store = ctx.anchor("store");
  const greeting = store.walk("greeting");
  const line = "written by pid " + boot.self.pid.toString();
  const set = greeting.set(utf8(line));
  if (!set.wait()) {
    // A failed cap fails every call pipelined on it, with its code.
    const code = set.error != null ? set.error!.code : "";
    console.log("store/greeting: " + failure(set) + " (" + code + ")");
    return code == "ERR_NOT_FOUND" ? 2 : 3;
  }
  console.log("wrote store/greeting = \"" + line + "\" (version " + AnchorClient.versionOfSet(set).toString() + ")");
  set.dispose();
  const got = greeting.get();
  if (!got.wait()) { console.log("store/greeting: " + failure(got)); return 3; }
  const data = AnchorClient.dataOf(got);
  console.log("read back: \"" + (data != null ? String.UTF8.decode(data.buffer) : "<none>") + "\"");
  got.dispose();
  greeting.release();
  store.release();

  if (boot.caps.includes("news")) {
    const news = ctx.topic("news");
    const pub = news.publish(utf8(line));
    if (!pub.wait()) { console.log("news: " + failure(pub)); return 4; }
    console.log("published on news");
    pub.dispose();
    news.release();
  }

  const secrets = ctx.anchor("secrets");
  const peek = secrets.get(); // pipelined on a cap that never comes
  const found = peek.wait();
  const code = found ? "found" : peek.error!.code;
  console.log("secrets: " + (found ? "handed after all" : failure(peek)) + " (" + code + ")");
  peek.dispose();
  secrets.release();
  ctx.release();
  return code == "ERR_NOT_FOUND" ? 0 : 5;
}
