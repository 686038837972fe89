// ExecOptions.grants.scratchBytes: a spawner grants its child a volatile scratch dir; a
// child that was not granted one has none (deny by default). Both runtimes apply it.
import { ProcessTree } from '@ww/host'
import type { Runtime } from '@ww/interface'
import { poolRuntime, procRuntime, Scheduler, WorkerPool } from '../src/index.js'
import { wat } from '../src/bench/guests.js'
import { SCRATCH_CREATE } from './wasi-guests.js'

async function createInScratch(runtime: Runtime): Promise<void> {
  const tree = new ProcessTree({ runtime })
  try {
    const bytecode = await wat(SCRATCH_CREATE)
    const exec = tree.executor()
    const denied = await exec.spawn({ bytecode })
    expect(await denied.wait()).toEqual({ kind: 'exited', code: 8 }) // EBADF: no fd 3
    const granted = await exec.spawn({ bytecode, child: { scratchBytes: 4096 } })
    expect(await granted.wait()).toEqual({ kind: 'exited', code: 0 })
    // Volatile: the next child granted one gets an empty dir of its own (no EEXIST).
    const again = await exec.spawn({ bytecode, child: { scratchBytes: 4096 } })
    expect(await again.wait()).toEqual({ kind: 'exited', code: 0 })
    // Its inode count is the spawner's too: the root dir alone fills one inode.
    const full = await exec.spawn({ bytecode, child: { scratchBytes: 4096, scratchInodes: 1 } })
    expect(await full.wait()).toEqual({ kind: 'exited', code: 51 }) // ENOSPC
  } finally {
    await tree.close()
  }
}

test('a child gets a scratch dir only when its spawner grants one (in-thread)', async () => {
  await using s = new Scheduler({ moduleCache: false })
  await createInScratch(procRuntime(s))
})

test('a child gets a scratch dir only when its spawner grants one (worker pool)', async () => {
  await using pool = await WorkerPool.start({ workers: 1, scheduler: { moduleCache: false } })
  await createInScratch(poolRuntime(pool))
}, 60_000)
