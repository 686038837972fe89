// Benchmarks of @ww/proc: `pnpm bench` (results in <repo>/bench/results).
import { benchMetering } from './metering.js'
import { benchScheduler } from './scheduler.js'
import { benchIdle } from './idle.js'

const only = process.argv[2]
if (!only || only === 'metering') await benchMetering()
if (!only || (only !== 'metering' && only !== 'idle')) await benchScheduler(only)
if (!only || only === 'idle') await benchIdle()
