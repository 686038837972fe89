// What the web view shows, built from every host's status (host/status.ts): the cluster's
// process tree (a child on another host under its parent, ended processes kept by their
// host), per-host and cluster samples for the charts, and one process's detail. The tree
// is built once per tick; each page then takes only the rows in its view (window()).
import type { EndedProcess, Handed } from '../host/journal.js'
import type { HostStatus, HostTotals, ProcessRow } from '../host/status.js'

/** One process (or a host: pid 0) in the cluster's tree. Its key, `host/pid`, is made only for rows sent. */
export interface TreeNode {
  readonly host: string
  readonly pid: number
  readonly live: ProcessRow | undefined
  readonly ended: EndedProcess | undefined
  /** NO_CHILDREN (shared) until it has one. */
  children: TreeNode[]
  /** Its parent when that parent is nowhere in the tree (ended and forgotten): drawn under its host. */
  orphanOf?: { host: string; pid: number }
}

const NO_CHILDREN: TreeNode[] = []
const keyOf = (n: { host: string; pid: number }): string => `${n.host}/${n.pid}`

/** A row of the tree as the page draws it. */
export interface TreeRow {
  key: string
  /** The parent's key (`host/0`: the host itself); absent for a host's node. */
  parent?: string
  host: string
  pid: number
  depth: number
  name: string
  /** starting, running, waiting, ended; `host` for a host's node. */
  state: string
  /** How it ended (ended rows), e.g. `trapped (unreachable): …`, and the status's kind. */
  status?: string
  kind?: string
  startedAtMs: number
  endedAtMs?: number
  children: number
  collapsed?: true
  fuel: number
  memoryBytes: number
  mailbox: number
}

export interface Detail {
  key: string
  host: string
  pid: number
  parent: string | null
  name: string
  state: string
  status?: string
  startedAtMs: number
  endedAtMs?: number
  counters: Record<string, number>
  /** WASI calls refused, by function and errno ('path_open ENOTCAPABLE'). */
  denied: Record<string, number>
  handed: Handed | null
  children: Array<{ key: string; name: string; state: string }>
  childrenTotal: number
  /** Processes it monitors, and those monitoring it (Process.monitor, pending), from every host's status. */
  monitors: Related[]
  monitoredBy: Related[]
}

/** Another process named in a detail: its key, and its name and state when the tree has it. */
export interface Related { key: string; name: string; state: string }

/** Entries of one list in a detail at most. */
const DETAIL_LIST = 20

/** One point of the charts: per host, and the cluster's sum. Rates are per second since the previous point. */
export interface HostPoint { processes: number; memoryBytes: number; cpuPercent: number; messagesPerS: number; framesPerS: number }
export interface Sample {
  at: number
  cluster: HostPoint
  hosts: Record<string, HostPoint>
  /** Messages per second on each watched topic, and on every topic this host sees. */
  topics: Record<string, number>
}

export const hostKey = (host: string): string => `${host}/0`

/** The cluster's tree from every host's status; hosts listed by `hosts` come first, in that order. */
export class Forest {
  readonly roots: TreeNode[] = []
  /** By host, then pid (0: the host's own node): numbers and interned ids, no key strings to hash. */
  readonly #byHost = new Map<string, Map<number, TreeNode>>()
  /** Pending monitors by watcher and by target (keys `host/pid`). */
  readonly #monitors = new Map<string, Set<string>>()
  readonly #monitoredBy = new Map<string, Set<string>>()
  #size = 0

