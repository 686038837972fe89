// proc.idle: how many idle processes one Node process holds, with hibernation (parked
// processes saved to host buffers, instances dropped), and what each one costs.

import { report } from '@ww/bench-kit'
import { Scheduler, type ProcessHandle } from '../index.js'
import { STATEFUL, wat } from './guests.js'

export async function benchIdle(target = 100_000): Promise<void> {
  const s = new Scheduler({ maxProcesses: target })
  const mod = await s.compile(await wat(STATEFUL))
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  const m0 = process.memoryUsage()
  const t0 = performance.now()
  const hs: ProcessHandle[] = []
  let failed: string | undefined
  try {
    while (hs.length < target) {
      const batch: ProcessHandle[] = Array.from({ length: Math.min(2000, target - hs.length) }, () => s.spawn(mod))
      while (batch.some((h) => h.state !== 'waiting' && h.state !== 'exited')) await new Promise((r) => setImmediate(r))
      const dead = batch.find((h) => h.state === 'exited')
      if (dead) throw new Error(`process ended: ${JSON.stringify(dead.status)}`)
      for (const h of batch) s.hibernate(h)
      hs.push(...batch)
    }
  } catch (e) {
    failed = e instanceof Error ? e.message : String(e)
  }
  const dt = performance.now() - t0
  gc?.()
  const m1 = process.memoryUsage()
  const n = hs.length
  // Wake a sample: each must resume with its state.
  const sample = [0, n >> 1, n - 1].map((i) => hs[i]!)
  for (const h of sample) { h.trySend(new Uint8Array([1])); h.trySend(new Uint8Array(0)) }
  const ok = (await Promise.all(sample.map((h) => h.wait()))).every((st) => st.kind === 'exited' && st.code === 10101)
  const perProc = (m1.rss - m0.rss) / n
  report({
    name: 'proc.idle', unit: 'bytes/proc (RSS, hibernated)', samples: [perProc],
    params: {
      target, alive: n, spawnAndHibernateMs: Math.round(dt), heapPerProc: Math.round((m1.heapUsed - m0.heapUsed) / n),
      externalPerProc: Math.round((m1.external - m0.external) / n), rssGiB: Math.round((m1.rss / 2 ** 30) * 100) / 100,
      sampleWokeCorrectly: ok, ...(failed ? { failed } : {}),
      note: 'without hibernation this machine stops at ~13,000 live wasm memories (V8 virtual reservations)',
    },
  })
  await s.close()
}
