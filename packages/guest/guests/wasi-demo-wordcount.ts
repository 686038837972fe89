// WASI guest for `ww demo`: a distributed word count built only from capabilities.
// One module, two roles, chosen with compare-and-set on this host's anchors. The demo
// writes each host's share of the job under that host's own subtree — `wc/job` (how many
// chunks), `wc/chunk/<i>` (the text) — and, on the first host only, `wc/module` (this
// module's cid in the bytecode cache); elsewhere it fills `wc/coordinator` in advance.
//   - The process that claims `wc/coordinator` (it never held a value) is the
//     coordinator: it spawns two workers per host of the cluster from the same cid
//     (`where`), waits for each to exit, and publishes how they ended.
//   - Every other process is a worker: it claims chunks of its host's share with
//     compareAndSet on `wc/claim/<i>` until none is left, stores each count in
//     `wc/count/<i>` and publishes a line on topic `wordcount`.
// Each process reaches only its own host's anchors (`<its host id>/wc/…` from the cluster
// root it was given); the cluster's work is split by host, joined by spawn and pubsub.
export * from "../assembly/exports";
import { Session, HostClient, HostSummary, ViewClient, AnchorClient, TopicClient, Answer, Cap } from "../assembly/index";
import { Anchor, Anchor_compareAndSet$Params, Anchor_compareAndSet$Results, Value } from "@ww/schema/assembly/anchor";
import { Host, Host_executor$Params, Host_executor$Results } from "@ww/schema/assembly/host";
import {
  Bytecode, ExecOptions, ExitStatus, Executor, Executor_exec$Params, Executor_exec$Results,
  Process, Process_wait$Params, Process_wait$Results,
} from "@ww/schema/assembly/process";

const TOPIC = "wordcount";

function failed(a: Answer, what: string): bool {
  if (a.wait()) return false;
  console.log(what + " failed: " + (a.error != null ? a.error!.reason : "no answer"));
  return true;
}

function utf8(s: string): Uint8Array { return Uint8Array.wrap(String.UTF8.encode(s)); }
function text(b: Uint8Array): string { return String.UTF8.decode(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); }

/** The node's data, or null (no value, or the call failed). */
function load(root: AnchorClient, path: string): Uint8Array | null {
  const node = root.walk(path);
  const got = node.get();
  let out: Uint8Array | null = null;
  if (got.wait()) {
    const d = AnchorClient.dataOf(got);
    if (d != null) out = d.slice(0);
  }
  got.dispose();
  node.release();
  return out;
}

function store(root: AnchorClient, path: string, value: string): bool {
  const node = root.walk(path);
  const set = node.set(utf8(value));
  const ok = !failed(set, "store " + path);
  set.dispose();
  node.release();
  return ok;
}

/** Sets `path` to `value` only if it never held one (version 0): true if this caller won. */
function claim(root: AnchorClient, path: string, value: string): bool {
  const node = root.walk(path);
  const c = node.cap.session.call(node.cap, Anchor.ID, Anchor.M_compareAndSet, Anchor_compareAndSet$Params.DATA_WORDS, Anchor_compareAndSet$Params.POINTER_COUNT);
  const v = c.params.initStruct(Anchor_compareAndSet$Params.P_value, Value.DATA_WORDS, Value.POINTER_COUNT);
  v.setU16(Value.DISCRIMINANT, Value.W_data);
  v.setData(Value.P_data, utf8(value));
  c.params.setU64(Anchor_compareAndSet$Params.F_expected, 0);
  const a = c.send();
  const won = !failed(a, "claim " + path) && a.results.bool(Anchor_compareAndSet$Results.B_swapped);
  a.dispose();
  node.release();
  return won;
}

