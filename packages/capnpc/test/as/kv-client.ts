// A guest that uses the generated Kv client (test/kv-client.test.ts runs it against a
// capnp-ts Kv server through @ww/transport). ww_main returns 0, or the step that failed.

export * from "./sdk-exports";
import { Session } from "./sdk";
import { KvClient } from "./kv";

function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s, false));
}

export function ww_main(): i32 {
  const rpc = new Session();
  const kv = new KvClient(rpc.bootstrap());

  // Convenience form: params as arguments.
  const put = kv.put("a", utf8("1"));
  if (!put.wait()) return 10;
  if (put.results().getVersion() != 1) return 11;

  // Pipelined to depth two: both subs and the put go out before any answer comes back.
  const s1 = kv.sub("x/");
  const s1kv = s1.kv();
  const s2 = s1kv.sub("y/");
  const deep = s2.kv();
  const put2 = deep.put("k", utf8("v"));
  if (!put2.wait()) return 20;
  if (put2.results().getVersion() != 2) return 21;

  // Request form: the typed params builder.
  const req = kv.getRequest();
  req.params.setKey("x/y/k");
  const got = req.send();
  if (!got.wait()) return 30;
  const r = got.results();
  if (!r.getFound() || String.UTF8.decode(r.getValue().buffer) != "v") return 31;

  const miss = kv.get("nope");
  if (!miss.wait()) return 40;
  if (miss.results().getFound() || miss.results().hasValue()) return 41;

  const keys = kv.keys();
  if (!keys.wait()) return 50;
  const list = keys.results().getKeys();
  if (list.length != 2 || list.get(0) != "a" || list.get(1) != "x/y/k") return 51;

  // A capability read from results (not pipelined): works like the pipelined one.
  if (!s1.wait()) return 60;
  const view = s1.results().getKv();
  const viaView = view.get("y/k");
  if (!viaView.wait() || !viaView.results().getFound()) return 61;

  // The server's exception arrives on the typed answer.
  const bad = kv.sub("");
  const onBad = bad.kv().keys();
  if (onBad.wait() || bad.ok) return 70;
  if (onBad.error == null || bad.error!.code != "ERR_EMPTY_PREFIX") return 71;

  view.release(); deep.release(); s1kv.release(); kv.release();
  put.dispose(); put2.dispose(); got.dispose(); miss.dispose(); keys.dispose(); viaView.dispose();
  s1.dispose(); s2.dispose(); bad.dispose(); onBad.dispose();
  return 0;
}
