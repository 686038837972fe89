// What a spawner's ExecOptions widen in a child's composition (@ww/interface
// ChildOptions): a volatile scratch dir, denied unless asked for (the Executor already
// bounded its size), and sockets when it handed some in (ExecOptions.preopens: passing a
// socket is delegation, the spawner holds it). Applied by both runtimes, in-thread and on
// a worker pool.

import type { ChildOptions } from '@ww/interface'
import { DEFAULT_POLICY, grant, PolicyError, validatePolicy, type Binder, type Conn, type Grant, type Policy } from '@ww/wasi-restricted'

/**
 * `g` with its policy widened by the child's grants; `g` itself when they widen nothing.
 * Preopens become fds only through `g.sockets`/`g.conns` (the embedder adapts the
 * capabilities, e.g. @ww/host's preopenSockets): a composition without them is a
 * PolicyError, never a child that silently lacks its sockets.
 */
export function withChildGrants<G extends { readonly policy?: Policy; readonly sockets?: readonly Binder[]; readonly conns?: readonly Conn[] }>(g: G, child: ChildOptions | undefined): G {
  const widen: Grant = {}
  if (child?.scratchBytes !== undefined && child.scratchBytes > 0) {
    widen.scratch = { maxBytes: child.scratchBytes, ...(child.scratchInodes !== undefined ? { maxInodes: child.scratchInodes } : {}) }
  }
  const preopens = child?.preopens ?? []
  if (preopens.length > 0) {
    const given = (g.sockets?.length ?? 0) + (g.conns?.length ?? 0)
    if (given < preopens.length) throw new PolicyError('sockets', `the spawner handed in ${preopens.length} sockets (preopens), the guest's composition gives it ${given}`)
    const conns = g.conns?.length ?? 0
    const held = validatePolicy(g.policy ?? DEFAULT_POLICY).sockets
    if (held === null || held.maxConnections < conns) widen.sockets = { maxConnections: Math.max(conns, held?.maxConnections ?? 64) }
  }
  if (widen.scratch === undefined && widen.sockets === undefined) return g
  return { ...g, policy: grant(g.policy ?? DEFAULT_POLICY, widen) }
}
