import { Reorder, type RepairReply } from './reorder.js'

const d = new Uint8Array([1])
/** Resolves after every timer due within `ms` from now has run (Node runs timers in expiry order). */
const past = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms + 5))
const settled = (): Promise<void> => new Promise((r) => setImmediate(r))
/** Waits until `cond` holds (a chain of timers has run), up to 30 s. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 6000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5))
}

/** A Reorder whose repairs wait until the test answers them. */
function rig(windowMs = 5, maxAttempts = 3) {
  const got: number[] = []
  const asks: Array<{ ranges: ReadonlyArray<readonly [number, number]>; answer: (r: RepairReply | undefined) => void }> = []
  const r = new Reorder((s) => got.push(s), windowMs, 4096, (ranges) => new Promise((answer) => asks.push({ ranges, answer })), maxAttempts)
  return { r, got, asks }
}

/** A Reorder with an opening request the test answers. */
function opening() {
  const got: number[] = []
  const opens: Array<{ first: number; answer: (r: RepairReply | undefined) => void }> = []
  const r = new Reorder((s) => got.push(s), 60_000, 4096, undefined, 3, (first) => new Promise((answer) => opens.push({ first, answer })))
  return { r, got, opens }
}

test('opening: what comes while the publisher is asked is held; its answer starts the stream, in order', async () => {
  const { r, got, opens } = opening()
  r.accept(5, d)
  r.accept(6, d)
  expect(opens.map((o) => o.first)).toEqual([5]) // asked once
  expect(got).toEqual([])
  opens[0]!.answer({ entries: [{ seq: 3, data: d }, { seq: 4, data: d }], through: 4, head: 6 })
  await settled()
  expect(got).toEqual([3, 4, 5, 6])
  expect([r.gaps, r.repaired]).toEqual([0, 2])
  r.accept(7, d)
  expect(got).toEqual([3, 4, 5, 6, 7])
  r.close()
})

test('opening: no answer starts at the first seen; a stream seen first at seq 1 or by its head asks accordingly', async () => {
  const a = opening()
  a.r.accept(9, d)
  a.opens[0]!.answer(undefined)
  await settled()
  expect(a.got).toEqual([9])
  expect(a.r.gaps).toBe(0)
  const b = opening()
  b.r.accept(1, d)
  expect(b.opens).toEqual([]) // nothing before 1
  expect(b.got).toEqual([1])
  const c = opening()
  c.r.head(4) // a quiet stream's marker: ask for 1-4
  expect(c.opens.map((o) => o.first)).toEqual([5])
  c.opens[0]!.answer({ entries: [{ seq: 4, data: d }], through: 4, head: 4 })
  await settled()
  expect(c.got).toEqual([4])
  for (const x of [a, b, c]) x.r.close()
})

test('a repair that never settles does not hold the stream: after its windows the gap is skipped and counted', async () => {
  const got: number[] = []
  let asked = 0
  const r = new Reorder((s) => got.push(s), 2, 4096, () => { asked++; return new Promise<RepairReply | undefined>(() => {}) }, 1)
  r.accept(1, d)
  r.accept(3, d)
  await until(() => got.length === 2) // after ten windows, however long the machine takes
  expect(got).toEqual([1, 3])
  expect([r.gaps, asked]).toEqual([1, 1])
  r.close()
})

test('an opening that never settles starts the stream at the first seen', async () => {
  const got: number[] = []
  const r = new Reorder((s) => got.push(s), 2, 4096, undefined, 3, () => new Promise<RepairReply | undefined>(() => {}))
  r.accept(4, d)
  r.accept(5, d)
  expect(got).toEqual([])
  await until(() => got.length === 2)
  expect(got).toEqual([4, 5])
  expect(r.gaps).toBe(0)
  r.close()
})

test('a hole is asked for at once; the window waits for the repair in flight; the answer is delivered in order', async () => {
  const { r, got, asks } = rig()
  r.accept(1, d)
  r.accept(3, d)
  expect(asks.map((a) => a.ranges)).toEqual([[[2, 2]]])
  await past(5 * 4) // the window's end has passed
  expect(got).toEqual([1])
  expect(r.gaps).toBe(0)
  asks[0]!.answer({ entries: [{ seq: 2, data: d }], through: 2, head: 3 })
  await settled()
  expect(got).toEqual([1, 2, 3])
  expect([r.gaps, r.repaired]).toEqual([0, 1])
  r.close()
})

test('a copy arriving by gossipsub and by repair is delivered once', async () => {
  const { r, got, asks } = rig()
  r.accept(1, d)
  r.accept(3, d)
  r.accept(2, d) // the gossip copy came after all
  asks[0]!.answer({ entries: [{ seq: 2, data: d }], through: 2, head: 3 })
  await settled()
  r.accept(3, d)
  expect(got).toEqual([1, 2, 3])
  expect(r.repaired).toBe(0)
  r.close()
})

test('what the publisher answers as gone is skipped at once and counted', async () => {
  const { r, got, asks } = rig(60_000)
  r.accept(1, d)
  r.accept(5, d)
  expect(asks[0]!.ranges).toEqual([[2, 4]])
  asks[0]!.answer({ entries: [{ seq: 4, data: d }], through: 4, head: 5 })
  await settled()
  expect(got).toEqual([1, 4, 5])
  expect(r.gaps).toBe(1)
  r.close()
})

test('a head past the last delivered (the tail) is asked for; a stream first seen by its head starts after it', async () => {
  const { r, got, asks } = rig(60_000)
  r.head(7)
  expect(asks).toEqual([]) // no history
  r.accept(8, d)
  r.head(10)
  expect(asks.map((a) => a.ranges)).toEqual([[[9, 10]]])
  asks[0]!.answer({ entries: [{ seq: 9, data: d }, { seq: 10, data: d }], through: 10, head: 10 })
  await settled()
  expect(got).toEqual([8, 9, 10])
  r.close()
})

test('a repair that fails is tried again at the window\'s end, up to its attempts; then the gap is skipped and the stream goes on', async () => {
  const { r, got, asks } = rig(5, 2)
  r.accept(1, d)
  r.accept(3, d)
  asks[0]!.answer(undefined) // no route
  await settled()
  await past(5)
  expect(asks).toHaveLength(2)
  asks[1]!.answer(undefined)
  await settled()
  await past(5)
  expect(asks).toHaveLength(2) // attempts spent: skipped
  expect(got).toEqual([1, 3])
  expect(r.gaps).toBe(1)
  r.accept(4, d)
  expect(got).toEqual([1, 3, 4])
  r.close()
})
