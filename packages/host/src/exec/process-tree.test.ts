import { BytecodeCache } from '../cache/bytecode-cache.js'
import { ProcessTree } from './process-tree.js'
import type { ExitStatus, Executor, Runtime, StartSpec } from './types.js'

/**
 * A runtime whose "modules" are scripts: the bytes name what the process does. It stands
 * in for @ww/proc (not written yet); the tree under test is real.
 */
function scriptRuntime(log: StartSpec[]): Runtime {
  return {
    async start(spec) {
      log.push(spec)
      const script = new TextDecoder().decode(spec.bytecode)
      let kill!: () => void
      const exited = new Promise<ExitStatus>((resolve) => {
        kill = () => resolve({ kind: 'killed' })
        if (script.startsWith('exit ')) setTimeout(() => resolve({ kind: 'exited', code: Number(script.slice(5)) }), 1)
        if (script === 'trap') setTimeout(() => resolve({ kind: 'trapped', reason: 'unreachable' }), 1)
      })
      return { exited, kill }
    },
  }
}
const mod = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('process tree', () => {
  test('spawn from bytes or cid; wait is idempotent and concurrent; exit codes and traps apart', async () => {
    const cache = new BytecodeCache()
    const tree = new ProcessTree({ runtime: scriptRuntime([]), cache })
    const ex = tree.executor()
    const p = await ex.spawn({ bytecode: mod('exit 3') })
    const [s1, s2] = await Promise.all([p.wait(), p.wait()])
    expect(s1).toEqual({ kind: 'exited', code: 3 })
    expect(s2).toBe(s1)
    const q = await ex.spawn({ cid: cache.put(mod('trap')) })
    expect(await q.wait()).toEqual({ kind: 'trapped', reason: 'unreachable' })
    await expect(ex.spawn({ cid: cache.put(mod('x')).replace(/.$/, '0') })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
    expect(tree.size).toBe(0)
  })

  test('the parent is the caller, never a request field; kill cascades to the subtree', async () => {
    const log: StartSpec[] = []
    const tree = new ProcessTree({ runtime: scriptRuntime(log) })
    const root = await tree.executor().spawn({ bytecode: mod('run') })
    const rootEx: Executor = log[0]!.executor // what the root process itself holds
    const child = await rootEx.spawn({ bytecode: mod('run'), ...({ ppid: 999 } as object) })
    const grandchild = await log[1]!.executor.spawn({ bytecode: mod('run') })
    expect(root.parent).toBeUndefined()
    expect(child.parent).toBe(root.pid)
    expect(grandchild.parent).toBe(child.pid)
    expect(log[2]!.parent).toBe(child.pid)
    expect(root.children()).toEqual([child.pid])
    // A process reaches its descendants only.
    expect(() => log[1]!.executor.process(root.pid)).toThrow(expect.objectContaining({ code: 'ERR_NOT_FOUND' }))
    expect(rootEx.process(grandchild.pid).pid).toBe(grandchild.pid)
    await child.kill()
    expect(await grandchild.wait()).toEqual({ kind: 'killed', reason: 'requested' })
    expect(await child.wait()).toEqual({ kind: 'killed', reason: 'requested' })
    expect(tree.size).toBe(1)
    await root.kill()
    expect(tree.size).toBe(0)
  })

  test('a parent that exits takes its children with it', async () => {
    const log: StartSpec[] = []
    const tree = new ProcessTree({ runtime: scriptRuntime(log) })
    const parent = await tree.executor().spawn({ bytecode: mod('exit 0') })
    const child = await log[0]!.executor.spawn({ bytecode: mod('run') })
    expect(await parent.wait()).toEqual({ kind: 'exited', code: 0 })
    expect(await child.wait({ timeoutMs: 5000 })).toEqual({ kind: 'killed', reason: 'parentExited' })
    await expect(log[0]!.executor.spawn({ bytecode: mod('run') })).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })

  test('wait takes a timeout and a signal; close kills everything', async () => {
    const tree = new ProcessTree({ runtime: scriptRuntime([]) })
    const p = await tree.executor().spawn({ bytecode: mod('run') })
    await expect(p.wait({ timeoutMs: 10 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' })
    const ac = new AbortController()
    const w = p.wait({ signal: ac.signal })
    ac.abort()
    await expect(w).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    await tree.close()
    expect(await p.wait()).toEqual({ kind: 'killed', reason: 'hostShutdown' })
    await expect(tree.executor().spawn({ bytecode: mod('run') })).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })

  test('onExit tells observers how each process ended, after the tree has let it go', async () => {
    const log: StartSpec[] = []
    const tree = new ProcessTree({ runtime: scriptRuntime(log), host: 'h1' })
    const ended: Array<{ pid: number; parent: number; status: unknown; live: number }> = []
    const stop = tree.onExit((p) => ended.push({ pid: p.pid, parent: p.parent.pid, status: p.status, live: tree.size }))
    tree.onExit(() => { throw new Error('a faulty observer') })
    const parent = await tree.executor().spawn({ bytecode: mod('exit 0'), name: 'p' })
    const child = await log[0]!.executor.spawn({ bytecode: mod('run') })
    await parent.wait()
    await child.wait({ timeoutMs: 5000 })
    expect(ended).toContainEqual(expect.objectContaining({ pid: parent.pid, parent: 0, status: { kind: 'exited', code: 0 } }))
    expect(ended).toContainEqual(expect.objectContaining({ pid: child.pid, parent: parent.pid, status: { kind: 'killed', reason: 'parentExited' } }))
    stop()
    await (await tree.executor().spawn({ bytecode: mod('exit 0') })).wait()
    expect(ended).toHaveLength(2)
  })
})
