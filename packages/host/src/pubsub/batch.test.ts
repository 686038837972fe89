import { Batcher, countBatch, decodeBatch, decodeFrame, encodeBatch } from './batch.js'

const tick = (): Promise<void> => new Promise((r) => setImmediate(r))
const b = (...xs: number[]): Uint8Array => new Uint8Array(xs)

describe('pubsub batch framing', () => {
  test('round-trips seqs (beyond 2^32) and bytes, in order, including empty payloads', () => {
    const entries = [
      { seq: 1, data: b(1, 2, 3) },
      { seq: 2, data: b() },
      { seq: 2 ** 40 + 7, data: new Uint8Array(300).fill(9) },
    ]
    const got = decodeBatch(encodeBatch(entries))
    expect(got?.map((e) => e.seq)).toEqual([1, 2, 2 ** 40 + 7])
    expect(got?.map((e) => [...e.data])).toEqual(entries.map((e) => [...e.data]))
  })

  test('rejects malformed frames whole: wrong version, truncated header or payload, empty', () => {
    const good = encodeBatch([{ seq: 1, data: b(1, 2) }, { seq: 2, data: b(3) }])
    expect(decodeBatch(good)).toHaveLength(2)
    expect(decodeBatch(new Uint8Array(0))).toBeUndefined()
    const badVersion = good.slice(); badVersion[0] = 1
    expect(decodeBatch(badVersion)).toBeUndefined()
    expect(decodeBatch(good.subarray(0, good.byteLength - 1))).toBeUndefined() // payload cut
    expect(decodeBatch(good.subarray(0, 17 + 12 + 2 + 5))).toBeUndefined() // header cut
    const long = good.slice(); new DataView(long.buffer).setUint32(17 + 8, 1000)
    expect(decodeBatch(long)).toBeUndefined()
  })

  test('carries the publisher\'s epoch and head; a marker has no entries; seqs must increase up to the head', () => {
    expect(decodeFrame(encodeBatch([{ seq: 4, data: b(1) }], { epoch: 1_700_000_000_000, head: 4 })))
      .toEqual({ epoch: 1_700_000_000_000, head: 4, entries: [{ seq: 4, data: b(1) }] })
    const marker = encodeBatch([], { epoch: 9, head: 12 })
    expect(decodeFrame(marker)).toEqual({ epoch: 9, head: 12, entries: [] })
    expect(countBatch(marker)).toBe(0)
    for (const bad of [
      encodeBatch([{ seq: 2, data: b() }, { seq: 2, data: b() }]), // repeated
      encodeBatch([{ seq: 3, data: b() }, { seq: 2, data: b() }]), // backwards
      encodeBatch([{ seq: 5, data: b() }], { epoch: 1, head: 4 }), // past its head
    ]) {
      expect(decodeFrame(bad)).toBeUndefined()
      expect(countBatch(bad)).toBeUndefined()
    }
  })
})

describe('Batcher', () => {
  test('messages added within one tick leave as one frame, in order; the next tick starts another', async () => {
    const frames: Uint8Array[] = []
    const bt = new Batcher((f) => frames.push(f))
    for (let i = 1; i <= 5; i++) {
      bt.add(i, b(i))
      await Promise.resolve() // promise continuations stay within the tick
    }
    expect(frames).toHaveLength(0)
    await tick()
    expect(frames).toHaveLength(1)
    expect(decodeBatch(frames[0]!)?.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5])
    bt.add(6, b(6))
    await tick()
    expect(frames.map((f) => decodeBatch(f)!.map((e) => e.seq))).toEqual([[1, 2, 3, 4, 5], [6]])
  })

  test('is bounded by messages and by bytes; a message over the byte bound goes alone', async () => {
    const frames: Uint8Array[] = []
    const bt = new Batcher((f) => frames.push(f), { maxMessages: 3, maxBytes: 100 })
    for (let i = 1; i <= 7; i++) bt.add(i, b(i))
    expect(frames).toHaveLength(2) // flushed synchronously at 3 and 6
    bt.add(8, new Uint8Array(60))
    bt.add(9, new Uint8Array(60)) // 1 + 60 + 60 > 100: [7, 8] leaves first
    bt.add(10, new Uint8Array(500)) // [9] leaves, then [10] at once (over the bound)
    bt.add(11, b(11))
    await tick()
    const seqs = frames.map((f) => decodeBatch(f)!.map((e) => e.seq))
    expect(seqs).toEqual([[1, 2, 3], [4, 5, 6], [7, 8], [9], [10], [11]])
    for (const f of frames) expect(decodeBatch(f)!.length).toBeLessThanOrEqual(3)
  })

  test('close sends what is pending and drops later adds', async () => {
    const frames: Uint8Array[] = []
    const bt = new Batcher((f) => frames.push(f))
    bt.add(1, b(1))
    bt.close()
    expect(frames.map((f) => decodeBatch(f)!.map((e) => e.seq))).toEqual([[1]])
    bt.add(2, b(2))
    await tick()
    expect(frames).toHaveLength(1)
  })

  test('countBatch counts what decodeBatch decodes and refuses what it refuses', () => {
    const good = encodeBatch([{ seq: 1, data: b(1, 2) }, { seq: 2, data: b() }, { seq: 3, data: b(3) }])
    expect(countBatch(good)).toBe(3)
    expect(countBatch(encodeBatch([]))).toBe(0)
    for (const bad of [new Uint8Array(0), good.subarray(0, good.byteLength - 1), good.subarray(0, 5)]) {
      expect(decodeBatch(bad)).toBeUndefined()
      expect(countBatch(bad)).toBeUndefined()
    }
    const unsafe = good.slice(); new DataView(unsafe.buffer).setUint32(1, 2 ** 21)
    expect(decodeBatch(unsafe)).toBeUndefined()
    expect(countBatch(unsafe)).toBeUndefined()
  })

  test('minIntervalMs: a batch due by time right after another waits; size still sends at once; close sends what waits', async () => {
    const frames: number[] = []
    const batcher = new Batcher((f) => { frames.push(decodeBatch(f)!.length) }, { maxBytes: 1 << 20, maxMessages: 3, minIntervalMs: 60_000 })
    batcher.add(1, b(1))
    await tick()
    expect(frames).toEqual([1]) // the first goes at the end of its tick
    batcher.add(2, b(2))
    await tick()
    expect(frames).toEqual([1]) // the next waits out the interval
    batcher.add(3, b(3)); batcher.add(4, b(4))
    expect(frames).toEqual([1, 3]) // full: sent at once
    batcher.add(5, b(5))
    batcher.close()
    expect(frames).toEqual([1, 3, 1])
  })
})
