// The web view of `ww host --ui`: one page (ui/page.ts) and a Server-Sent Events stream.
// Each tick the stream carries what changed and what is in view: a chart point per host
// and for the cluster, the rows of the process tree the page scrolled to, the selected
// process's detail, the watched topics' traffic. The page says what it views with
// POST /api/view. Read-only unless started with --ui-control: then POST /api/kill, with
// the token given in the page's URL (#control=…), kills a process of this host.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Subscription, Topic } from '@ww/host'
import { parseRpcAddress } from '../host/address.js'
import type { RunningHost } from '../host/node.js'
import type { HostStatus } from '../host/status.js'
import { isLoopbackHost } from '../host/trust.js'
import { Forest, History, type Sample, type TreeRow } from './model.js'
import { compactTopology, topology } from './topology.js'
import { PAGE } from './page.js'
import { UsageError } from '../command.js'

export interface UiOptions {
  /** Allow killing processes from the page (`--ui-control`), with the token in the URL it prints. */
  control?: boolean
  /** Chart points kept (one a tick): default 300, five minutes. */
  historyPoints?: number
  /** Milliseconds between ticks (default 1000). */
  tickMs?: number
  /** Every host's status (default: the host's status board). The bench feeds a simulated cluster here. */
  statuses?: () => HostStatus[]
}

export interface UiServer extends AsyncDisposable {
  /** The page's address (with #control=TOKEN when controls are on). */
  readonly url: string
  close(): Promise<void>
}

/** A refused request, with a stable code the page shows. */
export class UiRequestError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message)
    this.name = 'UiRequestError'
  }
}

/** Topics watched at once, messages kept per topic, rows a page may view at once, the early frame, round trips resent, request bodies. */
const MAX_TOPICS = 16
const RECENT = 20
const MAX_ROWS = 200
const EARLY_MS = 250
const RTT_EVERY_MS = 5000
const MAX_BODY = 256 * 1024
const TOPIC_NAME = /^[A-Za-z0-9_.~-]{1,128}$/

interface TopicTraffic { name: string; messages: number; recent: Array<{ from: string; text: string; at: number }> }

