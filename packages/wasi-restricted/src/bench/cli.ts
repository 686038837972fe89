#!/usr/bin/env node
// `pnpm bench` for @ww/wasi-restricted: node dist/bench/cli.js [overhead] [create] [http] [poll]
import { overhead } from './overhead.js'
import { http } from './http.js'
import { create } from './create.js'
import { poll } from './poll.js'

const all: Record<string, () => Promise<void>> = { overhead: () => overhead(), create: () => create(), http: () => http(), poll: () => poll() }
const pick = process.argv.slice(2)
for (const name of pick.length > 0 ? pick : Object.keys(all)) {
  const run = all[name]
  if (run === undefined) throw new Error(`unknown benchmark ${name}; have ${Object.keys(all).join(', ')}`)
  await run()
}
