// Benchmarks of @ww/proc: `pnpm bench` (results in <repo>/bench/results).
import { benchMetering } from './metering.js'
import { benchScheduler } from './scheduler.js'

const only = process.argv[2]
if (!only || only === 'metering') await benchMetering()
if (!only || only !== 'metering') await benchScheduler(only)
