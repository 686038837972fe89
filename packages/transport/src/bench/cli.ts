#!/usr/bin/env node
// `pnpm bench` for @ww/transport: node dist/bench/cli.js [null-call|payload|fuzz-rate|forward …]
import { nullCall } from './null-call.js'
import { payload } from './payload.js'
import { fuzzRate } from './fuzz-rate.js'
import { forward } from './forward.js'

const all: Record<string, () => Promise<void> | void> = {
  'null-call': () => nullCall(),
  payload: () => payload(),
  'fuzz-rate': () => fuzzRate(),
  forward: () => forward(),
}
const pick = process.argv.slice(2)
for (const name of pick.length > 0 ? pick : Object.keys(all)) {
  const run = all[name]
  if (run === undefined) throw new Error(`unknown benchmark ${name}; have ${Object.keys(all).join(', ')}`)
  await run()
}
