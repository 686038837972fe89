// WASI guest: works with what its spawner handed it by name (ExecOptions.caps), read from
// its BootContext — no argv, no environment, and no rights of its own are needed:
//   "store" (an Anchor, required): writes "written by pid N" under store/greeting and
//     reads it back — context, cap, walk and set go out in one round trip (pipelined);
//   "news" (a Topic, if handed): publishes the same line there;
//   "secrets", which no spawner gives it: reports the ERR_NOT_FOUND it gets.
// Exit: 0 done; 1 no BootContext; 2 "store" was not handed (ERR_NOT_FOUND); 3 the write or
// read failed; 4 the publish failed; 5 "secrets" did not fail ERR_NOT_FOUND.
export * from "../assembly/exports";
import { Session, HostClient, AnchorClient, TopicClient, TypedAnswer } from "../assembly/index";

function failure(a: TypedAnswer): string {
  return a.error != null ? a.error!.reason : "no answer";
}

function utf8(s: string): Uint8Array { return Uint8Array.wrap(String.UTF8.encode(s)); }

export function ww_main(): i32 {
  const rpc = new Session();
  const host = new HostClient(rpc.bootstrap());
  const ctx = host.context();

  const info = ctx.info(); // pipelined on the context
  if (!info.wait()) { console.log("context: " + failure(info)); return 1; }
  const boot = info.results().getInfo();
  const self = boot.getSelf(), parent = boot.getParent();
  const caps = boot.getCaps();
  const names = new Array<string>();
  for (let i: u32 = 0; i < caps.length; i++) names.push(caps.get(i).getName());
  const pid = self.getPid();
  const handed = names.length > 0 ? names.join(", ") : "nothing";
  console.log("pid " + pid.toString() + " on " + self.getHost() + ", spawned by pid " + parent.getPid().toString() + "; handed: " + handed);
  info.dispose(); // its answer held a reference to every cap listed: let them go

  const store = ctx.capNamed<AnchorClient>("store");
  const walked = store.walk("greeting");
  const greeting = walked.anchor(); // pipelined on the walk, which is pipelined on the cap
  walked.dispose(); // the client keeps its own reference
  const line = "written by pid " + pid.toString();
  const r = greeting.setRequest();
  r.params.initValue().setData(utf8(line));
  const set = r.send();
  if (!set.wait()) {
    // A failed cap fails every call pipelined on it, with its code.
    const code = set.error != null ? set.error!.code : "";
    console.log("store/greeting: " + failure(set) + " (" + code + ")");
    return code == "ERR_NOT_FOUND" ? 2 : 3;
  }
  console.log("wrote store/greeting = \"" + line + "\" (version " + set.results().getVersion().toString() + ")");
  set.dispose();
  const got = greeting.get();
  if (!got.wait()) { console.log("store/greeting: " + failure(got)); return 3; }
  const value = got.results().getValue();
  console.log("read back: \"" + (value.isData() ? String.UTF8.decode(value.getData().buffer) : "<none>") + "\"");
  got.dispose();
  greeting.release();
  store.release();

  if (names.includes("news")) {
    const news = ctx.capNamed<TopicClient>("news");
    const pub = news.publish(utf8(line));
    if (!pub.wait()) { console.log("news: " + failure(pub)); return 4; }
    console.log("published on news");
    pub.dispose();
    news.release();
  }

  const secrets = ctx.capNamed<AnchorClient>("secrets");
  const peek = secrets.get(); // pipelined on a cap that never comes
  const found = peek.wait();
  const code = found ? "found" : peek.error!.code;
  console.log("secrets: " + (found ? "handed after all" : failure(peek)) + " (" + code + ")");
  peek.dispose();
  secrets.release();
  ctx.release();
  return code == "ERR_NOT_FOUND" ? 0 : 5;
}
