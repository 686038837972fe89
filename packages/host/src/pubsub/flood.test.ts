import { DEFAULT_FLOOD_LIMIT, FloodLimiter, RECEIVE_SLACK_SECONDS, type FloodLimit } from './flood.js'

const limit: FloodLimit = { messagesPerSecond: 100, bytesPerSecond: 10_000, framesPerSecond: 10, burstSeconds: 1, peerRpcsPerSecond: 40, peerBytesPerSecond: 40_000 }
/** A limiter on a clock the test moves. */
const rig = (l = limit) => {
  let now = 0
  return { f: new FloodLimiter(l, () => now), advance: (ms: number) => { now += ms } }
}

describe('flood limiter (per author and topic)', () => {
  test('a burst of (burst + slack) seconds of frames passes, the next is dropped and counted', () => {
    const { f } = rig()
    const capacity = limit.framesPerSecond * (limit.burstSeconds + RECEIVE_SLACK_SECONDS)
    for (let i = 0; i < capacity; i++) expect(f.admit('p', 't', 1, 10, true)).toBe(true)
    expect(f.admit('p', 't', 1, 10, true)).toBe(false)
    expect(f.drops().get('p')).toEqual({ frames: 1, messages: 1, bytes: 10 })
    // Other authors and other topics have buckets of their own.
    expect(f.admit('q', 't', 1, 10, true)).toBe(true)
    expect(f.admit('p', 'u', 1, 10, true)).toBe(true)
  })

  test('the buckets refill at the rate, never above the burst', () => {
    const { f, advance } = rig()
    while (f.admit('p', 't', 1, 1, true));
    advance(100) // one frame's worth at 10/s
    expect(f.admit('p', 't', 1, 1, true)).toBe(true)
    expect(f.admit('p', 't', 1, 1, true)).toBe(false)
    advance(3_600_000)
    let n = 0
    while (f.admit('p', 't', 1, 1, true)) n++
    expect(n).toBe(limit.framesPerSecond * (limit.burstSeconds + RECEIVE_SLACK_SECONDS))
  })

  test('messages and bytes are limited too; one frame larger than a burst passes when the bucket is full, then is paid for', () => {
    const { f, advance } = rig()
    expect(f.admit('p', 't', 150, 10, true)).toBe(true) // 200 messages of room: 50 left
    expect(f.admit('p', 't', 60, 10, true)).toBe(false)
    expect(f.admit('p', 't', 50, 10, true)).toBe(true)
    expect(f.admit('p', 't', 1, 10, true)).toBe(false)
    advance(10) // +1 message
    expect(f.admit('p', 't', 1, 10, true)).toBe(true)
    expect(f.admit('q', 't', 1, 50_000, true)).toBe(true) // room for 20,000 bytes: overdrawn by 30,000
    advance(3000) // back to 0
    expect(f.admit('q', 't', 1, 1, true)).toBe(false)
    advance(1)
    expect(f.admit('q', 't', 1, 1, true)).toBe(true)
  })

  test('only what an author sent directly costs it score; the penalty halves each second', () => {
    const { f, advance } = rig()
    while (f.admit('p', 't', 1, 1, false));
    for (let i = 0; i < 9; i++) f.admit('p', 't', 1, 1, false)
    expect(f.drops().get('p')?.frames).toBe(10)
    expect(f.penalty('p')).toBe(0)
    for (let i = 0; i < 8; i++) f.admit('p', 't', 1, 1, true)
    expect(f.penalty('p')).toBe(8)
    advance(1000)
    expect(f.penalty('p')).toBeCloseTo(4)
    advance(60_000)
    f.sweep()
    expect(f.penalty('p')).toBe(0)
  })

  test('a local publisher: burstSeconds of messages, no slack, frames not counted', () => {
    const { f, advance } = rig()
    for (let i = 0; i < limit.messagesPerSecond * limit.burstSeconds; i++) expect(f.admitLocal('t', 1)).toBe(true)
    expect(f.admitLocal('t', 1)).toBe(false)
    expect(f.admitLocal('u', 1)).toBe(true)
    advance(10)
    expect(f.admitLocal('t', 1)).toBe(true)
    expect(f.drops().size).toBe(0)
  })

  test('bad limits are refused; the default is a sane one', () => {
    expect(() => new FloodLimiter({ ...limit, framesPerSecond: 0 })).toThrow(/framesPerSecond must be a number above 0/)
    expect(() => new FloodLimiter({ ...limit, messagesPerSecond: NaN })).toThrow(RangeError)
    expect(new FloodLimiter(DEFAULT_FLOOD_LIMIT).limit.messagesPerSecond).toBeGreaterThanOrEqual(10_000)
  })
})
