// What a host shows of itself to its operator's tools (the web view, `ww demo --hosts 3`):
// its process table with counters. On a libp2p cluster every `ww host` also publishes it
// on the topic STATUS_TOPIC once a second, so a view on any host shows every host's
// processes. Messages are signed by their host (gossipsub StrictSign), so `from` is true;
// the body is checked before use and anything malformed is dropped.
import type { Cluster, ProcessTree, Subscription, Topic } from '@ww/host'
import type { HostProcesses } from './processes.js'

export const STATUS_TOPIC = '_ww.status'

export interface ProcessRow {
  pid: number
  /** The parent's pid on its host (0: the host itself), and that host when it is another. */
  parent: number
  parentHost?: string
  name: string
  state: string
  cpuMs: number
  fuel: number
  memoryBytes: number
  messagesIn: number
  messagesOut: number
  mailbox: number
  /** The worker thread it runs on (`ww host --workers`); absent on the main thread. */
  worker?: number
}

export interface HostStatus {
  host: string
  at: number
  processes: ProcessRow[]
}

/**
 * The process table of this host: the tree's processes (pids as clients name them, parent,
 * name) with the runtime's counters for each (on this thread or a worker: processes.ts).
 */
export function localProcesses(tree: ProcessTree, processes: HostProcesses): ProcessRow[] {
  const counters = processes.counters()
  return tree.list().filter((t) => t.host === tree.host).map((t) => {
    const p = counters.get(t.pid)
    return {
      pid: t.pid,
      parent: t.parent.pid,
      ...(t.parent.host !== tree.host ? { parentHost: t.parent.host } : {}),
      name: t.name,
      state: p?.state ?? t.state,
      cpuMs: Math.round((p?.cpuMs ?? 0) * 10) / 10,
      fuel: p?.fuel ?? 0,
      memoryBytes: p?.memoryBytes ?? 0,
      messagesIn: p?.received ?? 0,
      messagesOut: p?.sent ?? 0,
      mailbox: p?.mailbox ?? 0,
      ...(p?.worker !== undefined ? { worker: p.worker } : {}),
    }
  })
}

export interface StatusBoard {
  /** Every host's last status (this host's is always current). */
  all(): HostStatus[]
  close(): void
}

const enc = new TextEncoder()
const dec = new TextDecoder()

export function statusBoard(cluster: Cluster, tree: ProcessTree, processes: HostProcesses, periodMs = 1000): StatusBoard {
  const remote = new Map<string, HostStatus>()
  const self = (): HostStatus => ({ host: cluster.id, at: Date.now(), processes: localProcesses(tree, processes) })
  if (cluster.kind === 'embedded') return { all: () => [self()], close: () => {} }
  const topic: Topic = cluster.pubsub.join(STATUS_TOPIC)
  const sub: Subscription = topic.subscribe({
    capacity: 64,
    policy: 'dropOldest',
    handler: (m) => {
      const s = parseStatus(m.data)
      if (s !== undefined && m.from !== cluster.id) remote.set(m.from, { ...s, host: m.from })
    },
  })
  const timer = setInterval(() => { void topic.publish(enc.encode(JSON.stringify(self()))).catch(() => {}) }, periodMs)
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

function parseStatus(bytes: Uint8Array): HostStatus | undefined {
  if (bytes.length > 256 * 1024) return undefined
  try {
    const v = JSON.parse(dec.decode(bytes)) as HostStatus
    if (typeof v !== 'object' || v === null || !Array.isArray(v.processes) || typeof v.at !== 'number') return undefined
    const rows = v.processes.slice(0, 1000).filter((p) => typeof p === 'object' && p !== null && typeof p.pid === 'number' && typeof p.state === 'string')
    return { host: '', at: v.at, processes: rows }
  } catch {
    return undefined
  }
}
