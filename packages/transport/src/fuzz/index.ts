export { runFuzz, measureFuzzRate, feed, frameArbitrary, type FuzzResult } from './run.js'
export { seedFrames } from './seeds.js'
