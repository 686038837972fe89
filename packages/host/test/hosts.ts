// Shared by the suites that run several hosts in this process: waiting for a condition,
// and two libp2p hosts (B bootstrapped from A), each with its process tree.
import { hostProcessTree, libp2pCluster, type Cluster, type Libp2pCluster, type ProcessTree, type Runtime } from '../src/index.js'
import type { Rig } from './rpc-rig.js'

/** Resolves once `cond()` holds; throws after `ms` (a hang bound that names the wait; the test timeout is 120 s). */
export async function waitFor(cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Resolves once each of the two hosts sees the other in its view. */
export const joined = (a: Cluster, b: Cluster): Promise<void> => waitFor(() => a.view.get(b.id) !== undefined && b.view.get(a.id) !== undefined)

export interface TwoHostTrees { a: Libp2pCluster; b: Libp2pCluster; ta: ProcessTree; tb: ProcessTree }

/** Hosts A and B, joined, A's processes on `runtimeA`, B's on what `runtimeB(b)` gives. */
export async function twoHostTrees(runtimeA: Runtime, runtimeB: (b: Libp2pCluster) => Runtime): Promise<TwoHostTrees> {
  const a = await libp2pCluster({ ttlMs: 3000 })
  const b = await libp2pCluster({ ttlMs: 3000, bootstrap: a.addresses() })
  const t = { a, b, ta: hostProcessTree(a, runtimeA), tb: hostProcessTree(b, runtimeB(b)) }
  await joined(a, b)
  return t
}

/** Closes the rigs, then the trees, then the hosts (what was opened, in reverse). */
export async function closeTwoHostTrees(t: Partial<TwoHostTrees>, rigs: readonly Rig[] = []): Promise<void> {
  for (const r of rigs) { r.client.close(); r.hc.close() }
  await Promise.all([t.ta?.close(), t.tb?.close()])
  await Promise.all([t.a?.close(), t.b?.close()])
}
