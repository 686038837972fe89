#!/usr/bin/env node
// One libp2p host as an OS process, driven over stdin/stdout JSON lines (for the
// multi-process tests and benchmarks). Requests: {"id":n,"cmd":…}; replies:
// {"id":n,"ok":…} or {"id":n,"error":{code,message}}; events: {"ev":…}.
import { createInterface } from 'node:readline'
import { host as capHost, testing, type process as capProcess, type registry as capReg } from '@ww/schema'
import { getInterfaceClient, setInterfaceClient } from 'capnp-ts'
import { RemoteError } from '@ww/transport'
import { createPair } from '@ww/transport'
import { libp2pCluster } from '../cluster/libp2p.js'
import { loadIdentity, parseAllowEntry, readSwarmKey } from '../cluster/trust.js'
import { hostProcessTree } from '../exec/host-tree.js'
import { tinyModule, tinyRuntime, type TinyBehaviour } from '../exec/tiny-runtime.js'
import type { Subscription, Topic } from '../pubsub/types.js'
import { executorProvider } from '../rpc/executor.js'
import { hostCapability } from '../rpc/host.js'
import type { AnchorWatch } from '../anchors/types.js'

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}
/** Every value of a repeatable flag. */
const args = (name: string): string[] => process.argv.flatMap((a, i) => (a === `--${name}` && i + 1 < process.argv.length ? [process.argv[i + 1]!] : []))
const out = (o: unknown): void => { process.stdout.write(JSON.stringify(o) + '\n') }
const enc = new TextEncoder()
const dec = new TextDecoder()

// Trust (cluster/trust.ts): --swarm-key FILE, --identity FILE, --allow PEERID[=RIGHTS] (repeatable).
const swarmKeyFile = arg('swarm-key')
const identityFile = arg('identity')
const allowed = args('allow')
const cluster = await libp2pCluster({
  bootstrap: (arg('bootstrap') ?? '').split(',').filter(Boolean),
  ttlMs: Number(arg('ttl') ?? 3000),
  ...(arg('listen') !== undefined ? { listen: [arg('listen')!] } : {}),
  ...(swarmKeyFile !== undefined ? { swarmKey: readSwarmKey(swarmKeyFile) } : {}),
  ...(identityFile !== undefined ? { privateKey: await loadIdentity(identityFile, { create: true }) } : {}),
  ...(allowed.length > 0 ? { allow: new Map(allowed.map((a) => parseAllowEntry(a))) } : {}),
})
// Processes run on tinyRuntime (this package's test runtime: WebAssembly, `_start`).
const tree = hostProcessTree(cluster, tinyRuntime())
// The caller of exec is a client of this host's Executor capability, over real frames.
const hc = hostCapability(cluster, { processId: 0, rights: { executor: true }, executor: executorProvider(tree) })
const [client] = createPair({ frames: true, b: { bootstrap: hc.server } })
const executor = client.bootstrap(capHost.Host).executor().getExecutor()
const procs = new Map<number, capProcess.Process$Client>()
let nextHandle = 1
const watches = new Map<string, AnchorWatch>()
const statusText = (s: capProcess.ExitStatus): string =>
  s.isExited() ? `exited ${s.getExited()}` : s.isKilled() ? 'killed' : s.isHostLost() ? `hostLost ${s.getHostLost()}`
    : s.isTrapped() ? `trapped ${s.getTrapped().getMessage()}` : `other ${s.which()}`
cluster.view.watch({ handler: (e) => out({ ev: e.type, host: e.host.id, ...(e.type === 'leave' ? { reason: e.reason } : {}) }) })
const topics = new Map<string, Topic>()
const subs = new Map<string, Subscription>()
const topic = (n: string): Topic => { let t = topics.get(n); if (!t) topics.set(n, t = cluster.pubsub.join(n)); return t }

// The registry, through two processes' Hosts over real frames: a provider (pid 1) whose
// Echo answers "<host>:" + payload, and a finder (pid 2) that keeps the first service found.
const registryOf = (pid: number): capReg.Registry$Client => {
  const h = hostCapability(cluster, { processId: pid, rights: { registry: true } })
  const [c] = createPair({ frames: true, b: { bootstrap: h.server } })
  return c.bootstrap(capHost.Host).registry().getRegistry()
}
const providerReg = registryOf(1)
const finderReg = registryOf(2)
const provisions = new Map<string, capReg.Provision$Client>()
const held = new Map<string, testing.Echo$Client>()
const echoServer = (): testing.Echo$Server => new testing.Echo.Server({
  ping() {}, counter() {},
  echo(p, r) { r.setPayload(enc.encode(`${cluster.id}:${dec.decode(p.getPayload().toUint8Array())}`)) },
})

