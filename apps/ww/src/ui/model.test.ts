// The web view's model without a browser: the tree across hosts, the rows in view, the
// detail of one process, and the charts' rates.
import type { EndedProcess } from '../host/journal.js'
import type { HostStatus, ProcessRow } from '../host/status.js'
import { Forest, History } from './model.js'

const live = (pid: number, parent: number, name: string, extra: Partial<ProcessRow> = {}): ProcessRow => ({
  pid, parent, name, state: 'running', startedAtMs: pid, cpuMs: 0, fuel: pid * 10, memoryBytes: 65536, messagesIn: 0, messagesOut: 0, mailbox: 0,
  framesIn: 0, framesOut: 0, ...extra,
})
const ended = (pid: number, parent: number, name: string, status: string, extra: Partial<EndedProcess> = {}): EndedProcess => ({
  pid, parent, name, startedAtMs: pid, endedAtMs: 100, status, kind: status.split(' ')[0]!, ...extra,
})
const status = (host: string, processes: ProcessRow[], endedRows: EndedProcess[] = [], totals: Partial<HostStatus['totals']> = {}): HostStatus => ({
  host, at: 0, processes, ended: endedRows, omitted: 0, links: [], monitors: [],
  totals: { processes: processes.length, memoryBytes: 0, cpuMs: 0, messages: 0, frames: 0, ...totals },
})

test('a child on another host is drawn under its parent; an ended process stays where it was; collapsing hides a subtree', () => {
  const f = new Forest(['A', 'B'], [
    status('A', [live(1, 0, 'sup'), live(2, 1, 'worker')], [ended(3, 1, 'crashed', 'trapped (unreachable): boom')]),
    status('B', [live(7, 1, 'far-child', { parentHost: 'A', handed: { caps: ['echo'], overrides: [], rights: ['view'] } }), live(8, 0, 'b-root')]),
  ])
  expect(f.size).toBe(5)
  const all = f.window(0, 100, new Set())
  expect(all.rows.map((r) => [r.key, r.depth, r.parent ?? null])).toEqual([
    ['A/0', 0, null], ['A/1', 1, 'A/0'], ['A/2', 2, 'A/1'], ['A/3', 2, 'A/1'], ['B/7', 2, 'A/1'], ['B/0', 0, null], ['B/8', 1, 'B/0'],
  ])
  expect(all.rows[3]).toMatchObject({ state: 'ended', status: 'trapped (unreachable): boom', kind: 'trapped' })
  // Rows in view only: the page asked for rows 2–3 of 7.
  expect(f.window(2, 2, new Set())).toEqual({ total: 7, rows: [expect.objectContaining({ key: 'A/2' }), expect.objectContaining({ key: 'A/3' })] })
  const closed = f.window(0, 100, new Set(['A/1']))
  expect(closed.total).toBe(4)
  expect(closed.rows[1]).toMatchObject({ key: 'A/1', collapsed: true, children: 3 })
  expect(f.detail('B/7')).toMatchObject({ parent: 'A/1', handed: { caps: ['echo'] }, state: 'running' })
  expect(f.detail('A/1')!.children.map((c) => c.key)).toEqual(['A/2', 'A/3', 'B/7'])
  expect(f.detail('A/0')).toBeUndefined()
  expect(f.detail('nonsense')).toBeUndefined()
})

test('a process whose parent is forgotten is drawn under its host and still names that parent', () => {
  const f = new Forest(['A'], [status('A', [live(5, 4, 'orphan')])])
  const rows = f.window(0, 10, new Set()).rows
  expect(rows.map((r) => [r.key, r.depth, r.parent])).toEqual([['A/0', 0, undefined], ['A/5', 1, 'A/4']])
})

test('a live row wins over a lingering ended record of the same process', () => {
  const f = new Forest(['A'], [status('A', [live(1, 0, 'back')], [ended(1, 0, 'back', 'exited 0')])])
  expect(f.size).toBe(1)
  expect(f.window(0, 10, new Set()).rows[1]).toMatchObject({ key: 'A/1', state: 'running' })
})

test('chart points: per-second rates from totals, never negative, and a bounded history', () => {
  const h = new History(2)
  h.add(0, [status('A', [], [], { messages: 10, frames: 100, cpuMs: 0 })], new Map([['news', 0]]))
  const p = h.add(2000, [status('A', [], [], { messages: 30, frames: 100, cpuMs: 1000 })], new Map([['news', 4]]))
  expect(p.hosts.A).toMatchObject({ messagesPerS: 10, framesPerS: 0, cpuPercent: 50 })
  expect(p.topics).toEqual({ news: 2 })
  const q = h.add(3000, [status('A', [], [], { messages: 5 })], new Map())
  expect(q.cluster.messagesPerS).toBe(0)
  expect(h.samples.map((s) => s.at)).toEqual([2000, 3000])
})

test('monitors from every host\'s status: what a process monitors and what monitors it, named from the tree, each once', () => {
  const f = new Forest(['A', 'B'], [
    { ...status('A', [live(1, 0, 'watcher')]), monitors: [{ by: 'A/1', of: 'B/2' }, { by: 'A/0', of: 'A/1' }] },
    // B reports the same monitor (it was made over Peer.exec), and one on a process nobody lists.
    { ...status('B', [live(2, 1, 'watched', { parentHost: 'A' })]), monitors: [{ by: 'A/1', of: 'B/2' }, { by: 'B/2', of: 'C/9' }] },
  ])
  expect(f.detail('A/1')).toMatchObject({
    monitors: [{ key: 'B/2', name: 'watched', state: 'running' }],
    monitoredBy: [{ key: 'A/0', name: 'operator', state: 'host' }],
  })
  expect(f.detail('B/2')).toMatchObject({
    monitors: [{ key: 'C/9', name: '', state: 'unknown' }],
    monitoredBy: [{ key: 'A/1', name: 'watcher', state: 'running' }],
  })
})
