// Another host's status message is checked before the web view uses it: malformed rows and
// messages are dropped, counts are numbers, and one message carries a bounded number of rows.
import { MAX_PUBLISHED, parseStatus } from './status.js'

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))

test('keeps well-formed rows, drops the rest, and reads totals as counts', () => {
  const s = parseStatus(enc({
    at: 1,
    processes: [{ pid: 1, parent: 0, state: 'running' }, { pid: '2', parent: 0, state: 'running' }, null, { pid: 3, parent: 1 }],
    ended: [{ pid: 4, parent: 0, status: 'exited 0' }, { pid: 5, parent: 0 }],
    totals: { processes: 2, memoryBytes: -1, cpuMs: 'lots', messages: 7 },
    omitted: 3,
  }))
  expect(s?.processes.map((p) => p.pid)).toEqual([1])
  expect(s?.ended.map((p) => p.pid)).toEqual([4])
  expect(s?.totals).toEqual({ processes: 2, memoryBytes: 0, cpuMs: 0, messages: 7, frames: 0 })
  expect(s?.omitted).toBe(3)
})

test('drops a message that is not a status, or too large', () => {
  expect(parseStatus(enc({ processes: [] }))).toBeUndefined()
  expect(parseStatus(new TextEncoder().encode('{not json'))).toBeUndefined()
  expect(parseStatus(new Uint8Array(256 * 1024 + 1))).toBeUndefined()
  const many = Array.from({ length: MAX_PUBLISHED.live + 10 }, (_, i) => ({ pid: i + 1, parent: 0, state: 'running' }))
  expect(parseStatus(enc({ at: 1, processes: many }))?.processes).toHaveLength(MAX_PUBLISHED.live)
})

test('links and monitors: well-formed ones kept, the rest dropped', () => {
  const s = parseStatus(enc({
    at: 1, processes: [],
    links: [{ peer: 'B', up: true, rttMs: 0.4, at: 5 }, { peer: 'C', up: false, rttMs: null, at: 6, error: 'disconnected' },
      { peer: 'D', up: 'yes', rttMs: 1, at: 1 }, { peer: 'E', up: true, rttMs: -1, at: 1 }, { up: true, rttMs: 1, at: 1 }],
    monitors: [{ by: 'A/1', of: 'B/2' }, { by: 'A/1' }, { by: 7, of: 'B/2' }],
  }))
  expect(s?.links).toEqual([{ peer: 'B', up: true, rttMs: 0.4, at: 5 }, { peer: 'C', up: false, rttMs: null, at: 6, error: 'disconnected' }])
  expect(s?.monitors).toEqual([{ by: 'A/1', of: 'B/2' }])
  // An older host's message, without either: none.
  expect(parseStatus(enc({ at: 1, processes: [] }))).toMatchObject({ links: [], monitors: [] })
})
