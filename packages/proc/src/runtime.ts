// @ww/host's Runtime on this scheduler: the host's ProcessTree keeps the Executor
// contract (its pids, parents from the caller's identity, cascading kill) and asks us to
// run each module. Compiled modules are cached by content, so spawning the same bytes
// again skips metering.

import { createHash } from 'node:crypto'
import type { CallOptions, RunningProcess, Runtime, StartSpec } from '@ww/host'
import { AbortedError } from './errors.js'
import type { ProcModule, Scheduler, SpawnOptions } from './scheduler.js'

export interface ProcRuntimeOptions {
  /** Limits and imports for each process, from its start spec (default: scheduler defaults). */
  spawnOptions?: (spec: StartSpec) => Omit<SpawnOptions, 'parent'>
  /** Compiled modules kept (default 64, least recently used dropped). */
  cacheSize?: number
}

export function procRuntime(scheduler: Scheduler, opts: ProcRuntimeOptions = {}): Runtime {
  const cache = new Map<string, Promise<ProcModule>>()
  const max = opts.cacheSize ?? 64
  const compile = (bytes: Uint8Array): Promise<ProcModule> => {
    const key = createHash('sha256').update(bytes).digest('hex')
    let m = cache.get(key)
    if (m) cache.delete(key)
    else m = scheduler.compile(bytes)
    cache.set(key, m)
    m.catch(() => cache.delete(key))
    while (cache.size > max) cache.delete(cache.keys().next().value!)
    return m
  }
  return {
    async start(spec: StartSpec, call?: CallOptions): Promise<RunningProcess> {
      const mod = await compile(spec.bytecode)
      if (call?.signal?.aborted) throw new AbortedError(`start ${spec.pid}`, { cause: call.signal.reason })
      const h = scheduler.spawn(mod, { name: `host-pid-${spec.pid}`, ...opts.spawnOptions?.(spec) })
      return { exited: h.wait(), kill: () => { void h.kill() } }
    },
  }
}
