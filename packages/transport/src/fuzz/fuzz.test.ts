import fc from 'fast-check'
import { feed, frameArbitrary, runFuzz } from './run.js'
import { seedFrames } from './seeds.js'

describe('fuzz', () => {
  it('every seed frame is accepted by readFrame', () => {
    for (const s of seedFrames()) expect(feed(s)).not.toMatch(/ERR_BAD_FRAME|ERR_LIMIT/)
  })

  it('random and mutated frames only ever produce typed errors', () => {
    const r = runFuzz(Number(process.env.WW_FUZZ_TEST_FRAMES ?? 5000), 1234)
    // the corpus reaches the decoder and the RPC layer, not just the header checks
    expect(r.outcomes.ok).toBeGreaterThan(100)
    expect(r.outcomes.ERR_BAD_FRAME).toBeGreaterThan(100)
    expect(r.outcomes.ERR_RPC_PROTOCOL).toBeGreaterThan(0)
  })

  it('a feed that lets a foreign error out is caught', () => {
    // the harness itself must be able to fail: a frame arbitrary sample goes through
    fc.assert(fc.property(frameArbitrary(), (f) => typeof feed(f) === 'string'), { numRuns: 50 })
  })
})
