// The Kv client: finds the store offered under its BootContext's args ("kv" when it was
// given none), anywhere in the cluster, and uses it: puts, a pipelined `sub(…).put(…)`
// (two calls, one round trip), gets and keys. Exit 0 when every answer is what it should
// be; 1 when there is no store; 2 when an answer is wrong.
export * from "@ww/guest/assembly/exports";
import { Session, HostClient } from "@ww/guest/assembly/index";
import { KvClient } from "../gen/kv";

/** The name to use: the spawner's args (`ww spawn --args NAME`), else "kv". */
function nameOf(host: HostClient): string {
  const args = host.args();
  return args.length > 0 ? String.UTF8.decode(args.buffer) : "kv";
}

function text(b: Uint8Array): string { return String.UTF8.decode(b.buffer); }
function bytes(s: string): Uint8Array { return Uint8Array.wrap(String.UTF8.encode(s)); }

export function ww_main(): i32 {
  const rpc = new Session();
  const host = new HostClient(rpc.bootstrap());
  const name = nameOf(host);
  const reg = host.registry();
  const registry = reg.registry();                     // pipelined on the Host's answer
  const found = registry.find(name, 1, 10000);
  if (!found.wait() || found.results().getProviders().length == 0) {
    console.error("no store named " + name + (found.error != null ? ": " + found.error!.reason : ""));
    return 1;
  }
  const provider = found.results().getProviders().get(0);
  const kv = new KvClient(provider.getServiceCap());   // an untyped Capability, typed by its use
  const from = provider.getProvider();
  console.log("found " + name + " at " + from.getHost() + "/" + from.getPid().toString());

  const put = kv.put("greeting", bytes("hello"));
  const users = kv.sub("users/").kv();                 // pipelined: no wait for the answer
  const ada = users.put("ada", bytes("lovelace"));     // sent before sub's answer arrives
  if (!put.wait() || !ada.wait()) { console.error("put failed: " + (put.error != null ? put.error!.reason : ada.error!.reason)); return 2; }
  console.log("put greeting, users/ada: versions " + put.results().getVersion().toString() + ", " + ada.results().getVersion().toString());

  const got = kv.get("users/ada");
  const missing = users.get("grace");
  const keys = kv.keys();
  if (!got.wait() || !missing.wait() || !keys.wait()) { console.error("get failed"); return 2; }
  const value = text(got.results().getValue());
  console.log("users/ada = " + value);
  if (value != "lovelace" || missing.results().getFound()) return 2;
  const names = keys.results().getKeys().toArray();
  console.log("keys: " + names.join(", "));
  if (names.join(",") != "greeting,users/ada") return 2;
  users.release();
  kv.release();
  found.dispose();
  registry.release();
  reg.dispose();
  return 0;
}
