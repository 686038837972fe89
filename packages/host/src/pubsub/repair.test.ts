import {
  MAX_REPAIR_RANGES, OPEN_END, RepairWindows, decodeRepairAnswer, decodeRepairRequest, encodeRepairAnswer, encodeRepairRequest,
  type RepairRequest,
} from './repair.js'

const b = (n: number, fill = 1): Uint8Array => new Uint8Array(n).fill(fill)
const seqs = (w: RepairWindows, req: RepairRequest): { seqs: number[]; through: number } => {
  const a = w.answer(req)
  return { seqs: a.entries.map((e) => e.seq), through: a.through }
}

describe('the publisher\'s repair window', () => {
  test('keeps the last messages within its count and byte bounds; older ones are answered as gone', () => {
    const w = new RepairWindows(5, { messages: 3, bytes: 100 })
    for (let s = 1; s <= 6; s++) w.add('t', s, b(10))
    expect(seqs(w, { topic: 't', epoch: 5, ranges: [[1, 6]] })).toEqual({ seqs: [4, 5, 6], through: 6 })
    w.add('t', 7, b(90)) // 6 and 7 are 100 bytes: 4 and 5 fall out
    expect(seqs(w, { topic: 't', epoch: 5, ranges: [[1, 7]] })).toEqual({ seqs: [6, 7], through: 7 })
    w.add('t', 8, b(101)) // larger than the window: not kept, the others stay
    expect(seqs(w, { topic: 't', epoch: 5, ranges: [[1, OPEN_END]] })).toEqual({ seqs: [6, 7], through: 8 })
  })

  test('a request bounded by age (a stream\'s opening) gets only what was published within it; older is gone', () => {
    let now = 0
    const w = new RepairWindows(5, {}, () => now)
    for (let s = 1; s <= 4; s++) { now = s * 1000; w.add('t', s, b(1)) }
    now = 4500 // 1, 2, 3 published 3.5, 2.5, 1.5 s ago; 4 half a second ago
    expect(seqs(w, { topic: 't', epoch: 5, ranges: [[1, 4]], withinMs: 2000 })).toEqual({ seqs: [3, 4], through: 4 })
    expect(seqs(w, { topic: 't', epoch: 5, ranges: [[1, 4]], withinMs: 100 })).toEqual({ seqs: [], through: 4 })
  })

  test('answers only the ranges asked, never past its head; another epoch or a topic not kept: nothing', () => {
    const w = new RepairWindows(5)
    for (let s = 1; s <= 10; s++) w.add('t', s, b(1, s))
    expect(seqs(w, { topic: 't', epoch: 5, ranges: [[2, 3], [7, 7], [9, 20]] })).toEqual({ seqs: [2, 3, 7, 9, 10], through: 10 })
    expect(w.answer({ topic: 't', epoch: 4, ranges: [[1, 3]] })).toEqual({ epoch: 5, head: 10, through: 0, entries: [] })
    expect(w.answer({ topic: 'u', epoch: 5, ranges: [[1, 3]] })).toEqual({ epoch: 5, head: 0, through: 3, entries: [] })
  })

  test('is bounded in topics: the least recently published on is forgotten', () => {
    const w = new RepairWindows(1, { topics: 2 })
    w.add('a', 1, b(1)); w.add('b', 1, b(1)); w.add('a', 2, b(1)); w.add('c', 1, b(1))
    expect(w.answer({ topic: 'b', epoch: 1, ranges: [[1, 1]] }).head).toBe(0)
    expect(w.answer({ topic: 'a', epoch: 1, ranges: [[1, 2]] }).entries).toHaveLength(2)
  })

  test('one answer carries at most 1 MiB: the rest is answered later (through stops at the last sent)', () => {
    const w = new RepairWindows(1, { bytes: 4 * 1024 * 1024 })
    for (let s = 1; s <= 5; s++) w.add('t', s, b(400 * 1024))
    expect(seqs(w, { topic: 't', epoch: 1, ranges: [[1, 5]] })).toEqual({ seqs: [1, 2], through: 2 })
  })

  test('head markers: after the last publish, each due once, then none until the next publish', () => {
    let now = 0
    const w = new RepairWindows(1, {}, () => now)
    w.add('t', 3, b(1))
    const delays = [10, 20]
    expect(w.dueMarkers(delays)).toEqual([])
    now = 10
    expect(w.dueMarkers(delays)).toEqual([{ topic: 't', head: 3 }])
    expect(w.dueMarkers(delays)).toEqual([])
    now = 25
    expect(w.dueMarkers(delays)).toEqual([{ topic: 't', head: 3 }])
    expect(w.pendingMarkers(delays)).toBe(false)
    w.add('t', 4, b(1))
    expect(w.pendingMarkers(delays)).toBe(true)
  })
})

describe('the repair wire format', () => {
  const req: RepairRequest = { topic: 'news', epoch: 1_700_000_000_000, ranges: [[2, 4], [9, OPEN_END]] }

  test('a request round-trips; malformed ones are refused with a reason', () => {
    expect(decodeRepairRequest(encodeRepairRequest(req))).toEqual(req)
    const opening: RepairRequest = { ...req, ranges: [[1, 8]], withinMs: 12_345 }
    expect(decodeRepairRequest(encodeRepairRequest(opening))).toEqual(opening)
    expect(typeof decodeRepairRequest(encodeRepairRequest(opening).subarray(0, -1))).toBe('string') // its age cut off
    const tooMany = { ...req, ranges: Array.from({ length: MAX_REPAIR_RANGES + 1 }, (_, i) => [i * 2 + 1, i * 2 + 1] as const) }
    for (const bad of [
      new Uint8Array(0), encodeRepairRequest(req).subarray(0, 10), encodeRepairRequest({ ...req, ranges: [] }),
      encodeRepairRequest(tooMany), encodeRepairRequest({ ...req, ranges: [[5, 4]] }), encodeRepairRequest({ ...req, ranges: [[0, 1]] }),
      encodeRepairRequest({ ...req, ranges: [[2, 4], [4, 6]] }), new Uint8Array(5000),
    ]) expect(typeof decodeRepairRequest(bad)).toBe('string')
  })

  test('an answer holding only what was asked is taken; one with a seq not asked, or past what was asked, is a forgery', () => {
    const asked: RepairRequest = { topic: 'news', epoch: 7, ranges: [[2, 4]] }
    const ok = decodeRepairAnswer(encodeRepairAnswer({ epoch: 7, head: 9, through: 4, entries: [{ seq: 3, data: b(2) }] }), asked)
    expect(ok).toMatchObject({ epoch: 7, head: 9, through: 4, entries: [{ seq: 3 }] })
    expect(decodeRepairAnswer(encodeRepairAnswer({ epoch: 7, head: 9, through: 4, entries: [{ seq: 5, data: b(2) }] }), asked)).toEqual({ refused: 'seq 5 was not asked for', forged: true })
    expect(decodeRepairAnswer(encodeRepairAnswer({ epoch: 7, head: 9, through: 9, entries: [] }), asked)).toMatchObject({ forged: true })
    expect(decodeRepairAnswer(encodeRepairAnswer({ epoch: 8, head: 9, through: 4, entries: [{ seq: 3, data: b(2) }] }), asked)).toMatchObject({ forged: true })
    expect(decodeRepairAnswer(encodeRepairAnswer({ epoch: 8, head: 1, through: 0, entries: [] }), asked)).toMatchObject({ epoch: 8, entries: [] })
    expect(decodeRepairAnswer(new Uint8Array(3), asked)).toEqual({ refused: 'not a repair answer', forged: false })
  })
})
