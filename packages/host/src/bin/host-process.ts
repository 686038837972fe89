#!/usr/bin/env node
// One libp2p host as an OS process, driven over stdin/stdout JSON lines (for the
// multi-process tests and benchmarks). Requests: {"id":n,"cmd":…}; replies:
// {"id":n,"ok":…} or {"id":n,"error":{code,message}}; events: {"ev":…}.
import { createInterface } from 'node:readline'
import { libp2pCluster } from '../cluster/libp2p.js'
import type { Subscription, Topic } from '../pubsub/types.js'

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}
const out = (o: unknown): void => { process.stdout.write(JSON.stringify(o) + '\n') }
const enc = new TextEncoder()
const dec = new TextDecoder()

const cluster = await libp2pCluster({
  bootstrap: (arg('bootstrap') ?? '').split(',').filter(Boolean),
  ttlMs: Number(arg('ttl') ?? 3000),
})
cluster.view.watch({ handler: (e) => out({ ev: e.type, host: e.host.id, ...(e.type === 'leave' ? { reason: e.reason } : {}) }) })
const topics = new Map<string, Topic>()
const subs = new Map<string, Subscription>()
const topic = (n: string): Topic => { let t = topics.get(n); if (!t) topics.set(n, t = cluster.pubsub.join(n)); return t }

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
  close: async () => { await cluster.close(); setImmediate(() => process.exit(0)); return true },
}

createInterface({ input: process.stdin }).on('line', (line) => {
  let r: Req
  try { r = JSON.parse(line) as Req } catch { return }
  Promise.resolve()
    .then(() => handlers[r.cmd]!(r))
    .then((ok) => out({ id: r.id, ok }), (e: { code?: string; message?: string }) => out({ id: r.id, error: { code: e?.code, message: String(e?.message ?? e) } }))
}).on('close', () => { void cluster.close().then(() => process.exit(0)) })
out({ ev: 'ready', id: cluster.id, addrs: cluster.addresses() })
