// A host with more live processes than one status message carries (MAX_PUBLISHED.live)
// sends its table in pages, one a message, in pid order: each page says which pids it
// covers, `(after, through]`, and a receiver replaces its copy of those pids with the page.
// Every row reaches every view within one cycle (10,000 processes: 20 pages, 20 s at one
// message a second) and each message stays bounded; the totals in each are the whole
// table's, current. A row whose process ended is dropped by the next page over its pid, or
// at once when the message lists it among the ended.
import type { HostStatus, ProcessRow } from './status.js'

/** Rows one status message carries at most: it stays well under 256 KiB. */
export const MAX_PUBLISHED = { live: 500, ended: 100, links: 256, monitors: 200 }

/** The pids a page covers: `after` < pid ≤ `through` (null: to the end of the table). */
export interface PageRange { after: number; through: number | null }

/** Rows kept of one other host at most: a host claiming more is cut, its newest pids dropped. */
export const MAX_REMOTE_ROWS = 50_000

/** The message that follows the one ending at pid `after` (0: the first page), and where the next starts. */
export function pageOf(s: HostStatus, after: number): { status: HostStatus; next: number } {
  const base = {
    ...s, ended: s.ended.slice(-MAX_PUBLISHED.ended), links: s.links.slice(0, MAX_PUBLISHED.links), monitors: s.monitors.slice(-MAX_PUBLISHED.monitors),
  }
  if (s.processes.length <= MAX_PUBLISHED.live) return { status: { ...base, omitted: 0 }, next: 0 }
  const rows = [...s.processes].sort((x, y) => x.pid - y.pid)
  let start = rows.findIndex((r) => r.pid > after)
  if (start < 0) { start = 0; after = 0 } // past the last pid: from the start again
  const page = rows.slice(start, start + MAX_PUBLISHED.live)
  const through = start + page.length >= rows.length ? null : page[page.length - 1]!.pid
  return {
    status: { ...base, processes: page, omitted: rows.length - page.length, range: { after, through } },
    next: through ?? 0,
  }
}

/** Another host's table after its message `s`: the whole of it, or the page merged into what came before. */
export function mergePage(before: HostStatus | undefined, s: HostStatus): HostStatus {
  const range = s.range
  if (range === undefined) return s
  const inRange = (pid: number): boolean => pid > range.after && (range.through === null || pid <= range.through)
  const ended = new Set(s.ended.map((e) => e.pid))
  const kept = (before?.processes ?? []).filter((r) => !inRange(r.pid) && !ended.has(r.pid))
  const page = s.processes.filter((r) => inRange(r.pid))
  const rows: ProcessRow[] = [...kept, ...page].sort((x, y) => x.pid - y.pid).slice(0, MAX_REMOTE_ROWS)
  return { ...s, processes: rows, omitted: Math.max(0, s.totals.processes - rows.length) }
}
