// proc.spawn-guest: what composition costs at spawn. Processes parked in ww_proc.recv,
// spawned bare on the scheduler vs composed by spawnGuest (their restricted WASI, a
// GuestConnection, and a Host capability on an embedded cluster each), same module.

import { embeddedCluster, hostCapability } from '@ww/host'
import { report } from '@ww/bench-kit'
import { compileGuest, Scheduler, spawnGuest, type ProcessHandle } from '../index.js'
import { PRELUDE, wat } from './guests.js'

/** Imports WASI and the transport (unused), then waits in recv until killed. */
const COMPOSED_IDLE = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "ww" "send" (func $wsend (param i32 i32) (result i32)))
  (import "ww" "recv" (func $wrecv (param i32 i32) (result i32)))
  (import "ww" "poll" (func $poll (param i32 i32) (result i32)))
  ${PRELUDE}
  (func (export "ww_main") (drop (call $recv (i32.const 4096) (i32.const 64)))))`

async function parked(hs: ProcessHandle[]): Promise<void> {
  while (hs.some((h) => h.state !== 'waiting')) await new Promise((r) => setImmediate(r))
}

export async function benchCompose(runs = 7): Promise<void> {
  const N = 1000
  await using s = new Scheduler({ maxProcesses: N })
  await using cluster = embeddedCluster()
  const mod = await compileGuest(s, await wat(COMPOSED_IDLE))
  const composed: number[] = []
  const bare: number[] = []
  for (let r = 0; r < runs + 1; r++) {
    // Bare: the same module with do-nothing imports for WASI and ww.
    const stub = { fd_write: () => 0, send: () => 0, recv: () => 0, poll: () => 0 }
    let t0 = performance.now()
    let hs = Array.from({ length: N }, () => s.spawn(mod, { imports: { wasi_snapshot_preview1: stub, ww: stub } }))
    await parked(hs)
    const tb = performance.now() - t0
    await Promise.all(hs.map((h) => h.kill()))
    t0 = performance.now()
    hs = Array.from({ length: N }, () => spawnGuest(s, mod, {
      host: ({ pid }) => hostCapability(cluster, { processId: pid }),
    }).handle)
    await parked(hs)
    const tc = performance.now() - t0
    await Promise.all(hs.map((h) => h.kill()))
    if (r > 0) { composed.push((N * 1000) / tc); bare.push((N * 1000) / tb) }
  }
  report({
    name: 'proc.spawn-guest', unit: 'procs/s', samples: composed, higherIsBetter: true,
    baseline: { name: 'scheduler spawn, stub imports', samples: bare },
    params: { processes: N, until: 'parked in recv', parts: 'restricted WASI + GuestConnection + Host capability' },
  })
}