class TopicWatch {
  messages = 0
  readonly recent: TopicTraffic['recent'] = []
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

/** What one page views: set by POST /api/view. */
interface Stream {
  readonly id: string
  readonly res: ServerResponse
  readonly topics: string[]
  offset: number
  limit: number
  collapsed: Set<string>
  selected: string | null
  /** What it was last sent, to send again only on change. */
  sentHosts: string
  sentTopics: string
  /** The topology's shape (hosts, reach, which links are up) and when its round trips were last sent. */
  sentTopology: string
  sentTopologyAt: number
  sentTopologyJson: string
}

export async function serveUi(h: RunningHost, addr: string, o: UiOptions = {}): Promise<UiServer> {
  const a = parseRpcAddress(addr, '--ui')
  if (a.kind !== 'tcp') throw new UsageError(`--ui needs HOST:PORT, not a socket path ('${addr}')`, 'e.g. --ui 127.0.0.1:8080, or --ui alone for a free port')
  if (o.control === true && !isLoopbackHost(a.host)) {
    throw new UsageError(`--ui-control serves kills over plain HTTP: not on ${a.host}, only on a loopback address`, 'use --ui 127.0.0.1:PORT (and an SSH tunnel from elsewhere)')
  }
  const token = o.control === true ? randomBytes(24).toString('hex') : undefined
  const statuses = o.statuses ?? (() => h.status.all())
  const history = new History(o.historyPoints ?? 300)
  const topics = new Map<string, TopicWatch>()
  const streams = new Map<string, Stream>()
  let forest = new Forest([], [])
  let hostsMeta = '[]'
  let topologyJson = '{"hosts":[],"links":[]}'
  let topologyShape = ''
  let latest: Sample | undefined

  const watch = (names: string[]): void => {
    for (const n of names) {
      if (!TOPIC_NAME.test(n) || topics.has(n) || topics.size >= MAX_TOPICS) continue
      topics.set(n, new TopicWatch(h, n))
    }
  }
  const topicCounts = (): Map<string, number> => {
    const ps = h.cluster.pubsub.stats()
    return new Map([['(all topics)', ps.published + ps.received], ...[...topics].map(([n, t]) => [n, t.messages] as [string, number])])
  }

  /** Every host's status into the tree, and a chart point when `point` (or none yet). */
  const refresh = (point: boolean): void => {
    const all = statuses()
    if (point || latest === undefined) latest = history.add(Date.now(), all, topicCounts())
    const seen = h.cluster.view.hosts()
    const byHost = new Map(all.map((s) => [s.host, s]))
    forest = new Forest(seen.map((x) => x.id), all)
    const topo = compactTopology(topology(h.cluster.id, seen.map((x) => x.id), all))
    topologyJson = JSON.stringify(topo)
    topologyShape = JSON.stringify([topo.hosts, topo.links.map((l) => l.slice(0, 3))])
    hostsMeta = JSON.stringify(seen.map((x) => ({
      id: x.id, addresses: x.addresses, version: x.version,
      // Rounded: a heartbeat's uptime jitters, and the list is sent again only when it changes.
      startedAt: Math.round((Date.now() - x.uptimeMs) / 10_000) * 10_000,
      omitted: byHost.get(x.id)?.omitted ?? 0, reporting: byHost.has(x.id),
    })))
  }

  const frame = (s: Stream): Record<string, unknown> => {
    const msg: Record<string, unknown> = {
      at: Date.now(), self: h.cluster.id, cluster: h.cluster.kind, processes: forest.size,
      sample: latest, tree: compact(s.offset, forest.window(s.offset, s.limit, s.collapsed)),
      detail: s.selected === null ? null : forest.detail(s.selected) ?? null,
    }
    if (hostsMeta !== s.sentHosts) { msg.hosts = JSON.parse(hostsMeta); s.sentHosts = hostsMeta }
    // A change of shape goes at once; new round trips alone at most every RTT_EVERY_MS (they change at every ping).
    const now = Date.now()
    if (topologyShape !== s.sentTopology || (now - s.sentTopologyAt >= RTT_EVERY_MS && topologyJson !== s.sentTopologyJson)) {
      msg.topology = JSON.parse(topologyJson)
      s.sentTopology = topologyShape
      s.sentTopologyJson = topologyJson
      s.sentTopologyAt = now
    }
    const traffic = s.topics.flatMap((n): TopicTraffic[] => {
      const t = topics.get(n)
      return t ? [{ name: n, messages: t.messages, recent: [...t.recent] }] : []
    })
    const key = traffic.map((t) => `${t.name}:${t.messages}`).join(',')
    if (key !== s.sentTopics) { msg.topics = traffic; s.sentTopics = key }
    return msg
  }
  const push = (s: Stream): void => { s.res.write(`data: ${JSON.stringify(frame(s))}\n\n`) }

  // The charts cover the last minutes whether or not a page is open; the tree is built only for a page.
  const tick = setInterval(() => {
    if (streams.size === 0) { latest = history.add(Date.now(), statuses(), topicCounts()); return }
    refresh(true)
    for (const s of streams.values()) push(s)
  }, o.tickMs ?? 1000)
  tick.unref()
  // A process of this host starting or ending reaches open pages soon, not at the next tick
  // (at most one early frame per EARLY_MS: the tree is rebuilt for each).
  let early: NodeJS.Timeout | undefined
  let lastEarly = 0
  const stopWatching = h.journal.onChange(() => {
    if (early !== undefined || streams.size === 0) return
    early = setTimeout(() => {
      early = undefined
      lastEarly = Date.now()
      if (streams.size === 0) return
      refresh(false)
      for (const s of streams.values()) push(s)
    }, Math.max(EARLY_MS - (Date.now() - lastEarly), 10))
  })

  let allowedHosts = new Set<string>()
  let allowedOrigins = new Set<string>()

  /** Refuses what did not come from this page: another Host name (DNS rebinding), another origin. */
  const guard = (req: IncomingMessage): void => {
    if (!allowedHosts.has(req.headers.host ?? '')) throw new UiRequestError(421, 'ERR_UI_MISDIRECTED', 'misdirected request')
    const origin = req.headers.origin
    if (origin !== undefined && !allowedOrigins.has(origin)) throw new UiRequestError(403, 'ERR_UI_CROSS_ORIGIN', `requests from ${origin} are refused`)
    const site = req.headers['sec-fetch-site']
    if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new UiRequestError(403, 'ERR_UI_CROSS_ORIGIN', `a ${String(site)} request is refused`)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    guard(req)
    const url = new URL(req.url ?? '/', 'http://ui')
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store',
        // Inline script and style are the page's own; nothing else loads, nothing frames it.
        'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; frame-ancestors 'none'",
        'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer',
      }).end(PAGE)
    } else if (req.method === 'GET' && url.pathname === '/api/snapshot') {
      // For scripts and tests: every host's whole table as it has it, on request (the page's stream sends rows in view).
      const list = statuses()
      const all = new Map(list.map((x) => [x.host, x]))
      const seen = h.cluster.view.hosts()
      json(res, 200, {
        self: h.cluster.id, cluster: h.cluster.kind, at: Date.now(),
        topology: topology(h.cluster.id, seen.map((x) => x.id), list),
        hosts: seen.map((x) => {
          const st = all.get(x.id)
          return {
            id: x.id, addresses: x.addresses, load: x.load, uptimeMs: x.uptimeMs, version: x.version,
            processes: st?.processes ?? null, ended: st?.ended ?? [], totals: st?.totals ?? null, omitted: st?.omitted ?? 0,
            links: st?.links ?? [], monitors: st?.monitors ?? [],
          }
        }),
      })
    } else if (req.method === 'GET' && url.pathname === '/events') {
      const wanted = (url.searchParams.get('topics') ?? '').split(',').map((t) => t.trim()).filter(Boolean).slice(0, MAX_TOPICS)
      watch(wanted)
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
      const s = newStream(res, wanted)
      streams.set(s.id, s)
      refresh(false)
      res.write(`event: hello\ndata: ${JSON.stringify({ stream: s.id, control: token !== undefined, history: history.samples })}\n\n`)
      push(s)
      req.on('close', () => { streams.delete(s.id) })
    } else if (req.method === 'POST' && url.pathname === '/api/view') {
      const v = await body(req) as { stream?: unknown; offset?: unknown; limit?: unknown; collapsed?: unknown; selected?: unknown }
      const s = streams.get(String(v.stream))
      if (s === undefined) throw new UiRequestError(404, 'ERR_UI_NO_STREAM', 'no such stream (reconnect)')
      s.offset = whole(v.offset, 0, Number.MAX_SAFE_INTEGER)
      s.limit = whole(v.limit, 1, MAX_ROWS)
      s.collapsed = new Set(Array.isArray(v.collapsed) ? v.collapsed.slice(0, 10_000).map(String) : [])
      s.selected = typeof v.selected === 'string' ? v.selected : null
      res.writeHead(204).end()
      push(s)
    } else if (req.method === 'POST' && url.pathname === '/api/kill') {
      if (token === undefined) throw new UiRequestError(403, 'ERR_UI_READ_ONLY', 'this view is read-only: start the host with --ui-control to kill from the page')
      const shown = /^Bearer ([0-9a-f]+)$/.exec(req.headers.authorization ?? '')?.[1] ?? ''
      if (shown.length !== token.length || !timingSafeEqual(Buffer.from(shown), Buffer.from(token))) {
        throw new UiRequestError(401, 'ERR_UI_TOKEN', 'a kill needs the token from the URL the host printed (#control=…)')
      }
      const v = await body(req) as { host?: unknown; pid?: unknown }
      if (v.host !== h.cluster.id) throw new UiRequestError(409, 'ERR_UI_OTHER_HOST', 'only this host\'s processes can be killed from its page: open that host\'s view')
      const pid = whole(v.pid, 1, Number.MAX_SAFE_INTEGER)
      let target
      try { target = h.tree.executor().process(pid) } catch { throw new UiRequestError(404, 'ERR_UI_NO_PROCESS', `no live process ${pid} here`) }
      h.journal.killing(pid, 'the web view')
      await target.kill('requested')
      json(res, 200, { killed: { host: h.cluster.id, pid } })
    } else if (req.method !== 'GET' && req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' }).end()
    } else {
      throw new UiRequestError(404, 'ERR_UI_NOT_FOUND', 'not found')
    }
  }

  let nextStream = 1
  const newStream = (res: ServerResponse, wanted: string[]): Stream => ({
    id: `${nextStream++}-${randomBytes(6).toString('hex')}`, res, topics: wanted,
    offset: 0, limit: 50, collapsed: new Set(), selected: null, sentHosts: '', sentTopics: '', sentTopology: '', sentTopologyAt: 0, sentTopologyJson: '',
  })

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const err = e instanceof UiRequestError ? e : new UiRequestError(500, 'ERR_UI_INTERNAL', String((e as Error)?.message ?? e))
      if (!res.headersSent) json(res, err.status, { error: err.message, code: err.code })
      else res.end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(a.port, a.host, resolve)
  })
  const bound = server.address()
  const port = typeof bound === 'object' && bound !== null ? bound.port : a.port
  const named = a.host.includes(':') ? `[${a.host}]` : a.host
  allowedHosts = new Set([`${named}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`])
  allowedOrigins = new Set([...allowedHosts].map((x) => `http://${x}`))
  let closed: Promise<void> | undefined
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      clearInterval(tick)
      clearTimeout(early)
      stopWatching()
      for (const s of streams.values()) s.res.end()
      server.close(() => resolve())
      server.closeAllConnections()
      for (const t of topics.values()) t.close()
    })
    return closed
  }
  const url = `http://${named}:${port}/${token !== undefined ? `#control=${token}` : ''}`
  return { url, close, [Symbol.asyncDispose]: close }
}

