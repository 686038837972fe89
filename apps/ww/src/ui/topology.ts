// The cluster's topology as the web view draws it: every host this host knows of, and the
// links between them with the round-trip times each end measured (host/links.ts), from
// every host's status. A link either end reports down is down; a host that left the view,
// or whose link from this host is down, is unreachable from here.
import type { HostStatus } from '../host/status.js'

export type HostReach = 'self' | 'up' | 'unreachable'

export interface TopologyHost { id: string; reach: HostReach }

export interface TopologyLink {
  /** Its ends, `a` < `b`. */
  a: string
  b: string
  up: boolean
  /** The last round trip `a` measured to `b`, and `b` to `a` (ms; null: not measured or not reported). */
  rttAB: number | null
  rttBA: number | null
  /** Why it is down, as the end that saw it said. */
  error?: string
}

export interface Topology { hosts: TopologyHost[]; links: TopologyLink[] }

export function topology(self: string, inView: readonly string[], statuses: readonly HostStatus[]): Topology {
  const links = new Map<string, TopologyLink>()
  for (const s of statuses) {
    for (const l of s.links) {
      if (l.peer === s.host) continue
      const [a, b] = s.host < l.peer ? [s.host, l.peer] : [l.peer, s.host]
      const key = `${a} ${b}`
      let t = links.get(key)
      if (t === undefined) links.set(key, t = { a, b, up: true, rttAB: null, rttBA: null })
      if (!l.up) {
        t.up = false
        if (l.error !== undefined) t.error ??= l.error
      }
      if (l.rttMs !== null) {
        if (s.host === a) t.rttAB = l.rttMs
        else t.rttBA = l.rttMs
      }
    }
  }
  const viewed = new Set(inView)
  const listed = new Set(inView)
  for (const t of links.values()) for (const id of [t.a, t.b]) listed.add(id)
  const ids = [...listed]
  const downFromSelf = (id: string): boolean => {
    const t = links.get(self < id ? `${self} ${id}` : `${id} ${self}`)
    return t !== undefined && !t.up
  }
  const hosts = ids.map((id): TopologyHost => ({ id, reach: id === self ? 'self' : !viewed.has(id) || downFromSelf(id) ? 'unreachable' : 'up' }))
  return { hosts, links: [...links.values()] }
}

/** Three significant digits: the stream sends the topology again only when what it shows changed. */
export const rounded = (ms: number | null): number | null => (ms === null ? null : Number(ms.toPrecision(3)))

/** The stream's form: hosts once, links as [a, b, up, rttAB, rttBA] by host index, errors beside. */
export function compactTopology(t: Topology): { hosts: TopologyHost[]; links: Array<[number, number, 0 | 1, number | null, number | null]>; errors?: Record<number, string> } {
  const index = new Map(t.hosts.map((h, i) => [h.id, i]))
  const errors: Record<number, string> = {}
  const links = t.links.map((l, i): [number, number, 0 | 1, number | null, number | null] => {
    if (l.error !== undefined) errors[i] = l.error
    return [index.get(l.a)!, index.get(l.b)!, l.up ? 1 : 0, rounded(l.rttAB), rounded(l.rttBA)]
  })
  return { hosts: t.hosts, links, ...(Object.keys(errors).length > 0 ? { errors } : {}) }
}
