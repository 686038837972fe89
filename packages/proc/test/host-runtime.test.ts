import { ProcessTree, type StartSpec } from '@ww/host'
import { procRuntime, Scheduler } from '../src/index.js'
import * as G from '../src/bench/guests.js'

test("@ww/host's ProcessTree runs processes on the scheduler: statuses, limits, cascading kill", async () => {
  await using s = new Scheduler()
  const specs: StartSpec[] = []
  const runtime = procRuntime(s, { spawnOptions: (spec) => { specs.push(spec); return { memoryPages: 4, onMemoryLimit: 'kill' } } })
  const tree = new ProcessTree({ runtime })
  const exec = tree.executor()
  const trap = await exec.spawn({ bytecode: await G.wat(G.TRAP) })
  const bomb = await exec.spawn({ bytecode: await G.wat(G.MEMBOMB) })
  expect(await trap.wait()).toMatchObject({ kind: 'trapped', code: 'ERR_GUEST_TRAP' })
  expect(await bomb.wait()).toMatchObject({ kind: 'limit', which: 'memory' })

  const spin = await G.wat(G.SPIN)
  const parent = await exec.spawn({ bytecode: spin })
  // The child is spawned through the parent's own executor (its identity, not a claimed ppid).
  const child = await specs.find((sp) => sp.pid === parent.pid)!.executor.spawn({ bytecode: spin })
  expect(child.parent).toBe(parent.pid)
  expect(s.ps().map((r) => r.name).sort()).toEqual([`host-pid-${child.pid}`, `host-pid-${parent.pid}`].sort())
  await parent.kill()
  expect(await parent.wait()).toEqual({ kind: 'killed' })
  expect(await child.wait()).toEqual({ kind: 'killed' })
  expect(s.size).toBe(0)
  await tree.close()
})
