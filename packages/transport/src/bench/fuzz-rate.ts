// transport.fuzz-rate: frames/s of the RPC-core fuzz harness (random and mutated frames
// through readFrame and RpcConnection.receive).

import { report } from '@ww/bench-kit'
import { measureFuzzRate } from '../fuzz/run.js'

export function fuzzRate(frames = 20_000, runs = 5): void {
  measureFuzzRate(2000) // warm-up
  const samples: number[] = []
  for (let i = 0; i < runs; i++) samples.push(measureFuzzRate(frames, 42 + i))
  report({ name: 'transport.fuzz-rate', unit: 'frames/s', samples, higherIsBetter: true, params: { frames, harness: 'src/fuzz/run.ts' } })
}
