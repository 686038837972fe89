// What a host shows of itself to its operator's tools (the web view, `ww demo --hosts 3`):
// its process table with counters. On a libp2p cluster every `ww host` also publishes it
// on the topic STATUS_TOPIC once a second, so a view on any host shows every host's
// processes. Messages are signed by their host (gossipsub StrictSign), so `from` is true;
// the body is checked before use and anything malformed is dropped.
import type { Cluster, Subscription, Topic } from '@ww/host'
import type { Scheduler } from '@ww/proc'

export const STATUS_TOPIC = '_ww.status'

export interface ProcessRow {
  pid: number
  name: string
  state: string
  cpuMs: number
  fuel: number
  memoryBytes: number
  messagesIn: number
  messagesOut: number
  mailbox: number
}

export interface HostStatus {
  host: string
  at: number
  processes: ProcessRow[]
}

/** The process table of this host, pids as its process tree names them. */
export function localProcesses(scheduler: Scheduler): ProcessRow[] {
  return scheduler.ps().map((p) => {
    // procRuntime labels each process `host-pid-<tree pid>`: show the pid clients use.
    const m = /^host-pid-(\d+)$/.exec(p.name)
    return {
      pid: m ? Number(m[1]) : p.pid,
      name: m ? '' : p.name,
      state: p.state,
      cpuMs: Math.round(p.cpuMs * 10) / 10,
      fuel: p.fuel,
      memoryBytes: p.memoryBytes,
      messagesIn: p.received,
      messagesOut: p.sent,
      mailbox: p.mailbox,
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

export function statusBoard(cluster: Cluster, scheduler: Scheduler, periodMs = 1000): StatusBoard {
  const remote = new Map<string, HostStatus>()
  const self = (): HostStatus => ({ host: cluster.id, at: Date.now(), processes: localProcesses(scheduler) })
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
