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
import { Session, HostClient, AnchorClient, TopicClient, ProcessClient, TypedAnswer } from "../assembly/index";
import { Anchor_walk$Answer } from "../assembly/gen/anchor";
import { Executor_exec$Answer } from "../assembly/gen/process";

const TOPIC = "wordcount";

function failed(a: TypedAnswer, what: string): bool {
  if (a.wait()) return false;
  console.log(what + " failed: " + (a.error != null ? a.error!.reason : "no answer"));
  return true;
}

function utf8(s: string): Uint8Array { return Uint8Array.wrap(String.UTF8.encode(s)); }
function text(b: Uint8Array): string { return String.UTF8.decode(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); }

/** The node's data, or null (no value, or the call failed). */
function load(root: AnchorClient, path: string): Uint8Array | null {
  const walked = root.walk(path);
  const node = walked.anchor();
  const got = node.get();
  let out: Uint8Array | null = null;
  if (got.wait()) {
    const v = got.results().getValue();
    if (v.isData()) out = v.getData();
  }
  got.dispose();
  node.release();
  walked.dispose();
  return out;
}

function store(root: AnchorClient, path: string, value: string): bool {
  const walked = root.walk(path);
  const node = walked.anchor();
  const r = node.setRequest();
  r.params.initValue().setData(utf8(value));
  const set = r.send();
  const ok = !failed(set, "store " + path);
  set.dispose();
  node.release();
  walked.dispose();
  return ok;
}

/** Sets `path` to `value` only if it never held one (version 0): true if this caller won. */
function claim(root: AnchorClient, path: string, value: string): bool {
  const walked: Anchor_walk$Answer = root.walk(path);
  const node = walked.anchor();
  const r = node.compareAndSetRequest();
  r.params.initValue().setData(utf8(value));
  r.params.setExpected(0);
  const a = r.send();
  const won = !failed(a, "claim " + path) && a.results().getSwapped();
  a.dispose();
  node.release();
  walked.dispose();
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

function coordinator(host: HostClient, root: AnchorClient, topic: TopicClient, hosts: string[], me: string): i32 {
  const cid = load(root, me + "/wc/module");
  if (cid == null) { console.log("no module cid in wc/module"); return 4; }
  const workers = 2 * hosts.length;
  const ea = host.executor();
  const executor = ea.executor();
  // Spawn every worker first (pipelined), then wait for each.
  const spawned = new Array<Executor_exec$Answer>(0);
  const procs = new Array<ProcessClient>(0);
  for (let w = 0; w < workers; w++) {
    const where = hosts[w % hosts.length];
    const r = executor.execRequest();
    r.params.initBytecode().setCid(cid!);
    const o = r.params.initOptions();
    if (where != me) o.setWhere(where);
    o.setName("wc-worker-" + w.toString());
    const a = r.send();
    spawned.push(a);
    procs.push(a.process());
  }
  console.log("spawned " + workers.toString() + " workers on " + hosts.length.toString() + " host(s)");
  let ok = true;
  for (let w = 0; w < workers; w++) {
    const wa = procs[w].wait();
    if (failed(wa, "wait for worker " + w.toString())) { ok = false; continue; }
    const st = wa.results().getStatus();
    const exited = st.isExited();
    const code = exited ? st.getExited() : 255;
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
  const me = info.results().getInfo().getId();
  info.dispose();

  const viewed = host.view();
  const view = viewed.view();
  const list = view.listRequest(); // the default selector: every host
  list.params.setLimit(64);
  const listed = list.send();
  if (failed(listed, "view.list")) return 1;
  const found = listed.results().getHosts();
  const hosts = new Array<string>(<i32>found.length);
  for (let i: u32 = 0; i < found.length; i++) hosts[i] = found.get(i).getId();
  listed.dispose();
  view.release();
  viewed.dispose();

  const rooted = host.root();
  const root = rooted.root();
  const joined = host.pubSub().pubSub().join(TOPIC); // the PubSub's own answer is pipelined through
  const topic = joined.topic();

  const job = load(root, me + "/wc/job");
  if (job == null) { console.log("no job found in wc/job"); return 5; }
  const chunks = I32.parseInt(text(job!));

  const code = claim(root, me + "/wc/coordinator", "taken")
    ? coordinator(host, root, topic, hosts, me)
    : worker(root, topic, me, chunks);
  topic.release();
  joined.dispose();
  root.release();
  rooted.dispose();
  return code;
}
