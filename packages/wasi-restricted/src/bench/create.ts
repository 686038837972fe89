// wasi.create: the cost of one process's WASI (createWasi + close) from a policy that was
// validated once (grant's result, reused for every spawn: the cached path) vs the same
// policy as a plain unvalidated object, which createWasi must check on every spawn (what
// every spawn paid before validation was cached per policy object).

import { measure, report } from '@ww/bench-kit'
import { createWasi, DEFAULT_POLICY, grant, type OutputSink, type Policy } from '../index.js'

const sink: OutputSink = { write: () => true, writable: () => Promise.resolve() }

export async function create(iterations = 20_000, runs = 7): Promise<void> {
  // A spawner's usual policy: the default plus a scratch dir and sockets.
  const validated = grant(DEFAULT_POLICY, { scratch: { maxBytes: 1 << 20 }, sockets: { maxConnections: 16 } })
  const plain = JSON.parse(JSON.stringify(validated)) as Policy // equal, but never validated
  const spawn = (policy: Policy) => (n: number): void => {
    for (let i = 0; i < n; i++) createWasi(policy, { processId: 'bench', sinks: { stdout: sink, stderr: sink } }).close()
  }
  const s = await measure([
    { name: 'cached', fn: spawn(validated) },
    { name: 'revalidated', fn: spawn(plain) },
  ], { iterations, runs })
  report({
    name: 'wasi.create', unit: 'ns/op', samples: s.get('cached')!,
    baseline: { name: 'createWasi validating the policy every spawn', samples: s.get('revalidated')! },
    params: { iterations, policy: 'DEFAULT_POLICY + scratch 1 MiB + sockets 16', op: 'createWasi + close' },
  })
}
