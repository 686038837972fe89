// The Host a spawned process bootstraps, built from what its spawner asked (StartSpec):
// its rights, the overrides served instead of its own capabilities, a BootContext naming
// the caps it was handed, and an Executor bound to it that never gives its own children
// more than this Host holds. For runtimes' embedders (procRuntime's `guest`, `ww host`).

import type { Anchor } from '../anchors/types.js'
import type { Cluster } from '../cluster/types.js'
import type { StartSpec } from '../exec/types.js'
import { bootContextServer, handedOn, handOn } from './delegate.js'
import { executorServer } from './executor.js'
import { DEFAULT_RIGHTS, hostCapability, type CapabilityProvider, type HostCapability, type HostRights } from './host.js'
import { Scope } from './scope.js'

export interface ChildHostOptions {
  /**
   * The rights of a process whose spawner asked for none (default DEFAULT_RIGHTS, as
   * process.capnp says). A spawning process's Executor narrows them to what it holds.
   */
  unasked?: Partial<HostRights>
  /** The anchor `root()` serves unless overridden (default: the cluster's local tree). The Host takes it over. */
  root?: Anchor
  debug?: CapabilityProvider
  dialer?: CapabilityProvider
  /**
   * Whether the process has a scratch dir, which takes the fd before its preopened
   * sockets (BootInfo.preopens' fds). Default: when its spawner granted one; say so when
   * the embedder's own policy grants one.
   */
  scratch?: boolean
}

/** The Host of the process `spec` starts; close it when the process ends. */
export function childHostCapability(cluster: Cluster, spec: StartSpec, opts: ChildHostOptions = {}): HostCapability {
  const unasked = opts.unasked ?? DEFAULT_RIGHTS
  // The process reaches them over its own connection: imports go through forwarders.
  const { caps, overrides } = handedOn(spec.caps, spec.child?.overrides)
  const preopens = spec.child?.preopens?.map((p) => ({ ...p, cap: handOn(p.cap) }))
  return hostCapability(cluster, {
    processId: spec.pid,
    // Already checked against the spawner's rights by its Executor (never widened).
    rights: { ...(spec.child?.rights ?? unasked) },
    ...(overrides ? { overrides } : {}),
    ...(opts.root ? { root: opts.root } : {}),
    context: bootContextServer({ ...spec, caps, ...(preopens ? { child: { ...spec.child, preopens } } : {}) }, opts.scratch),
    executor: {
      // This Host's (or an attenuation's) rights and overrides: its children get no more.
      capabilityFor: (identity, scope, rights, inherited) => executorServer(spec.executor, identity, scope?.child() ?? new Scope(), {
        held: rights as HostRights, unasked, ...(inherited ? { inherited } : {}),
      }),
    },
    ...(opts.debug ? { debug: opts.debug } : {}),
    ...(opts.dialer ? { dialer: opts.dialer } : {}),
  })
}
