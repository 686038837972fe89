// Core HostInfo → cluster.capnp HostInfo. Load figures beyond the process count are only
// known for this host (measured here); other hosts report their process count alone.

import os from 'node:os'
import type { cluster } from '@ww/schema'
import type { HostInfo, LeaveReason } from '../cluster/view.js'

export function writeHostInfo(out: cluster.HostInfo, h: HostInfo, self: boolean): void {
  out.setId(h.id)
  const addrs = out.initAddrs(h.addresses.length)
  h.addresses.forEach((a, i) => addrs.set(i, a))
  out.setVersion(h.version)
  out.setUptimeMs(BigInt(Math.max(0, Math.floor(h.uptimeMs))))
  const load = out.initLoad()
  load.setProcesses(h.load)
  if (self) {
    load.setCpus(os.availableParallelism())
    load.setCpuLoad(os.loadavg()[0] ?? 0)
    load.setMemoryUsed(BigInt(process.memoryUsage.rss()))
    load.setMemoryLimit(BigInt(os.totalmem()))
  }
}

/** cluster.capnp LeaveReason: expired 0, graceful 1. */
export function leaveReason(r: LeaveReason): number {
  return r === 'bye' ? 1 : 0
}
