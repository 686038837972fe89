// WASI guest that hands a capability to its child. As a parent (no cap named `echo` in its
// BootContext) it spawns a copy of itself (its own module, by cid) and passes it, as
// `echo`, either an Echo it serves itself or — when its args say `find:<name>` — the
// capability the registry has under that name (served by a third process, maybe on
// another host). Args `on:<host id>` start the child on that host (ExecOptions.where). It serves while it waits for the child, then exits with the child's
// status. As the child it calls `echo.echo` and checks the bytes come back.
// Lines: "parent: passing <what>", "parent: served N call(s)", "child: echoed <text>".
export * from "../assembly/exports";
import {
  Session, IncomingCall, HostClient, BootContextClient, EchoClient, EchoServer, ProcessClient,
} from "../assembly/index";
import {
  Echo_ping$Params, Echo_ping$Results, Echo_echo$Params, Echo_echo$Results, Echo_counter$Params, Echo_counter$Results,
} from "../assembly/gen/testing";
import { Exception } from "../assembly/rpc/schema";

let served: i32 = 0;

class Echo extends EchoServer {
  echo(params: Echo_echo$Params.Reader, results: Echo_echo$Results.Builder, call: IncomingCall): void {
    served++;
    results.setPayload(params.getPayload());
  }
  // Only echo is served: the others answer `unimplemented`, as a bare Server's would.
  ping(params: Echo_ping$Params.Reader, results: Echo_ping$Results.Builder, call: IncomingCall): void {
    call.fail("only echo is served here", Exception.Type.unimplemented);
  }
  counter(params: Echo_counter$Params.Reader, results: Echo_counter$Results.Builder, call: IncomingCall): void {
    call.fail("only echo is served here", Exception.Type.unimplemented);
  }
}

function child(ctx: BootContextClient): i32 {
  const echo = ctx.capNamed<EchoClient>("echo");
  const text = "hello from the child";
  const a = echo.echo(Uint8Array.wrap(String.UTF8.encode(text)));
  if (!a.wait()) { console.log("child: echo failed: " + a.error!.reason); return 3; }
  const back = String.UTF8.decode(a.results().getPayload().buffer);
  console.log("child: echoed " + back);
  return back == text ? 0 : 4;
}

function parent(rpc: Session, host: HostClient, cid: Uint8Array, args: string): i32 {
  let echo: EchoClient;
  let where = "";
  if (args.startsWith("on:")) { where = args.slice(3); args = ""; }
  if (args.startsWith("find:")) {
    const name = args.slice(5);
    const found = host.registry().registry().find(name, 1, 10000);
    if (!found.wait() || found.results().getProviders().length == 0) {
      console.log("parent: nothing named " + name + (found.error != null ? ": " + found.error!.reason : ""));
      return 2;
    }
    const provider = found.results().getProviders().get(0);
    echo = new EchoClient(provider.getServiceCap());
    const p = provider.getProvider();
    console.log("parent: passing " + name + " of " + p.getHost() + "/" + p.getPid().toString());
  } else {
    echo = new EchoClient(rpc.local(new Echo()));
    console.log("parent: passing its own echo");
  }
  const r = host.executor().executor().execRequest();
  r.params.initBytecode().setCid(cid);
  const o = r.params.initOptions();
  o.setName("delegate-child");
  if (where.length > 0) o.setWhere(where);
  const caps = o.initCaps(1);
  caps.get(0).setName("echo");
  caps.get(0).setCapCap(echo.cap);
  const proc: ProcessClient = r.send().process();
  // Waiting for the child serves the child's calls on our Echo meanwhile.
  const w = proc.wait();
  if (!w.wait()) { console.log("parent: wait failed: " + w.error!.reason); return 5; }
  const st = w.results().getStatus();
  const code = st.isExited() ? <i32>st.getExited() : 255;
  console.log("parent: served " + served.toString() + " call(s); the child exited " + code.toString());
  return code;
}

export function ww_main(): i32 {
  const rpc = new Session();
  const host = new HostClient(rpc.bootstrap());
  const ctx = host.context();
  const names = ctx.caps();
  if (!names.wait()) { console.log("no BootContext: " + names.error!.reason); return 1; }
  const listed = names.results().getCaps();
  for (let i: u32 = 0; i < listed.length; i++) if (listed.get(i).getName() == "echo") return child(ctx);
  const info = ctx.info();
  if (!info.wait()) { console.log("info failed: " + info.error!.reason); return 1; }
  const boot = info.results().getInfo();
  const args = boot.getArgs();
  return parent(rpc, host, boot.getCid(), args.length > 0 ? String.UTF8.decode(args.buffer) : "");
}
