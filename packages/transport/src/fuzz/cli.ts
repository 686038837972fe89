// `pnpm fuzz`: WW_FUZZ_FRAMES frames (default 1,000,000), WW_FUZZ_SEED, prints frames/s.
import { runFuzz } from './run.js'

const frames = Number(process.env.WW_FUZZ_FRAMES ?? 1_000_000)
const seed = Number(process.env.WW_FUZZ_SEED ?? Date.now() % 2 ** 31)
const chunk = 100_000
let done = 0
let seconds = 0
const outcomes: Record<string, number> = {}
console.log(`fuzzing ${frames} frames, seed ${seed}`)
while (done < frames) {
  const n = Math.min(chunk, frames - done)
  const r = runFuzz(n, seed + done)
  done += n
  seconds += r.seconds
  for (const [k, v] of Object.entries(r.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + v
  console.log(`${done} frames, ${Math.round(done / seconds)} frames/s`)
}
console.log(JSON.stringify({ frames: done, seconds: +seconds.toFixed(2), framesPerSecond: Math.round(done / seconds), outcomes }))