/**
 * The rows in view with each host id sent once (`hosts`) and named by index in the rows
 * (`h`, and `ph` for the parent's host): ids are ~52 characters, a row's own data is ~150.
 */
function compact(offset: number, w: { total: number; rows: TreeRow[] }): { offset: number; total: number; hosts: string[]; rows: unknown[] } {
  const hosts: string[] = []
  const index = new Map<string, number>()
  const of = (host: string): number => {
    let i = index.get(host)
    if (i === undefined) { i = hosts.push(host) - 1; index.set(host, i) }
    return i
  }
  const rows = w.rows.map(({ key: _key, host, parent, ...r }) => {
    const at = parent === undefined ? -1 : parent.lastIndexOf('/')
    return { ...r, h: of(host), ...(parent !== undefined ? { ph: of(parent.slice(0, at)), pp: Number(parent.slice(at + 1)) } : {}) }
  })
  return { offset, total: w.total, hosts, rows }
}

function json(res: ServerResponse, status: number, v: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(v))
}

function whole(v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new UiRequestError(400, 'ERR_UI_BAD_REQUEST', `expected a whole number in ${min}…${max}`)
  return v
}

/** A JSON request body (content-type application/json: a plain form from elsewhere cannot send one without CORS). */
async function body(req: IncomingMessage): Promise<unknown> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new UiRequestError(415, 'ERR_UI_BAD_REQUEST', 'expected application/json')
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length
    if (size > MAX_BODY) throw new UiRequestError(413, 'ERR_UI_BAD_REQUEST', 'request body too large')
    chunks.push(c)
  }
  try { return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown } catch {
    throw new UiRequestError(400, 'ERR_UI_BAD_REQUEST', 'the body is not JSON')
  }
}
