// @ww/host's Runtime on a WorkerPool: procRuntime's contract (the host's ProcessTree
// keeps pids, parents and cascading kill; we run each module as a composed guest), with
// every process on a worker. The embedder's `guest` builds each one's composition from
// its start spec: its WASI policy and sinks, its Host (served on the main thread), its
// limits. A child runs on its parent's worker, under it, so kill cascades there too.

import type { CallOptions, RunningProcess, Runtime, StartSpec } from '@ww/interface'
import { withChildGrants } from '../compose/child-grants.js'
import { compileGuestCached } from '../compose/spawn-guest.js'
import { AbortedError } from '../errors.js'
import { ModuleCache } from '../internal/module-cache.js'
import type { Pid } from '../status.js'
import { spawnPoolGuest, type PoolGuestOptions } from './guest.js'
import type { PoolModule } from './options.js'
import type { WorkerPool } from './pool.js'
import type { PoolProcessInfo, RemoteProcess } from './remote-process.js'

export interface PoolRuntimeOptions {
  /** Each process's composition, from its start spec (see procRuntime's `guest`). Default: the default restricted WASI, no Host. */
  guest?: (spec: StartSpec) => Omit<PoolGuestOptions, 'parent' | 'signal'>
  /** Compiled modules kept (default 64, least recently used dropped). */
  cacheSize?: number
}

/** A process as poolRuntime reports it: the host's RunningProcess, where it runs, and its row of its worker's table. */
export interface PoolRunningProcess extends RunningProcess {
  /** Its pid in the pool (the tree has its own). */
  readonly poolPid: Pid
  readonly worker: number
  /** Read on its worker now; undefined once it has exited. */
  info(): Promise<PoolProcessInfo | undefined>
}

export interface PoolRuntime extends Runtime {
  start(spec: StartSpec, call?: CallOptions): Promise<PoolRunningProcess>
}

export function poolRuntime(pool: WorkerPool, opts: PoolRuntimeOptions = {}): PoolRuntime {
  const cache = new ModuleCache<PoolModule>(opts.cacheSize)
  // The tree's pids → our handles, so a child runs under its parent here too.
  const live = new Map<number, RemoteProcess>()
  return {
    async start(spec: StartSpec, call?: CallOptions): Promise<PoolRunningProcess> {
      const g = withChildGrants(opts.guest?.(spec) ?? {}, spec.child)
      const signal = call?.signal
      const mod = await compileGuestCached(cache, pool, spec.bytecode, { ...(g.plugins ? { plugins: g.plugins } : {}), ...(g.entry ? { entry: g.entry } : {}), ...(signal ? { signal } : {}) })
      if (signal?.aborted) throw new AbortedError(`start ${spec.pid}`, { cause: signal.reason })
      const parent = spec.parent === undefined ? undefined : live.get(spec.parent)
      const { worker: _w, ...rest } = g
      const p = await spawnPoolGuest(pool, mod, {
        name: `host-pid-${spec.pid}`, ...rest,
        // A child runs under its parent, hence on its worker; a root wherever the embedder says.
        ...(parent && parent.status === undefined ? { parent } : g.worker !== undefined ? { worker: g.worker } : {}),
      })
      live.set(spec.pid, p.process)
      const exited = p.wait()
      void exited.then(() => live.delete(spec.pid))
      const rpc = p.process.rpc
      return {
        exited, kill: () => { void p.kill() }, poolPid: p.pid, worker: p.worker, info: () => p.info(),
        ...(rpc ? { bootstrap: () => rpc.bootstrapClient() } : {}),
      }
    },
  }
}