function words(s: string): i32 {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const space = c == 32 || c == 9 || c == 10 || c == 13;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

function short(id: string): string { return id.length > 12 ? id.slice(id.length - 6) : id; }

function publish(topic: TopicClient, line: string): void {
  const p = topic.publish(utf8(line));
  failed(p, "publish");
  p.dispose();
}

function worker(root: AnchorClient, topic: TopicClient, me: string, chunks: i32): i32 {
  const job = me;
  let done = 0;
  let counted = 0;
  for (let i = 0; i < chunks; i++) {
    if (!claim(root, job + "/wc/claim/" + i.toString(), me)) continue;
    const chunk = load(root, job + "/wc/chunk/" + i.toString());
    if (chunk == null) { console.log("chunk " + i.toString() + " is missing"); return 2; }
    const n = words(text(chunk));
    if (!store(root, job + "/wc/count/" + i.toString(), n.toString())) return 3;
    publish(topic, "host " + short(me) + " counted chunk " + i.toString() + ": " + n.toString() + " words");
    done++;
    counted += n;
  }
  console.log("worker on " + short(me) + ": " + done.toString() + " chunk(s), " + counted.toString() + " words");
  return 0;
}

function coordinator(rpc: Session, host: HostClient, root: AnchorClient, topic: TopicClient, hosts: HostSummary[], me: string): i32 {
  const cid = load(root, me + "/wc/module");
  if (cid == null) { console.log("no module cid in wc/module"); return 4; }
  const workers = 2 * hosts.length;
  const ea = rpc.call(host.cap, Host.ID, Host.M_executor, Host_executor$Params.DATA_WORDS, Host_executor$Params.POINTER_COUNT).send();
  const executor = ea.cap(Host_executor$Results.P_executor);
  // Spawn every worker first (pipelined), then wait for each.
  const spawned = new Array<Answer>(0);
  const procs = new Array<Cap>(0);
  for (let w = 0; w < workers; w++) {
    const where = hosts[w % hosts.length].id;
    const c = rpc.call(executor, Executor.ID, Executor.M_exec, Executor_exec$Params.DATA_WORDS, Executor_exec$Params.POINTER_COUNT);
    const b = c.params.initStruct(Executor_exec$Params.P_bytecode, Bytecode.DATA_WORDS, Bytecode.POINTER_COUNT);
    b.setU16(Bytecode.DISCRIMINANT, Bytecode.W_cid);
    b.setData(Bytecode.P_cid, cid!);
    const o = c.params.initStruct(Executor_exec$Params.P_options, ExecOptions.DATA_WORDS, ExecOptions.POINTER_COUNT);
    if (where != me) o.setText(ExecOptions.P_where, where);
    o.setText(ExecOptions.P_name, "wc-worker-" + w.toString());
    const a = c.send();
    spawned.push(a);
    procs.push(a.cap(Executor_exec$Results.P_process));
  }
  console.log("spawned " + workers.toString() + " workers on " + hosts.length.toString() + " host(s)");
  let ok = true;
  for (let w = 0; w < workers; w++) {
    const wa = rpc.call(procs[w], Process.ID, Process.M_wait, Process_wait$Params.DATA_WORDS, Process_wait$Params.POINTER_COUNT).send();
    if (failed(wa, "wait for worker " + w.toString())) { ok = false; continue; }
    const st = wa.results.struct(Process_wait$Results.P_status);
    const exited = st.u16(ExitStatus.DISCRIMINANT) == ExitStatus.W_exited;
    const code = exited ? st.u32(ExitStatus.F_exited) : 255;
    if (!exited || code != 0) { console.log("worker " + w.toString() + " ended badly (" + code.toString() + ")"); ok = false; }
    wa.dispose();
    procs[w].release();
    spawned[w].dispose();
  }
  executor.release();
  ea.dispose();
  publish(topic, "done: " + workers.toString() + " workers on " + hosts.length.toString() + " host(s) " + (ok ? "all exited 0" : "NOT all exited 0"));
  return ok ? 0 : 1;
}

export function ww_main(): i32 {
  const rpc = new Session();
  const host = new HostClient(rpc.bootstrap());
  const info = host.info();
  if (failed(info, "host.info")) return 1;
  const me = HostClient.infoOf(info).id;
  info.dispose();

  const view = host.view();
  const listed = view.list(64);
  if (failed(listed, "view.list")) return 1;
  const hosts = ViewClient.hostsOf(listed);
  listed.dispose();
  view.release();

  const root = host.root();
  const pubsub = host.pubSub();
  const topic = pubsub.join(TOPIC);

  const job = load(root, me + "/wc/job");
  if (job == null) { console.log("no job found in wc/job"); return 5; }
  const chunks = I32.parseInt(text(job!));

  const code = claim(root, me + "/wc/coordinator", "taken")
    ? coordinator(rpc, host, root, topic, hosts, me)
    : worker(root, topic, me, chunks);
  topic.release();
  pubsub.release();
  root.release();
  return code;
}
