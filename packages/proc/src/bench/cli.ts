// Benchmarks of @ww/proc: `pnpm bench` (results in <repo>/bench/results).
import { benchMetering } from './metering.js'
import { benchScheduler } from './scheduler.js'
import { benchIdle } from './idle.js'
import { benchCompose } from './compose.js'
import { benchStartup } from './startup.js'

const only = process.argv[2]
if (!only || only === 'metering') await benchMetering()
if (!only || (only !== 'metering' && only !== 'idle' && only !== 'compose' && only !== 'parallel' && only !== 'serve' && only !== 'hibernate' && only !== 'startup' && only !== 'slowdown' && only !== 'sock')) await benchScheduler(only)
if (!only || only === 'compose') await benchCompose()
if (!only || only === 'idle') await benchIdle()
if (!only || only === 'parallel') await (await import('../workers/bench.js')).benchParallel()
if (!only || only === 'serve') await (await import('./serve.js')).benchServe()
if (!only || only === 'serve' || only === 'hibernate') await (await import('./hibernate-serve.js')).benchHibernateServe()
if (!only || only === 'startup') await benchStartup()
if (!only || only === 'sock') await (await import('../workers/bench-sock.js')).benchSock()
if (only === 'slowdown') await (await import('./startup.js')).benchSlowdownOnly()
