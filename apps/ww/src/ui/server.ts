// The web view of `ww host --ui`: one page (ui/page.ts) and a Server-Sent Events stream
// of snapshots — the cluster's hosts, each host's processes with their state and
// counters, and the traffic on the topics the page asks to watch (?topics=a,b).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Subscription, Topic } from '@ww/host'
import { parseRpcAddress } from '../host/address.js'
import type { RunningHost } from '../host/node.js'
import type { HostStatus } from '../host/status.js'
import { PAGE } from './page.js'
import { UsageError } from '../command.js'

export interface UiServer extends AsyncDisposable {
  readonly url: string
  close(): Promise<void>
}

export interface Snapshot {
  self: string
  cluster: string
  at: number
  hosts: Array<{ id: string; addresses: readonly string[]; load: number; uptimeMs: number; version: string; processes: HostStatus['processes'] | null }>
  topics: Array<{ name: string; messages: number; recent: Array<{ from: string; text: string; at: number }> }>
  pubsub: { published: number; received: number; subscriptions: number }
}

/** Topics watched at once, and messages kept per topic. */
const MAX_TOPICS = 16
const RECENT = 20
const TOPIC_NAME = /^[A-Za-z0-9_.~-]{1,128}$/

class TopicWatch {
  messages = 0
  readonly recent: Snapshot['topics'][number]['recent'] = []
  readonly #topic: Topic
  readonly #sub: Subscription
  constructor(h: RunningHost, readonly name: string) {
    this.#topic = h.cluster.pubsub.join(name)
    this.#sub = this.#topic.subscribe({
      capacity: 256,
      policy: 'dropOldest',
      handler: (m) => {
        this.messages++
        this.recent.push({ from: m.from, text: preview(m.data), at: Date.now() })
        if (this.recent.length > RECENT) this.recent.shift()
      },
    })
  }
  close(): void { this.#sub.close(); this.#topic.release() }
}

function preview(data: Uint8Array): string {
  const text = Buffer.from(data.subarray(0, 200)).toString('utf8')
  return data.length > 200 ? `${text}…` : text
}

export async function serveUi(h: RunningHost, addr: string): Promise<UiServer> {
  const a = parseRpcAddress(addr, '--ui')
  if (a.kind !== 'tcp') throw new UsageError(`--ui needs HOST:PORT, not a socket path ('${addr}')`, 'e.g. --ui 127.0.0.1:8080, or --ui alone for a free port')
  const board = h.status
  const topics = new Map<string, TopicWatch>()
  const streams = new Set<ServerResponse>()

  const watch = (names: string[]): void => {
    for (const n of names) {
      if (!TOPIC_NAME.test(n) || topics.has(n) || topics.size >= MAX_TOPICS) continue
      topics.set(n, new TopicWatch(h, n))
    }
  }
  const snapshot = (wanted: string[]): Snapshot => {
    const statuses = new Map(board.all().map((s) => [s.host, s.processes]))
    const ps = h.cluster.pubsub.stats()
    return {
      self: h.cluster.id,
      cluster: h.cluster.kind,
      at: Date.now(),
      hosts: h.cluster.view.hosts().map((x) => ({
        id: x.id, addresses: x.addresses, load: x.load, uptimeMs: x.uptimeMs, version: x.version,
        processes: statuses.get(x.id) ?? null,
      })),
      topics: wanted.flatMap((n) => {
        const t = topics.get(n)
        return t ? [{ name: n, messages: t.messages, recent: [...t.recent] }] : []
      }),
      pubsub: { published: ps.published, received: ps.received, subscriptions: ps.subscriptions },
    }
  }

  let allowedHosts = new Set<string>()
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    // Only requests addressed to this server by name: a page elsewhere cannot read the
    // view through a DNS name rebound to 127.0.0.1.
    if (!allowedHosts.has(req.headers.host ?? '')) { res.writeHead(421, { 'content-type': 'text/plain' }).end('misdirected request\n'); return }
    const url = new URL(req.url ?? '/', 'http://ui')
    const wanted = (url.searchParams.get('topics') ?? '').split(',').map((t) => t.trim()).filter(Boolean)
    if (req.method !== 'GET') { res.writeHead(405).end(); return }
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE)
    } else if (url.pathname === '/api/snapshot') {
      watch(wanted)
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(snapshot(wanted)))
    } else if (url.pathname === '/events') {
      watch(wanted)
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
      const send = (): void => { res.write(`data: ${JSON.stringify(snapshot(wanted))}\n\n`) }
      send()
      const timer = setInterval(send, 500)
      streams.add(res)
      req.on('close', () => { clearInterval(timer); streams.delete(res) })
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
    }
  }

  const server = createServer(handle)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(a.port, a.host, resolve)
  })
  const bound = server.address()
  const port = typeof bound === 'object' && bound !== null ? bound.port : a.port
  const named = a.host.includes(':') ? `[${a.host}]` : a.host
  allowedHosts = new Set([`${named}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`])
  let closed: Promise<void> | undefined
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      for (const r of streams) r.end()
      server.close(() => resolve())
      server.closeAllConnections()
      for (const t of topics.values()) t.close()
    })
    return closed
  }
  return { url: `http://${named}:${port}/`, close, [Symbol.asyncDispose]: close }
}
