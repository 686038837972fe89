// @ww/host's Runtime on this scheduler: the host's ProcessTree keeps the Executor
// contract (its pids, parents from the caller's identity, cascading kill) and asks us to
// run each module as a guest process — its restricted WASI, its transport, and the Host
// capability the embedder builds for it (with `spec.executor`, which the tree bound to
// this very process: whatever it spawns through it is its child). Compiled modules are
// cached by content, so spawning the same bytes again skips metering.

import type { CallOptions, RunningProcess, Runtime, StartSpec } from '@ww/interface'
import { compileGuestCached, spawnGuest, type GuestOptions } from './compose/spawn-guest.js'
import { withChildGrants } from './compose/child-grants.js'
import { AbortedError } from './errors.js'
import type { ProcessHandle, ProcessInfo } from './handle.js'
import type { ProcModule, Scheduler } from './scheduler.js'
import { ModuleCache } from './internal/module-cache.js'

export interface ProcRuntimeOptions {
  /**
   * Each process's composition, from its start spec: WASI policy and stdio sinks, its
   * Host capability (`host`; `childHostCapability(cluster, spec)` builds the one its
   * spawner asked for — rights, overrides, caps in its BootContext, `spec.executor` so it
   * spawns its own children), limits, plugins. Default: the default restricted WASI, no
   * Host (a module importing `ww` then fails to start).
   */
  guest?: (spec: StartSpec) => Omit<GuestOptions, 'parent' | 'signal'>
  /** Compiled modules kept (default 64, least recently used dropped). */
  cacheSize?: number
}

/** A process as procRuntime reports it: the host's RunningProcess plus its row of our process table. */
export interface ProcRunningProcess extends RunningProcess {
  /** CPU time, memory, RPC frames, WASI denials… (see ProcessInfo); also after exit. */
  info(): ProcessInfo
}

export interface ProcRuntime extends Runtime {
  start(spec: StartSpec, call?: CallOptions): Promise<ProcRunningProcess>
}

export function procRuntime(scheduler: Scheduler, opts: ProcRuntimeOptions = {}): ProcRuntime {
  const cache = new ModuleCache<ProcModule>(opts.cacheSize)
  // The tree's pids → our handles, so a child runs under its parent here too (ps shows it).
  const live = new Map<number, ProcessHandle>()
  return {
    async start(spec: StartSpec, call?: CallOptions): Promise<ProcRunningProcess> {
      const g = withChildGrants(opts.guest?.(spec) ?? {}, spec.child)
      const signal = call?.signal
      const mod = await compileGuestCached(cache, scheduler, spec.bytecode, { ...(g.plugins ? { plugins: g.plugins } : {}), ...(g.entry ? { entry: g.entry } : {}), ...(signal ? { signal } : {}) })
      if (signal?.aborted) throw new AbortedError(`start ${spec.pid}`, { cause: signal.reason })
      const parent = spec.parent === undefined ? undefined : live.get(spec.parent)
      const p = spawnGuest(scheduler, mod, { name: `host-pid-${spec.pid}`, ...g, ...(parent && !parent.status ? { parent } : {}) })
      live.set(spec.pid, p.handle)
      const exited = p.wait()
      void exited.then(() => live.delete(spec.pid))
      // A guest offers a capability with Session.offer; it is asked over its own connection.
      const conn = p.connection
      return {
        exited, kill: () => { void p.kill() }, info: () => p.info(),
        ...(conn ? { bootstrap: () => conn.rpc.bootstrapClient() } : {}),
      }
    },
  }
}
