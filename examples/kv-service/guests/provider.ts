// The Kv provider: a key-value store this guest serves, offered in its cluster's registry.
// Its name is the BootContext's args ("kv" when it was given none). It serves until it is
// killed; each put prints one line, so its host's log shows the traffic.
export * from "@ww/guest/assembly/exports";
import { Session, IncomingCall, HostClient } from "@ww/guest/assembly/index";
import {
  KvServer, Kv_get$Params, Kv_get$Results, Kv_put$Params, Kv_put$Results, Kv_keys$Params, Kv_keys$Results,
  Kv_sub$Params, Kv_sub$Results,
} from "../gen/kv";

// Made at instantiation (nothing here waits): the store's servers hand out views through it.
const rpc = new Session();
const data = new Map<string, Uint8Array>();
let version: u64 = 0;

/** The store, or the view of it under `prefix` (what `sub` hands out). */
class Store extends KvServer {
  constructor(public prefix: string) { super(); }

  get(p: Kv_get$Params.Reader, r: Kv_get$Results.Builder, call: IncomingCall): void {
    const key = this.prefix + p.getKey();
    if (!data.has(key)) return; // found = false, value null
    r.setFound(true);
    r.setValue(data.get(key));
  }

  put(p: Kv_put$Params.Reader, r: Kv_put$Results.Builder, call: IncomingCall): void {
    const key = this.prefix + p.getKey();
    if (key.length == 0) { call.fail("ERR_INVALID_ARGUMENT: an empty key"); return; }
    data.set(key, p.getValue());
    version++;
    r.setVersion(version);
    console.log("stored " + key + " (version " + version.toString() + ")");
  }

  keys(p: Kv_keys$Params.Reader, r: Kv_keys$Results.Builder, call: IncomingCall): void {
    const all = data.keys();
    const mine = new Array<string>();
    for (let i = 0; i < all.length; i++) if (all[i].startsWith(this.prefix)) mine.push(all[i].slice(this.prefix.length));
    mine.sort();
    const out = r.initKeys(<u32>mine.length);
    for (let i = 0; i < mine.length; i++) out.set(<u32>i, mine[i]);
  }

  sub(p: Kv_sub$Params.Reader, r: Kv_sub$Results.Builder, call: IncomingCall): void {
    r.setKvCap(rpc.local(new Store(this.prefix + p.getPrefix())));
  }
}

/** The name to use: the spawner's args (`ww spawn --args NAME`), else "kv". */
function nameOf(host: HostClient): string {
  const args = host.args();
  return args.length > 0 ? String.UTF8.decode(args.buffer) : "kv";
}

export function ww_main(): i32 {
  const host = new HostClient(rpc.bootstrap());
  const name = nameOf(host);
  // A lease of an hour (the longest): parked in serve(), this guest cannot renew it.
  const provide = host.registry().registry().provideRequest();
  provide.params.setName(name);
  provide.params.setServiceCap(rpc.local(new Store("")));
  provide.params.initOptions().setTtlMs(3600000);
  const provision = provide.send(); // holds the Provision: disposing it withdraws the offer
  if (!provision.wait()) {
    console.error("provide failed: " + provision.error!.reason);
    return 1;
  }
  console.log("providing kv as " + name);
  rpc.serve();
  return 0;
}
