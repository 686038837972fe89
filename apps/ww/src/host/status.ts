// What a host shows of itself to its operator's tools (the web view, `ww demo --hosts 3`):
// its process table with counters. On a libp2p cluster every `ww host` also publishes it
// on the topic STATUS_TOPIC once a second, so a view on any host shows every host's
// processes. Messages are signed by their host (gossipsub StrictSign), so `from` is true;
// the body is checked before use and anything malformed is dropped.
import type { Cluster, ProcessTree, Subscription, Topic } from '@ww/host'
import { WASI_DENIED_PREFIX } from '@ww/proc'
import type { EndedProcess, Handed, ProcessJournal } from './journal.js'
import type { LinkProbe, LinkRow } from './links.js'
import type { HostProcesses } from './processes.js'
import { MAX_PUBLISHED, mergePage, pageOf, type PageRange } from './status-pages.js'

export const STATUS_TOPIC = '_ww.status'

export interface ProcessRow {
  pid: number
  /** The parent's pid on its host (0: the host itself), and that host when it is another. */
  parent: number
  parentHost?: string
  name: string
  state: string
  startedAtMs: number
  cpuMs: number
  fuel: number
  memoryBytes: number
  messagesIn: number
  messagesOut: number
  mailbox: number
  /** Cap'n Proto RPC frames it sent to the host (in) and was handed (out). */
  framesIn: number
  framesOut: number
  /** WASI calls refused, by function and errno ('path_open ENOTCAPABLE'); absent: none. */
  denied?: Record<string, number>
  /** What it was handed at spawn (names only). */
  handed?: Handed
  /** The worker thread it runs on (`ww host --workers`); absent on the main thread. */
  worker?: number
}

/** A host's sums: over its live processes, plus what ended processes had counted (so rates do not dip when one ends). */
export interface HostTotals {
  processes: number
  memoryBytes: number
  cpuMs: number
  /** ww_proc messages sent, and RPC frames both ways, since the host started. */
  messages: number
  frames: number
}

export interface HostStatus {
  host: string
  at: number
  processes: ProcessRow[]
  /** Processes that ended here lately, oldest first. */
  ended: EndedProcess[]
  totals: HostTotals
  /** Live processes left out of `processes` (a status message is bounded: MAX_PUBLISHED). */
  omitted: number
  /** Set when the message is one page of a larger table: the pids it covers (status-pages.ts). */
  range?: PageRange
  /** Its connections to other hosts, with their round-trip times (links.ts). */
  links: LinkRow[]
  /** Pending monitors made through its Process capabilities: `by` watches `of` (keys `host/pid`). */
  monitors: MonitorRow[]
}

export interface MonitorRow { by: string; of: string }

export { MAX_PUBLISHED } from './status-pages.js'

/**
 * The process table of this host: the tree's processes (pids as clients name them, parent,
 * name) with the runtime's counters for each (on this thread or a worker: processes.ts).
 */
export function localProcesses(tree: ProcessTree, processes: HostProcesses, journal?: ProcessJournal): ProcessRow[] {
  const counters = processes.counters()
  journal?.sawCounters(counters)
  return tree.list().filter((t) => t.host === tree.host).map((t) => {
    const p = counters.get(t.pid)
    const denied = deniedOf(p?.extension)
    const handed = journal?.handed(t.pid)
    return {
      pid: t.pid,
      parent: t.parent.pid,
      ...(t.parent.host !== tree.host ? { parentHost: t.parent.host } : {}),
      name: t.name,
      state: p?.state ?? t.state,
      startedAtMs: t.startedAtMs,
      cpuMs: Math.round((p?.cpuMs ?? 0) * 10) / 10,
      fuel: p?.fuel ?? 0,
      memoryBytes: p?.memoryBytes ?? 0,
      messagesIn: p?.received ?? 0,
      messagesOut: p?.sent ?? 0,
      mailbox: p?.mailbox ?? 0,
      framesIn: p?.framesIn ?? 0,
      framesOut: p?.framesOut ?? 0,
      ...(denied ? { denied } : {}),
      ...(handed ? { handed } : {}),
      ...(p?.worker !== undefined ? { worker: p.worker } : {}),
    }
  })
}

/** The WASI denials by function and errno among a process's extension counters. */
function deniedOf(extension: Readonly<Record<string, number>> | undefined): Record<string, number> | undefined {
  if (extension === undefined) return undefined
  const out: Record<string, number> = {}
  let any = false
  for (const [k, n] of Object.entries(extension)) if (k.startsWith(WASI_DENIED_PREFIX)) { out[k.slice(WASI_DENIED_PREFIX.length)] = n; any = true }
  return any ? out : undefined
}

