// Executor, Process and Debug over real frames (an RpcConnection pair), on a real
// runtime: tinyRuntime compiles and instantiates each module with WebAssembly.
import { process as capProcess } from '@ww/schema'
import {
  debugProvider, embeddedCluster, executorProvider, ProcessTree, VERSION, type Cluster, type StartSpec,
} from '../src/index.js'
import { tinyModule, tinyRuntime } from '../src/exec/tiny-runtime.js'
import { MAX_SCRATCH_BYTES } from '../src/rpc/executor.js'
import { codeOf, rig, type Rig } from './rpc-rig.js'

const EXIT3 = tinyModule({ exit: 3 })
const PARK = tinyModule({ park: true })

function execInline(ex: capProcess.Executor$Client, bytes: Uint8Array, name = ''): capProcess.Process$Client {
  return ex.exec((p) => { p.initBytecode().setInline(bytes); if (name) p.initOptions().setName(name) }).getProcess()
}

describe('Executor / Process / Debug over RPC', () => {
  let c: Cluster
  let tree: ProcessTree
  const rigs: Rig[] = []
  const host = (processId: number, rights: Record<string, boolean> = { executor: true }): Rig => {
    const r = rig(c, { processId, rights, executor: executorProvider(tree), debug: debugProvider({ cluster: c, tree }) })
    rigs.push(r)
    return r
  }
  beforeEach(() => {
    c = embeddedCluster({ id: 'host-x' })
    tree = new ProcessTree({ runtime: tinyRuntime(), cache: c.cache, host: c.id })
  })
  afterEach(async () => {
    for (const r of rigs.splice(0)) { r.client.close(); r.hc.close() }
    await tree.close()
    await c.close()
  })

  test('exec from bytes: pid, wait (idempotent), info; the module lands in the cache', async () => {
    const ex = host(0).host.executor().getExecutor()
    const p = execInline(ex, EXIT3, 'three')
    const self = (await p.pid()).getSelf()
    expect(self.getHost()).toBe('host-x')
    expect(self.getPid()).toBeGreaterThan(0n)
    const [a, b] = await Promise.all([p.wait(), p.wait()])
    expect(a.getStatus().isExited() && a.getStatus().getExited()).toBe(3)
    expect(b.getStatus().getExited()).toBe(3)
    const info = (await p.info()).getInfo()
    expect(info.getName()).toBe('three')
    expect(info.getState()).toBe(capProcess.ProcessState.EXITED)
    expect(info.getStatus().getExited()).toBe(3)
    expect(info.getParent().getPid()).toBe(0n)
    expect(c.cache.stats().entries).toBe(1)
  })

  test('exec by cid; an unknown cid is ERR_NOT_FOUND, bad bytes ERR_INVALID_MODULE, a bad import too', async () => {
    const ex = host(0).host.executor().getExecutor()
    const cid = c.cache.put(tinyModule({ exit: 9 }))
    const p = ex.exec((q) => q.initBytecode().setCid(Buffer.from(cid.slice(7), 'hex'))).getProcess()
    expect((await p.wait()).getStatus().getExited()).toBe(9)
    expect(await codeOf(ex.exec((q) => q.initBytecode().setCid(new Uint8Array(32))))).toBe('ERR_NOT_FOUND')
    expect(await codeOf(ex.exec((q) => q.initBytecode().setInline(new Uint8Array([1, 2, 3]))))).toBe('ERR_INVALID_MODULE')
    // Valid, but imports something the runtime does not offer: it never starts.
    const needsImport = Uint8Array.from(PARK)
    needsImport[needsImport.indexOf(0x70) /* "p" of park */] = 0x71
    expect(WebAssembly.validate(needsImport)).toBe(true)
    expect(await codeOf(execInline(ex, needsImport).pid())).toBe('ERR_INVALID_MODULE')
    expect(tree.counters()).toMatchObject({ spawned: 1, failedToStart: 1 })
  })

  test('a trap is trapped with its kind; kill ends a running process (requested, by the holder)', async () => {
    const ex = host(0).host.executor().getExecutor()
    const t = (await execInline(ex, tinyModule({ trap: true })).wait()).getStatus()
    expect(t.isTrapped() && t.getTrapped().getKind()).toBe(capProcess.TrapKind.UNREACHABLE)
    const p = execInline(ex, PARK)
    expect((await p.info()).getInfo().getState()).toBe(capProcess.ProcessState.RUNNING)
    await p.kill()
    const s = (await p.wait()).getStatus()
    expect(s.isKilled()).toBe(true)
    expect(s.getKilled().getReason()).toBe(capProcess.KillReason.REQUESTED)
    expect(s.getKilled().getBy().getHost()).toBe('host-x')
    await p.kill() // a no-op once ended
  })

  test('monitor calls the handler exactly once; a cancelled monitor is not called', async () => {
    const ex = host(0).host.executor().getExecutor()
    const seen: string[] = []
    const handler = (tag: string): capProcess.ExitHandler$Server => new capProcess.ExitHandler.Server({
      exited(q) { seen.push(`${tag}:${q.getProcess().getPid()}:${q.getStatus().isKilled() ? 'killed' : 'other'}`) },
    })
    const p = execInline(ex, PARK)
    const pid = (await p.pid()).getSelf().getPid()
    await p.monitor((q) => q.setHandler(handler('kept')))
    const cancelled = (await p.monitor((q) => q.setHandler(handler('cancelled')))).getHandle()
    await cancelled.cancel()
    await p.kill()
    await p.wait()
    for (let i = 0; i < 20 && seen.length === 0; i++) await new Promise((r) => setImmediate(r))
    expect(seen).toEqual([`kept:${pid}:killed`])
    // Monitoring an ended process answers at once.
    await p.monitor((q) => q.setHandler(handler('late')))
    for (let i = 0; i < 20 && seen.length === 1; i++) await new Promise((r) => setImmediate(r))
    expect(seen).toEqual([`kept:${pid}:killed`, `late:${pid}:killed`])
  })

  test('the parent is the Host\'s process, never a request field; ps shows descendants; kill cascades', async () => {
    const root = host(0).host.executor().getExecutor()
    const parent = execInline(root, PARK, 'parent')
    const parentPid = Number((await parent.pid()).getSelf().getPid())
    // The Host of process `parentPid` (as its runtime would build it): its executor spawns its children.
    const mine = host(parentPid).host.executor().getExecutor()
    const child = execInline(mine, PARK, 'child')
    const childInfo = (await child.info()).getInfo()
    expect(childInfo.getParent().getPid()).toBe(BigInt(parentPid))
    const psRoot = (await root.ps()).getProcesses()
    expect(psRoot.toArray().map((i) => i.getName())).toEqual(['parent', 'child'])
    const psMine = (await mine.ps()).getProcesses()
    expect(psMine.toArray().map((i) => i.getName())).toEqual(['child'])
    await parent.kill()
    expect((await child.wait()).getStatus().isKilled()).toBe(true)
    expect(tree.size).toBe(0)
    // The Host of a process that is gone has no executor to give.
    expect(await codeOf(host(parentPid).host.executor().getExecutor().ps())).toBe('ERR_NOT_FOUND')
  })

  test('revoking the Host revokes its executor and the processes it handed out', async () => {
    const r = host(0)
    const ex = r.host.executor().getExecutor()
    const p = execInline(ex, PARK)
    await p.pid()
    r.hc.close('process exited')
    expect(await codeOf(ex.ps())).toBe('ERR_REVOKED')
    expect(await codeOf(p.info())).toBe('ERR_REVOKED')
  })

  test('ExecOptions reach the runtime (args blob, limits, rights); a right the caller lacks is ERR_CAP_DENIED', async () => {
    const seen: StartSpec[] = []
    const inner = tinyRuntime()
    tree = new ProcessTree({ runtime: { start: (spec, o) => { seen.push(spec); return inner.start(spec, o) } }, cache: c.cache, host: c.id })
    const ex = host(0, { executor: true, root: true }).host.executor().getExecutor()
    const p = ex.exec((q) => {
      q.initBytecode().setInline(EXIT3)
      const o = q.initOptions()
      o.setName('configured')
      o.setArgs(new Uint8Array([1, 2, 3]))
      const g = o.initGrants()
      g.setTimeoutMs(1500n)
      g.setMemoryBytes(1n << 20n)
      g.setScratchBytes(65536n)
      g.setScratchInodes(16)
      const rights = o.initRights()
      rights.setView(true)
      rights.setRoot(true)
    }).getProcess()
    expect((await p.wait()).getStatus().getExited()).toBe(3)
    expect(seen[0]!.name).toBe('configured')
    expect(seen[0]!.child).toMatchObject({ timeoutMs: 1500, memoryBytes: 1 << 20, scratchBytes: 65536, scratchInodes: 16, rights: { view: true, root: true, debug: false } })
    expect([...seen[0]!.child!.args!]).toEqual([1, 2, 3])
    expect(await codeOf(ex.exec((q) => {
      q.initBytecode().setInline(EXIT3)
      q.initOptions().initRights().setDebug(true) // this Host has no debug
    }))).toBe('ERR_CAP_DENIED')
    // A scratch dir is host memory: over the per-process maximum is refused, not clamped.
    expect(await codeOf(ex.exec((q) => {
      q.initBytecode().setInline(EXIT3)
      q.initOptions().initGrants().setScratchBytes(BigInt(MAX_SCRATCH_BYTES) + 1n)
    }))).toBe('ERR_CAP_DENIED')
    expect(seen).toHaveLength(1)
  })

  test('debug is off by default even with a provider; granted, it shows sysInfo, counters and every process', async () => {
    expect(await codeOf(host(0).host.debug())).toBe('ERR_CAP_DENIED')
    const r = host(0, { executor: true, debug: true })
    const dbg = r.host.debug().getDebug()
    const ex = r.host.executor().getExecutor()
    await execInline(ex, EXIT3).wait()
    const p = execInline(ex, PARK, 'server')
    await p.pid()
    const info = (await dbg.sysInfo()).getInfo()
    expect([info.getHost(), info.getVersion(), info.getCluster(), info.getNode()]).toEqual(['host-x', VERSION, 'embedded', process.version])
    expect(info.getMemoryRss()).toBeGreaterThan(0n)
    const counters = new Map((await dbg.counters((q) => q.setPrefix('exec.'))).getCounters().toArray().map((x) => [x.getName(), x.getValue()]))
    expect(counters.get('exec.spawned')).toBe(2n)
    expect(counters.get('exec.exited')).toBe(1n)
    expect(counters.get('exec.live')).toBe(1n)
    expect([...counters.keys()].every((k) => k.startsWith('exec.'))).toBe(true)
    const ps = (await dbg.ps()).getProcesses().toArray()
    expect(ps.map((i) => i.getName())).toEqual(['server'])
  })
})