  constructor(hosts: readonly string[], statuses: readonly HostStatus[]) {
    const tableOf = (host: string): Map<number, TreeNode> => {
      let t = this.#byHost.get(host)
      if (t === undefined) {
        const root: TreeNode = { host, pid: 0, live: undefined, ended: undefined, children: [] }
        t = new Map([[0, root]])
        this.#byHost.set(host, t)
        this.roots.push(root)
      }
      return t
    }
    for (const h of hosts) tableOf(h)
    const linked: TreeNode[] = []
    for (const s of statuses) {
      const table = tableOf(s.host)
      // Ended first: a live row of the same pid (an ended record can linger a tick) replaces it.
      for (const e of s.ended) { const n: TreeNode = { host: s.host, pid: e.pid, live: undefined, ended: e, children: NO_CHILDREN }; table.set(e.pid, n); linked.push(n) }
      for (const r of s.processes) { const n: TreeNode = { host: s.host, pid: r.pid, live: r, ended: undefined, children: NO_CHILDREN }; table.set(r.pid, n); linked.push(n) }
    }
    for (const n of linked) {
      const table = this.#byHost.get(n.host)!
      if (table.get(n.pid) !== n) continue
      this.#size++
      const p = (n.live ?? n.ended)!
      const parentHost = p.parentHost ?? n.host
      let parent = (parentHost === n.host ? table : this.#byHost.get(parentHost))?.get(p.parent)
      if (parent === undefined) {
        parent = table.get(0)!
        if (p.parent !== 0 || parentHost !== n.host) n.orphanOf = { host: parentHost, pid: p.parent }
      }
      if (parent.children === NO_CHILDREN) parent.children = [n]
      else parent.children.push(n)
    }
    for (const t of this.#byHost.values()) for (const n of t.values()) if (n.children.length > 1) n.children.sort(byStart)
    // Both ends may report one monitor (the watcher's host, and the target's when it was made over Peer.exec): sets.
    const add = (m: Map<string, Set<string>>, k: string, v: string): void => { let s = m.get(k); if (s === undefined) m.set(k, s = new Set()); s.add(v) }
    for (const s of statuses) for (const w of s.monitors) { add(this.#monitors, w.by, w.of); add(this.#monitoredBy, w.of, w.by) }
  }

  /** Processes in the tree (live and ended), hosts not counted. */
  get size(): number { return this.#size }

  node(key: string): TreeNode | undefined {
    const at = key.lastIndexOf('/')
    const pid = Number(key.slice(at + 1))
    return at < 0 || !Number.isSafeInteger(pid) ? undefined : this.#byHost.get(key.slice(0, at))?.get(pid)
  }

  /**
   * The rows `offset…offset+limit` of the tree drawn depth-first with `collapsed` nodes
   * closed, and how many rows there are in all: a page gets the rows in its view only.
   */
  window(offset: number, limit: number, collapsed: ReadonlySet<string>): { total: number; rows: TreeRow[] } {
    const rows: TreeRow[] = []
    let at = 0
    const end = offset + limit
    // Iterative: a deep chain of children must not overflow the stack.
    const stack: Array<[TreeNode, number]> = []
    for (let i = this.roots.length - 1; i >= 0; i--) stack.push([this.roots[i]!, 0])
    while (stack.length > 0) {
      const [n, depth] = stack.pop()!
      const closed = collapsed.size > 0 && collapsed.has(keyOf(n))
      if (at >= offset && at < end) rows.push(rowOf(n, depth, closed))
      at++
      if (!closed) for (let i = n.children.length - 1; i >= 0; i--) stack.push([n.children[i]!, depth + 1])
    }
    return { total: at, rows }
  }

  detail(key: string): Detail | undefined {
    const n = this.node(key)
    if (n === undefined || n.pid === 0) return undefined
    const r = n.live
    const e = n.ended
    const counters: Record<string, number> = r
      ? {
          fuel: r.fuel, memoryBytes: r.memoryBytes, cpuMs: r.cpuMs, mailbox: r.mailbox, messagesIn: r.messagesIn, messagesOut: r.messagesOut,
          framesIn: r.framesIn, framesOut: r.framesOut,
        }
      : { ...e?.last }
    const parentKey = n.orphanOf ? keyOf(n.orphanOf) : parentOf(n)
    return {
      key, host: n.host, pid: n.pid, parent: parentKey,
      name: r?.name ?? e?.name ?? '', state: r?.state ?? 'ended',
      ...(e ? { status: e.status, endedAtMs: e.endedAtMs } : {}),
      startedAtMs: r?.startedAtMs ?? e?.startedAtMs ?? 0,
      counters,
      denied: { ...r?.denied },
      handed: r?.handed ?? e?.handed ?? null,
      children: n.children.slice(0, DETAIL_LIST).map((c) => relatedOf(keyOf(c), c)),
      childrenTotal: n.children.length,
      monitors: this.#related(this.#monitors.get(key)),
      monitoredBy: this.#related(this.#monitoredBy.get(key)),
    }
  }

  #related(keys: ReadonlySet<string> | undefined): Related[] {
    return keys === undefined ? [] : [...keys].slice(0, DETAIL_LIST).map((k) => relatedOf(k, this.node(k)))
  }
}

/** A host's own node (pid 0) is its operator: the clients of its endpoint. */
function relatedOf(key: string, n: TreeNode | undefined): Related {
  if (n === undefined) return { key, name: '', state: 'unknown' }
  if (n.pid === 0) return { key, name: 'operator', state: 'host' }
  return { key, name: n.live?.name ?? n.ended?.name ?? '', state: n.live?.state ?? 'ended' }
}

function parentOf(n: TreeNode): string {
  const p = n.live ?? n.ended
  return p === undefined ? hostKey(n.host) : `${p.parentHost ?? n.host}/${p.parent}`
}

function byStart(a: TreeNode, b: TreeNode): number {
  return startOf(a) - startOf(b) || a.pid - b.pid
}

function startOf(n: TreeNode): number { return n.live?.startedAtMs ?? n.ended?.startedAtMs ?? 0 }

function rowOf(n: TreeNode, depth: number, closed: boolean): TreeRow {
  const base = { key: keyOf(n), ...(n.pid !== 0 ? { parent: n.orphanOf ? keyOf(n.orphanOf) : parentOf(n) } : {}), host: n.host, pid: n.pid, depth, children: n.children.length, ...(closed ? { collapsed: true as const } : {}) }
  if (n.live) {
    const r = n.live
    return { ...base, name: r.name, state: r.state, startedAtMs: r.startedAtMs, fuel: r.fuel, memoryBytes: r.memoryBytes, mailbox: r.mailbox }
  }
  if (n.ended) {
    const e = n.ended
    return {
      ...base, name: e.name, state: 'ended', status: e.status, kind: e.kind, startedAtMs: e.startedAtMs, endedAtMs: e.endedAtMs,
      fuel: e.last?.fuel ?? 0, memoryBytes: 0, mailbox: 0,
    }
  }
  return { ...base, name: n.host, state: 'host', startedAtMs: 0, fuel: 0, memoryBytes: 0, mailbox: 0 }
}

/** The charts' points over the last `keep` samples. */
export class History {
  readonly #keep: number
  readonly samples: Sample[] = []
  #prev: { at: number; hosts: Map<string, HostTotals>; topics: Map<string, number> } | undefined

  constructor(keep: number) { this.#keep = keep }

  /** A new point from every host's totals and each topic's message count so far. */
  add(at: number, statuses: readonly HostStatus[], topicCounts: ReadonlyMap<string, number>): Sample {
    const prev = this.#prev
    const seconds = prev ? Math.max((at - prev.at) / 1000, 0.001) : 1
    const rate = (now: number, before: number | undefined): number => (before === undefined ? 0 : Math.max(0, (now - before) / seconds))
    const cluster: HostPoint = { processes: 0, memoryBytes: 0, cpuPercent: 0, messagesPerS: 0, framesPerS: 0 }
    const hosts: Record<string, HostPoint> = {}
    for (const s of statuses) {
      const t = s.totals
      const b = prev?.hosts.get(s.host)
      const p: HostPoint = {
        processes: t.processes, memoryBytes: t.memoryBytes,
        cpuPercent: round(rate(t.cpuMs, b?.cpuMs) / 10), messagesPerS: round(rate(t.messages, b?.messages)), framesPerS: round(rate(t.frames, b?.frames)),
      }
      hosts[s.host] = p
      cluster.processes += p.processes
      cluster.memoryBytes += p.memoryBytes
      cluster.cpuPercent = round(cluster.cpuPercent + p.cpuPercent)
      cluster.messagesPerS = round(cluster.messagesPerS + p.messagesPerS)
      cluster.framesPerS = round(cluster.framesPerS + p.framesPerS)
    }
    const topics: Record<string, number> = {}
    for (const [name, n] of topicCounts) topics[name] = round(rate(n, prev?.topics.get(name)))
    this.#prev = { at, hosts: new Map(statuses.map((s) => [s.host, s.totals])), topics: new Map(topicCounts) }
    const sample: Sample = { at, cluster, hosts, topics }
    this.samples.push(sample)
    if (this.samples.length > this.#keep) this.samples.shift()
    return sample
  }
}

const round = (x: number): number => Math.round(x * 10) / 10
