// The Debug server (debug.capnp): read-only introspection of one host — versions,
// machine facts, every counter, every process. A Host offers it only with the `debug`
// right asked for explicitly (never by default) and a provider behind it.

import os from 'node:os'
import { common, debug as capDebug } from '@ww/schema'
import type { ClientLike } from 'capnp-ts'
import type { Libp2pCluster } from '../cluster/libp2p.js'
import type { Cluster } from '../cluster/types.js'
import type { ProcessTree } from '../exec/process-tree.js'
import type { Pid } from '../exec/types.js'
import { VERSION } from '../version.js'
import { guard } from './guard.js'
import type { CapabilityProvider, ProcessIdentity } from './host.js'
import { writeProcessList } from './process.js'
import { Scope } from './scope.js'

/**
 * What the runtime knows of one live process and the tree does not: Debug.ps's counters.
 * Every field is optional; one left out reads as 0 (`worker`: as the host's own thread).
 */
export interface ProcessStats {
  /** CPU time spent in its slices. */
  cpuTimeNs?: number | bigint
  /** Current linear memory size. */
  memoryBytes?: number | bigint
  /** RPC frames on its connection to the host: received by the process, sent by it. */
  messagesIn?: number | bigint
  messagesOut?: number | bigint
  /** WASI calls its policy refused, by function name. */
  denials?: Readonly<Record<string, number>>
  /** Fuel consumed, where the runtime meters. */
  fuel?: number | bigint
  /** The worker thread it runs on (absent: the host's own thread). */
  worker?: number
}

export interface DebugOptions {
  cluster: Cluster
  tree?: ProcessTree
  /**
   * The runtime's counters for a process of this host, by its tree pid (undefined: none
   * known). Called once per listed process on each Debug.ps, so it should be a lookup.
   */
  processStats?: (pid: Pid) => ProcessStats | undefined
  /** More counters from the embedder (scheduler, transport, WASI denials), merged in. */
  counters?: () => Record<string, number | bigint>
  /** How guests wait; default "jspi" where WebAssembly.Suspending exists, else "asyncify". */
  suspender?: string
  /** Worker threads running guests (default 0: all on the main thread). */
  workers?: number
}

/** Every counter this host keeps, by name (sorted). */
export function hostCounters(o: DebugOptions): Array<[string, bigint]> {
  const out: Record<string, number | bigint> = {}
  const add = (prefix: string, rec: object): void => {
    for (const [k, v] of Object.entries(rec)) if (typeof v === 'number' || typeof v === 'bigint') out[`${prefix}.${k}`] = v
  }
  if (o.tree) add('exec', o.tree.counters())
  add('pubsub', o.cluster.pubsub.stats())
  add('cache', o.cluster.cache.stats())
  out['cluster.hosts'] = o.cluster.view.hosts().length
  if (o.cluster.kind === 'libp2p') {
    const l = o.cluster as Libp2pCluster
    add('peer', l.rpc.stats())
    out['pubsub.gaps'] = l.gaps()
    add('pubsub.repair', l.pubsubRepair())
  }
  if (o.counters) Object.assign(out, o.counters())
  return Object.entries(out)
    .map(([k, v]): [string, bigint] => [k, typeof v === 'bigint' ? v : BigInt(Math.max(0, Math.floor(v)))])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

function writeCounters(l: { get(i: number): common.Counter }, list: Array<[string, bigint]>): void {
  list.forEach(([k, v], i) => { const c = l.get(i); c.setName(k); c.setValue(v) })
}

export function debugServer(o: DebugOptions, scope: Scope): capDebug.Debug$Server {
  const started = Date.now()
  return new capDebug.Debug.Server(guard(scope, 'debug', {
    sysInfo(_p, r) {
      const i = r.initInfo()
      const self = o.cluster.view.get(o.cluster.id)
      i.setHost(o.cluster.id)
      i.setVersion(VERSION)
      i.setNode(process.version)
      i.setV8(process.versions.v8)
      i.setPlatform(process.platform)
      i.setArch(process.arch)
      i.setCpus(os.availableParallelism())
      i.setWorkers(o.workers ?? 0)
      i.setUptimeMs(BigInt(Math.floor(self?.uptimeMs ?? Date.now() - started)))
      i.setSuspender(o.suspender ?? ('Suspending' in WebAssembly ? 'jspi' : 'asyncify'))
      i.setCluster(o.cluster.kind)
      const mem = process.memoryUsage()
      i.setMemoryRss(BigInt(mem.rss))
      i.setMemoryHeapUsed(BigInt(mem.heapUsed))
      const all = hostCounters(o)
      writeCounters(i.initCounters(all.length), all)
    },
    counters(p, r) {
      const prefix = p.getPrefix()
      const some = hostCounters(o).filter(([k]) => k.startsWith(prefix))
      writeCounters(r.initCounters(some.length), some)
    },
    ps(_p, r) {
      // Children this host started elsewhere are listed under their own host: a pid here
      // would name another process, so they get no stats from this runtime.
      const { tree, processStats: stats } = o
      writeProcessList((n) => r.initProcesses(n), tree?.list() ?? [],
        stats && ((s) => (s.host === tree?.host ? stats(s.pid) : undefined)))
    },
  }))
}

/** hostCapability's `debug` provider (granted only where `rights.debug` is asked for). */
export function debugProvider(o: DebugOptions): CapabilityProvider {
  return {
    capabilityFor(_identity: ProcessIdentity, scope?: Scope): ClientLike {
      return debugServer(o, scope?.child() ?? new Scope())
    },
  }
}
