// WASI guest that is called back by its host: it subscribes to topic `news` with a
// Subscriber it serves and watches an anchor subtree with a Watcher it serves (the path
// its BootContext args name, else `<its host id>/watched` under its root),
// prints what arrives, and ends (exit 0) when a message "stop" is published. Needs the
// pubSub and root rights. Output lines: "listening", "message <seq> from <host>/<pid>:
// <text>", "changed <path> <set|cleared> v<version>: <value>", "done: <reason>".
export * from "../assembly/exports";
import {
  Session, IncomingCall, HostClient, SubscriberServer, SubscriberClient, WatcherServer, WatcherClient, ChangeKind,
} from "../assembly/index";
import { Subscriber_deliver$Params, Subscriber_deliver$Results, Subscriber_done$Params, Subscriber_done$Results } from "../assembly/gen/pubsub";
import { Watcher_changed$Params, Watcher_changed$Results, Watcher_done$Params, Watcher_done$Results } from "../assembly/gen/anchor";

let rpc: Session | null = null;

class Printer extends SubscriberServer {
  deliver(params: Subscriber_deliver$Params.Reader, results: Subscriber_deliver$Results.Builder, call: IncomingCall): void {
    const list = params.getMessages();
    for (let i: u32 = 0; i < list.length; i++) {
      const m = list.get(i);
      const text = String.UTF8.decode(m.getData().buffer);
      const from = m.getPublisher();
      console.log("message " + m.getSeq().toString() + " from " + from.getHost() + "/" + from.getPid().toString() + ": " + text);
      if (text == "stop") changetype<Session>(rpc).stop();
    }
  }
  done(params: Subscriber_done$Params.Reader, results: Subscriber_done$Results.Builder, call: IncomingCall): void {
    console.log("done: " + params.getReason());
  }
}

class ChangePrinter extends WatcherServer {
  changed(params: Watcher_changed$Params.Reader, results: Watcher_changed$Results.Builder, call: IncomingCall): void {
    const list = params.getChanges();
    for (let i: u32 = 0; i < list.length; i++) {
      const c = list.get(i);
      const kind = c.getKind() == ChangeKind.SET ? "set" : "cleared";
      console.log("changed " + c.getPath() + " " + kind + " v" + c.getVersion().toString() + ": " + String.UTF8.decode(c.getValue().buffer));
    }
  }
  done(params: Watcher_done$Params.Reader, results: Watcher_done$Results.Builder, call: IncomingCall): void {
    console.log("done: " + params.getReason());
  }
}

/** The args blob as a path, else this host's own `watched`. */
function watchPath(host: HostClient): string {
  const args = host.args();
  if (args.length > 0) return String.UTF8.decode(args.buffer);
  const hi = host.info();
  const path = hi.wait() ? hi.results().getInfo().getId() + "/watched" : "watched";
  hi.dispose();
  return path;
}

export function ww_main(): i32 {
  const s = new Session();
  rpc = s;
  const host = new HostClient(s.bootstrap());
  const subscribe = host.pubSub().pubSub().join("news").topic().subscribeRequest();
  subscribe.params.setHandler(new SubscriberClient(s.local(new Printer())));
  const sub = subscribe.send(); // holds the Subscription: it unsubscribes when disposed
  const watch = host.root().root().walk(watchPath(host)).anchor().watch(new WatcherClient(s.local(new ChangePrinter())), true, true);
  if (!sub.wait()) { console.log("subscribe failed: " + sub.error!.reason); return 1; }
  if (!watch.wait()) { console.log("watch failed: " + watch.error!.reason); return 1; }
  console.log("listening");
  s.serve();
  sub.dispose();
  watch.dispose();
  return 0;
}
