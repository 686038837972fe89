// A guest that serves the generated KvServer (test/kv-server.test.ts calls it from a
// capnp-ts peer): a store shared by views, each view a local capability of its own.

export * from "./sdk-exports";
import { Session, IncomingCall } from "./sdk";
import {
  KvServer, Kv_get$Params, Kv_get$Results, Kv_put$Params, Kv_put$Results, Kv_keys$Params, Kv_keys$Results,
  Kv_sub$Params, Kv_sub$Results,
} from "./kv";

let rpc: Session | null = null;
const data = new Map<string, Uint8Array>();
let version: u64 = 0;
let viewsReleased: i32 = 0;

class Store extends KvServer {
  constructor(public prefix: string) { super(); }

  get(params: Kv_get$Params.Reader, results: Kv_get$Results.Builder, call: IncomingCall): void {
    const key = this.prefix + params.getKey();
    if (!data.has(key)) return; // found = false, value null: the results' defaults
    results.setFound(true);
    results.setValue(data.get(key));
  }

  put(params: Kv_put$Params.Reader, results: Kv_put$Results.Builder, call: IncomingCall): void {
    data.set(this.prefix + params.getKey(), params.getValue());
    results.setVersion(++version);
  }

  keys(params: Kv_keys$Params.Reader, results: Kv_keys$Results.Builder, call: IncomingCall): void {
    const all = data.keys();
    const mine = new Array<string>();
    for (let i = 0; i < all.length; i++) if (all[i].startsWith(this.prefix)) mine.push(all[i].slice(this.prefix.length));
    mine.sort();
    const out = results.initKeys(mine.length);
    for (let i = 0; i < mine.length; i++) out.set(i, mine[i]);
  }

  sub(params: Kv_sub$Params.Reader, results: Kv_sub$Results.Builder, call: IncomingCall): void {
    const prefix = params.getPrefix();
    if (prefix.length == 0) { call.fail("ERR_EMPTY_PREFIX: a view needs a prefix"); return; }
    results.setKvCap(changetype<Session>(rpc).local(new Store(this.prefix + prefix)));
  }

  released(): void { if (this.prefix.length > 0) viewsReleased++; }
}

export function ww_main(): i32 {
  const s = new Session();
  rpc = s;
  s.offer(new Store(""));
  s.serve();
  return 0;
}

/** Views (sub results) whose last reference the peer released. */
export function ww_test_views_released(): i32 { return viewsReleased; }
