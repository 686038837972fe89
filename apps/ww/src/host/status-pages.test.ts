// A table larger than one status message travels in pages: a receiver ends up with every
// row after one cycle, each message stays bounded, and a process that ended is dropped.
import type { HostStatus, ProcessRow } from './status.js'
import { MAX_PUBLISHED, mergePage, pageOf } from './status-pages.js'
import { parseStatus } from './status.js'

const row = (pid: number): ProcessRow => ({
  pid, parent: 0, name: `p${pid}`, state: 'running', startedAtMs: pid, cpuMs: 0, fuel: pid, memoryBytes: 0,
  messagesIn: 0, messagesOut: 0, mailbox: 0, framesIn: 0, framesOut: 0,
})
const table = (pids: number[], ended: number[] = []): HostStatus => ({
  host: 'B', at: 1, processes: pids.map(row), omitted: 0, links: [], monitors: [],
  ended: ended.map((pid) => ({ pid, parent: 0, name: `p${pid}`, startedAtMs: pid, endedAtMs: 2, status: 'exited 0', kind: 'exited' })),
  totals: { processes: pids.length, memoryBytes: 0, cpuMs: 0, messages: 0, frames: 0 },
})
/** Sends one message through JSON and parseStatus, as the topic would. */
const wire = (s: HostStatus): HostStatus => ({ ...parseStatus(new TextEncoder().encode(JSON.stringify(s)))!, host: s.host })
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

test('a small table is one message, whole', () => {
  const { status, next } = pageOf(table([1, 2, 3]), 0)
  expect([status.processes.length, status.range, next]).toEqual([3, undefined, 0])
})

test('a large table arrives in pages, each bounded; after one cycle the receiver has every row', () => {
  const n = MAX_PUBLISHED.live * 2 + 37
  const sender = table(range(1, n))
  let seen: HostStatus | undefined
  let after = 0
  const sizes: number[] = []
  for (let i = 0; i < 3; i++) {
    const page = pageOf(sender, after)
    after = page.next
    sizes.push(page.status.processes.length)
    seen = mergePage(seen, wire(page.status))
  }
  expect(sizes).toEqual([MAX_PUBLISHED.live, MAX_PUBLISHED.live, 37])
  expect(after).toBe(0) // the next cycle starts again
  expect(seen!.processes.map((r) => r.pid)).toEqual(range(1, n))
  expect(seen!.omitted).toBe(0)
})

test('a process that ended leaves the receiver\'s copy: at once when listed as ended, else with the next page over its pid', () => {
  const n = MAX_PUBLISHED.live + 10
  let seen: HostStatus | undefined
  let after = 0
  for (let i = 0; i < 2; i++) { const p = pageOf(table(range(1, n)), after); after = p.next; seen = mergePage(seen, wire(p.status)) }
  expect(seen!.processes).toHaveLength(n)
  // Pid 3 ended (in the ended list); pid 7 is simply gone (its ended record already forgotten).
  const now = table(range(1, n).filter((pid) => pid !== 3 && pid !== 7), [3])
  const first = pageOf(now, after)
  seen = mergePage(seen, wire(first.status))
  expect(seen.processes.map((r) => r.pid)).not.toContain(3)
  expect(seen.processes.map((r) => r.pid)).not.toContain(7)
  expect(seen.processes).toHaveLength(n - 2)
})

test('a page past the last pid starts from the first again', () => {
  const p = pageOf(table(range(1, MAX_PUBLISHED.live + 5)), 10_000)
  expect(p.status.range).toEqual({ after: 0, through: MAX_PUBLISHED.live })
})