/** This host's status: every live row (the board trims what it publishes), its ended ring and totals, its links and monitors. */
export function hostStatus(host: string, tree: ProcessTree, processes: HostProcesses, journal?: ProcessJournal, links?: LinkProbe): HostStatus {
  const rows = localProcesses(tree, processes, journal)
  // Counts since start carry on from ended processes; memory is what the live ones hold now.
  const totals: HostTotals = { processes: rows.length, memoryBytes: 0, cpuMs: 0, messages: 0, frames: 0, ...journal?.endedTotals() }
  for (const r of rows) {
    totals.memoryBytes += r.memoryBytes
    totals.cpuMs += r.cpuMs
    totals.messages += r.messagesOut
    totals.frames += r.framesIn + r.framesOut
  }
  const monitors = tree.watches.list().map((w) => ({ by: `${w.watcher.host}/${w.watcher.pid}`, of: `${w.target.host}/${w.target.pid}` }))
  return { host, at: Date.now(), processes: rows, ended: [...(journal?.ended() ?? [])], totals, omitted: 0, links: links?.links() ?? [], monitors }
}

export interface StatusBoard {
  /** Every host's last status (this host's is always current). */
  all(): HostStatus[]
  close(): void
}

const enc = new TextEncoder()
const dec = new TextDecoder()

export interface StatusBoardOptions {
  journal?: ProcessJournal
  /** This host's links to the others, published with its status. */
  links?: LinkProbe
  /** Between status messages (default 1000 ms). */
  periodMs?: number
}

export function statusBoard(cluster: Cluster, tree: ProcessTree, processes: HostProcesses, o: StatusBoardOptions = {}): StatusBoard {
  const { journal, links, periodMs = 1000 } = o
  const remote = new Map<string, HostStatus>()
  const self = (): HostStatus => hostStatus(cluster.id, tree, processes, journal, links)
  if (cluster.kind === 'embedded') return { all: () => [self()], close: () => {} }
  const topic: Topic = cluster.pubsub.join(STATUS_TOPIC)
  const sub: Subscription = topic.subscribe({
    capacity: 64,
    policy: 'dropOldest',
    handler: (m) => {
      const s = parseStatus(m.data)
      if (s !== undefined && m.from !== cluster.id) remote.set(m.from, mergePage(remote.get(m.from), { ...s, host: m.from }))
    },
  })
  let after = 0
  const timer = setInterval(() => {
    const page = pageOf(self(), after)
    after = page.next
    void topic.publish(enc.encode(JSON.stringify(page.status))).catch(() => {})
  }, periodMs)
  timer.unref()
  return {
    all: () => {
      const live = new Set(cluster.view.hosts().map((h) => h.id))
      for (const id of remote.keys()) if (!live.has(id)) remote.delete(id)
      return [self(), ...remote.values()]
    },
    close: () => { clearInterval(timer); sub.close(); topic.release() },
  }
}

const isRow = (p: unknown): boolean =>
  typeof p === 'object' && p !== null && typeof (p as ProcessRow).pid === 'number' && typeof (p as ProcessRow).parent === 'number'
const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0)
const text = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256
const isLink = (l: unknown): l is LinkRow => {
  const x = l as LinkRow
  return typeof l === 'object' && l !== null && text(x.peer) && typeof x.up === 'boolean' && typeof x.at === 'number' &&
    (x.rttMs === null || (typeof x.rttMs === 'number' && Number.isFinite(x.rttMs) && x.rttMs >= 0))
}
const isMonitor = (m: unknown): m is MonitorRow => typeof m === 'object' && m !== null && text((m as MonitorRow).by) && text((m as MonitorRow).of)

/** Another host's status message, checked: anything malformed is dropped (rows), or the message is. */
export function parseStatus(bytes: Uint8Array): HostStatus | undefined {
  if (bytes.length > 256 * 1024) return undefined
  try {
    const v = JSON.parse(dec.decode(bytes)) as Partial<HostStatus>
    if (typeof v !== 'object' || v === null || !Array.isArray(v.processes) || typeof v.at !== 'number') return undefined
    const rows = v.processes.slice(0, MAX_PUBLISHED.live).filter((p) => isRow(p) && typeof p.state === 'string')
    const ended = (Array.isArray(v.ended) ? v.ended : []).slice(-MAX_PUBLISHED.ended).filter((p) => isRow(p) && typeof p.status === 'string')
    const t = (typeof v.totals === 'object' && v.totals !== null ? v.totals : {}) as Partial<HostTotals>
    const totals: HostTotals = {
      processes: count(t.processes), memoryBytes: count(t.memoryBytes), cpuMs: count(t.cpuMs), messages: count(t.messages), frames: count(t.frames),
    }
    const links = (Array.isArray(v.links) ? v.links : []).slice(0, MAX_PUBLISHED.links).filter(isLink)
      .map((l): LinkRow => ({ peer: l.peer, up: l.up, rttMs: l.rttMs, at: l.at, ...(typeof l.error === 'string' ? { error: l.error.slice(0, 200) } : {}) }))
    const monitors = (Array.isArray(v.monitors) ? v.monitors : []).slice(-MAX_PUBLISHED.monitors).filter(isMonitor).map((m) => ({ by: m.by, of: m.of }))
    const r = v.range as Partial<PageRange> | undefined
    const range = r !== undefined && r !== null && typeof r === 'object' && Number.isSafeInteger(r.after) && r.after! >= 0 &&
      (r.through === null || (Number.isSafeInteger(r.through) && r.through! > r.after!)) ? { range: { after: r.after!, through: r.through! } } : {}
    return { host: '', at: v.at, processes: rows, ended, totals, omitted: count(v.omitted), links, monitors, ...range }
  } catch {
    return undefined
  }
}