type Req = { id: number; cmd: string; [k: string]: unknown }
const handlers: Record<string, (r: Req) => Promise<unknown> | unknown> = {
  info: () => ({ id: cluster.id, addrs: cluster.addresses() }),
  hosts: () => cluster.view.hosts().map((h) => h.id).sort(),
  subscribe: (r) => {
    const name = String(r.topic)
    subs.set(name, topic(name).subscribe({
      capacity: 4096,
      handler: (m) => out({ ev: 'msg', topic: m.topic, from: m.from, seq: m.seq, data: dec.decode(m.data) }),
    }))
    return true
  },
  waitPeers: async (r) => { await topic(String(r.topic)).waitForPeers(Number(r.n), { timeoutMs: Number(r.timeoutMs ?? 15000) }); return true },
  publish: async (r) => {
    const t = topic(String(r.topic))
    for (let i = 0; i < Number(r.count); i++) await t.publish(enc.encode(`${String(r.prefix)}${i}`))
    return Number(r.count)
  },
  anchorStore: async (r) => { await cluster.local.walk(String(r.path)).store(enc.encode(String(r.value))); return true },
  anchorLoad: async (r) => {
    const v = await cluster.local.walk(String(r.path)).load()
    return v?.kind === 'bytes' ? dec.decode(v.bytes) : null
  },
  gaps: () => cluster.gaps(),
  dropped: () => cluster.dropped(),
  /** Peers with an open connection to this host. */
  connected: () => [...new Set(cluster.libp2p.getConnections().map((c) => c.remotePeer.toString()))].sort(),
  // exec {module: {exit:n}|{park:true}|{trap:true}, where?, name?} → a handle number
  exec: async (r) => {
    const bytes = tinyModule(r.module as TinyBehaviour)
    const p = executor.exec((q) => {
      q.initBytecode().setInline(bytes)
      const o = q.initOptions()
      if (r.where) o.setWhere(String(r.where))
      if (r.name) o.setName(String(r.name))
    }).getProcess()
    const self = (await p.pid()).getSelf()
    const h = nextHandle++
    procs.set(h, p)
    return { handle: h, host: self.getHost(), pid: Number(self.getPid()) }
  },
  wait: async (r) => statusText((await procs.get(Number(r.handle))!.wait()).getStatus()),
  kill: async (r) => { await procs.get(Number(r.handle))!.kill(); return true },
  ps: () => tree.list().map((s) => ({ host: s.host, pid: s.pid, name: s.name, parent: s.parent })),
  // Anchors of any host through the cluster root: "<host>/<path>".
  anchorRead: async (r) => {
    const v = await cluster.anchors.walk(`${String(r.host)}/${String(r.path)}`).load()
    return v?.kind === 'bytes' ? dec.decode(v.bytes) : null
  },
  anchorWatch: async (r) => {
    const key = `${String(r.host)}/${String(r.path)}`
    const w = cluster.anchors.walk(key).watch({
      capacity: 1024, policy: 'block',
      handler: (e) => out({ ev: 'anchor', watch: key, path: e.path, kind: e.kind, value: e.value?.kind === 'bytes' ? dec.decode(e.value.bytes) : null }),
    })
    watches.set(key, w)
    await w.ready
    return true
  },
  provide: async (r) => {
    const res = await providerReg.provide((p) => {
      p.setName(String(r.name))
      setInterfaceClient(1, echoServer(), p)
      const o = p.initOptions()
      o.setTtlMs(Number(r.ttlMs ?? 10_000))
      o.initMeta(1).set(0, 'version=1')
    })
    provisions.set(String(r.name), res.getProvision())
    return true
  },
  cancel: async (r) => { await provisions.get(String(r.name))!.cancel(); return true },
  // find {name, waitMs} → [{host, pid, meta}]; the first one's service is kept for callHeld.
  find: async (r) => {
    const l = (await finderReg.find((p) => { p.setName(String(r.name)); p.setLimit(1); p.setWaitMs(Number(r.waitMs ?? 1000)) })).getProviders()
    if (l.getLength() > 0) held.set(String(r.name), new testing.Echo.Client(getInterfaceClient(1, l.get(0))))
    return Array.from({ length: l.getLength() }, (_, i) => {
      const p = l.get(i)
      const meta = p.getMeta()
      return { host: p.getProvider().getHost(), pid: Number(p.getProvider().getPid()), meta: Array.from({ length: meta.getLength() }, (_, k) => meta.get(k)) }
    })
  },
  // callHeld {name, payload} → {ok: answer} or {code}, with the time it took.
  callHeld: async (r) => {
    const t0 = Date.now()
    try {
      const res = await held.get(String(r.name))!.echo((p) => p.setPayload(enc.encode(String(r.payload))))
      return { ok: dec.decode(res.getPayload().toUint8Array()), ms: Date.now() - t0 }
    } catch (e) {
      return { code: e instanceof RemoteError ? e.remoteCode : String(e), ms: Date.now() - t0 }
    }
  },
  close: async () => {
    for (const w of watches.values()) w.close()
    client.close(); hc.close()
    await tree.close(); await cluster.close(); setImmediate(() => process.exit(0)); return true
  },
}

createInterface({ input: process.stdin }).on('line', (line) => {
  let r: Req
  try { r = JSON.parse(line) as Req } catch { return }
  Promise.resolve()
    .then(() => handlers[r.cmd]!(r))
    .then((ok) => out({ id: r.id, ok }), (e: { code?: string; message?: string }) => out({ id: r.id, error: { code: e?.code, message: String(e?.message ?? e) } }))
}).on('close', () => { void tree.close().then(() => cluster.close()).then(() => process.exit(0)) })
out({ ev: 'ready', id: cluster.id, addrs: cluster.addresses() })
