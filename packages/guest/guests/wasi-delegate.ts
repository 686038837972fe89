// WASI guest that hands a capability to its child. As a parent (no cap named `echo` in its
// BootContext) it spawns a copy of itself (its own module, by cid) and passes it, as
// `echo`, either an Echo it serves itself or — when its args say `find:<name>` — the
// capability the registry has under that name (served by a third process, maybe on
// another host). Args `on:<host id>` start the child on that host (ExecOptions.where). It serves while it waits for the child, then exits with the child's
// status. As the child it calls `echo.echo` and checks the bytes come back.
// Lines: "parent: passing <what>", "parent: served N call(s)", "child: echoed <text>".
export * from "../assembly/exports";
import {
  Session, Server, IncomingCall, Cap, HostClient, BootContextClient, EchoClient, RegistryClient,
} from "../assembly/index";
import { Echo, Echo_echo$Params, Echo_echo$Results } from "@ww/schema/assembly/testing";
import { Host, Host_executor$Params, Host_executor$Results } from "@ww/schema/assembly/host";
import {
  Executor, Executor_exec$Params, Executor_exec$Results, Bytecode, ExecOptions, BootInfo, BootContext_info$Results,
  Process, Process_wait$Params, Process_wait$Results, ExitStatus,
} from "@ww/schema/assembly/process";
import { NamedCap } from "@ww/schema/assembly/common";

let served: i32 = 0;

class EchoServer extends Server {
  dispatch(interfaceId: u64, methodId: u16, call: IncomingCall): bool {
    if (interfaceId != Echo.ID || methodId != Echo.M_echo) return false;
    served++;
    const bytes = call.params.data(Echo_echo$Params.P_payload);
    call.initResults(Echo_echo$Results.DATA_WORDS, Echo_echo$Results.POINTER_COUNT).setData(Echo_echo$Results.P_payload, bytes);
    return true;
  }
}

function child(ctx: BootContextClient): i32 {
  const echo = new EchoClient(ctx.capNamed("echo").cap);
  const text = "hello from the child";
  const a = echo.echo(Uint8Array.wrap(String.UTF8.encode(text)));
  if (!a.wait()) { console.log("child: echo failed: " + a.error!.reason); return 3; }
  const back = String.UTF8.decode(EchoClient.payloadOf(a).buffer);
  console.log("child: echoed " + back);
  return back == text ? 0 : 4;
}

function parent(rpc: Session, host: HostClient, cid: Uint8Array, args: string): i32 {
  let cap: Cap;
  let where = "";
  if (args.startsWith("on:")) { where = args.slice(3); args = ""; }
  if (args.startsWith("find:")) {
    const name = args.slice(5);
    const found = host.registry().find(name, 1, 10000);
    if (!found.wait() || RegistryClient.countOf(found) == 0) {
      console.log("parent: nothing named " + name + (found.error != null ? ": " + found.error!.reason : ""));
      return 2;
    }
    cap = RegistryClient.serviceOf(found, 0);
    const p = RegistryClient.providerOf(found, 0);
    console.log("parent: passing " + name + " of " + p.host + "/" + p.pid.toString());
  } else {
    cap = rpc.local(new EchoServer());
    console.log("parent: passing its own echo");
  }
  const ea = rpc.call(host.cap, Host.ID, Host.M_executor, Host_executor$Params.DATA_WORDS, Host_executor$Params.POINTER_COUNT).send();
  const executor = ea.cap(Host_executor$Results.P_executor);
  const c = rpc.call(executor, Executor.ID, Executor.M_exec, Executor_exec$Params.DATA_WORDS, Executor_exec$Params.POINTER_COUNT);
  const b = c.params.initStruct(Executor_exec$Params.P_bytecode, Bytecode.DATA_WORDS, Bytecode.POINTER_COUNT);
  b.setU16(Bytecode.DISCRIMINANT, Bytecode.W_cid);
  b.setData(Bytecode.P_cid, cid);
  const o = c.params.initStruct(Executor_exec$Params.P_options, ExecOptions.DATA_WORDS, ExecOptions.POINTER_COUNT);
  o.setText(ExecOptions.P_name, "delegate-child");
  if (where.length > 0) o.setText(ExecOptions.P_where, where);
  const caps = o.initStructList(ExecOptions.P_caps, 1, NamedCap.DATA_WORDS, NamedCap.POINTER_COUNT);
  caps.struct(0).setText(NamedCap.P_name, "echo");
  c.setCap(caps.struct(0), NamedCap.P_cap, cap);
  const exec = c.send();
  const proc = exec.cap(Executor_exec$Results.P_process);
  // Waiting for the child serves the child's calls on our Echo meanwhile.
  const w = rpc.call(proc, Process.ID, Process.M_wait, Process_wait$Params.DATA_WORDS, Process_wait$Params.POINTER_COUNT).send();
  if (!w.wait()) { console.log("parent: wait failed: " + w.error!.reason); return 5; }
  const st = w.results.struct(Process_wait$Results.P_status);
  const code = st.u16(ExitStatus.DISCRIMINANT) == ExitStatus.W_exited ? <i32>st.u32(ExitStatus.F_exited) : 255;
  console.log("parent: served " + served.toString() + " call(s); the child exited " + code.toString());
  return code;
}

export function ww_main(): i32 {
  const rpc = new Session();
  const host = new HostClient(rpc.bootstrap());
  const ctx = host.context();
  const names = ctx.caps();
  if (!names.wait()) { console.log("no BootContext: " + names.error!.reason); return 1; }
  if (BootContextClient.namesOf(names).includes("echo")) return child(ctx);
  const info = ctx.info();
  if (!info.wait()) { console.log("info failed: " + info.error!.reason); return 1; }
  const cid = info.results.struct(BootContext_info$Results.P_info).data(BootInfo.P_cid);
  const args = BootContextClient.infoOf(info).args;
  return parent(rpc, host, cid, args.length > 0 ? String.UTF8.decode(args.buffer) : "");
}
