// What a spawner's ExecOptions.grants widen in a child's composition (@ww/interface
// ChildOptions): a volatile scratch dir, denied unless asked for (the Executor already
// bounded its size). Applied by both runtimes, in-thread and on a worker pool.

import type { ChildOptions } from '@ww/interface'
import { DEFAULT_POLICY, grant, type Policy } from '@ww/wasi-restricted'

/** `g` with its policy widened by the child's grants; `g` itself when they widen nothing. */
export function withChildGrants<G extends { readonly policy?: Policy }>(g: G, child: ChildOptions | undefined): G {
  if (child?.scratchBytes === undefined || child.scratchBytes <= 0) return g
  const scratch = { maxBytes: child.scratchBytes, ...(child.scratchInodes !== undefined ? { maxInodes: child.scratchInodes } : {}) }
  return { ...g, policy: grant(g.policy ?? DEFAULT_POLICY, { scratch }) }
}
