// The topology from every host's status: links merged from both ends with each end's RTT,
// a link either end reports down is down, and who is unreachable from this host.
import type { LinkRow } from '../host/links.js'
import type { HostStatus } from '../host/status.js'
import { compactTopology, topology } from './topology.js'

const status = (host: string, links: LinkRow[]): HostStatus => ({
  host, at: 0, processes: [], ended: [], omitted: 0, links, monitors: [],
  totals: { processes: 0, memoryBytes: 0, cpuMs: 0, messages: 0, frames: 0 },
})
const up = (peer: string, rttMs: number): LinkRow => ({ peer, up: true, rttMs, at: 1 })

test('one link per pair of hosts, with the RTT each end measured', () => {
  const t = topology('B', ['B', 'A', 'C'], [
    status('B', [up('A', 0.52), up('C', 1.5)]),
    status('A', [up('B', 0.48)]),
    status('C', [up('B', 1.25)]),
  ])
  expect(t.hosts).toEqual([{ id: 'B', reach: 'self' }, { id: 'A', reach: 'up' }, { id: 'C', reach: 'up' }])
  expect(t.links).toEqual([
    { a: 'A', b: 'B', up: true, rttAB: 0.48, rttBA: 0.52 },
    { a: 'B', b: 'C', up: true, rttAB: 1.5, rttBA: 1.25 },
  ])
})

test('a link either end saw go down is down; a host that left the view, or is cut off from this one, is unreachable', () => {
  const t = topology('A', ['A', 'B'], [
    status('A', [{ peer: 'B', up: false, rttMs: 0.4, at: 2, error: 'disconnected' }, { peer: 'C', up: false, rttMs: null, at: 2, error: 'disconnected' }]),
    // B's last word, sent before it saw the link go: still up.
    status('B', [up('A', 0.5)]),
  ])
  expect(t.hosts).toEqual([{ id: 'A', reach: 'self' }, { id: 'B', reach: 'unreachable' }, { id: 'C', reach: 'unreachable' }])
  expect(t.links).toEqual([
    { a: 'A', b: 'B', up: false, rttAB: 0.4, rttBA: 0.5, error: 'disconnected' },
    { a: 'A', b: 'C', up: false, rttAB: null, rttBA: null, error: 'disconnected' },
  ])
})

test('a host with no links is still drawn (embedded, or heard only through others)', () => {
  expect(topology('A', ['A', 'D'], [status('A', [])])).toEqual({ hosts: [{ id: 'A', reach: 'self' }, { id: 'D', reach: 'up' }], links: [] })
})

test('the stream\'s form names hosts by index and rounds RTTs to three digits', () => {
  const t = topology('A', ['A', 'B'], [status('A', [up('B', 0.123456)]), status('B', [{ peer: 'A', up: false, rttMs: 12.3456, at: 1, error: 'no echo' }])])
  expect(compactTopology(t)).toEqual({ hosts: t.hosts, links: [[0, 1, 0, 0.123, 12.3]], errors: { 0: 'no echo' } })
})
