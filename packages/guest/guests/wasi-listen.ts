// WASI guest that is called back by its host: it subscribes to topic `news` with a
// Subscriber it serves and watches an anchor subtree with a Watcher it serves (the path
// its BootContext args name, else `<its host id>/watched` under its root),
// prints what arrives, and ends (exit 0) when a message "stop" is published. Needs the
// pubSub and root rights. Output lines: "listening", "message <seq> from <host>/<pid>:
// <text>", "changed <path> <set|cleared> v<version>: <value>", "done: <reason>".
export * from "../assembly/exports";
import { Session, Server, IncomingCall, HostClient } from "../assembly/index";
import { Subscriber, Subscriber_deliver$Params, Subscriber_done$Params, Message } from "@ww/schema/assembly/pubsub";
import { Watcher, Watcher_changed$Params, Watcher_done$Params, Change, ChangeKind } from "@ww/schema/assembly/anchor";
import { ProcessRef } from "@ww/schema/assembly/common";

let rpc: Session | null = null;

class Printer extends Server {
  dispatch(interfaceId: u64, methodId: u16, call: IncomingCall): bool {
    if (interfaceId == Subscriber.ID && methodId == Subscriber.M_deliver) {
      const list = call.params.list(Subscriber_deliver$Params.P_messages);
      for (let i: u32 = 0; i < list.length; i++) {
        const m = list.struct(i);
        const text = String.UTF8.decode(m.data(Message.P_data).buffer);
        const from = m.struct(Message.P_publisher);
        console.log("message " + m.u64(Message.F_seq).toString() + " from " + from.text(ProcessRef.P_host) + "/" + from.u64(ProcessRef.F_pid).toString() + ": " + text);
        if (text == "stop") changetype<Session>(rpc).stop();
      }
      return true;
    }
    if (interfaceId == Watcher.ID && methodId == Watcher.M_changed) {
      const list = call.params.list(Watcher_changed$Params.P_changes);
      for (let i: u32 = 0; i < list.length; i++) {
        const c = list.struct(i);
        const kind = c.u16(Change.F_kind) == ChangeKind.SET ? "set" : "cleared";
        console.log("changed " + c.text(Change.P_path) + " " + kind + " v" + c.u64(Change.F_version).toString() + ": " + String.UTF8.decode(c.data(Change.P_value).buffer));
      }
      return true;
    }
    if ((interfaceId == Subscriber.ID && methodId == Subscriber.M_done) || (interfaceId == Watcher.ID && methodId == Watcher.M_done)) {
      console.log("done: " + call.params.text(0));
      return true;
    }
    return false;
  }
}

/** The args blob as a path, else this host's own `watched`. */
function watchPath(host: HostClient): string {
  const args = host.args();
  if (args.length > 0) return String.UTF8.decode(args.buffer);
  const hi = host.info();
  const path = hi.wait() ? HostClient.infoOf(hi).id + "/watched" : "watched";
  hi.dispose();
  return path;
}

export function ww_main(): i32 {
  const s = new Session();
  rpc = s;
  const host = new HostClient(s.bootstrap());
  const printer = s.local(new Printer());
  const topic = host.pubSub().join("news");
  const sub = topic.subscribe(printer);
  const watch = host.root().walk(watchPath(host)).watch(printer, true, true);
  if (!sub.ready()) { console.log("subscribe failed: " + sub.from.error!.reason); return 1; }
  if (!watch.ready()) { console.log("watch failed: " + watch.from.error!.reason); return 1; }
  console.log("listening");
  s.serve();
  sub.release();
  watch.release();
  return 0;
}
