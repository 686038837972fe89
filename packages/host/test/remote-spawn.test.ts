// Remote spawn: Executor.exec with `where` = another host goes over host-to-host RPC
// (Peer.exec); the Process capability works from the origin; the parent is the caller on
// the origin host; killing the parent kills its remote children; a host that leaves makes
// wait answer hostLost. Two and three libp2p hosts in this process, real modules.
import type { process as capProcess } from '@ww/schema'
import {
  embeddedCluster, executorProvider, hostCounters, hostProcessTree, libp2pCluster, type Libp2pCluster, type ProcessTree, type StartSpec,
} from '../src/index.js'
import { tinyModule, tinyRuntime } from '../src/exec/tiny-runtime.js'
import { closeTwoHostTrees, joined, twoHostTrees, waitFor } from './hosts.js'
import { codeOf, rig, type Rig } from './rpc-rig.js'

const EXIT3 = tinyModule({ exit: 3 })
const PARK = tinyModule({ park: true })

function exec(ex: capProcess.Executor$Client, fill: (b: capProcess.Bytecode) => void, where: string, name = ''): capProcess.Process$Client {
  return ex.exec((p) => { fill(p.initBytecode()); const o = p.initOptions(); o.setWhere(where); if (name) o.setName(name) }).getProcess()
}

describe('remote spawn over libp2p', () => {
  let a: Libp2pCluster
  let b: Libp2pCluster
  let ta: ProcessTree
  let tb: ProcessTree
  const rigs: Rig[] = []
  const seenOnB: StartSpec[] = []
  const hostOnA = (pid: number): Rig => {
    const r = rig(a, { processId: pid, rights: { executor: true }, executor: executorProvider(ta) })
    rigs.push(r)
    return r
  }
  beforeAll(async () => {
    const inner = tinyRuntime()
    ;({ a, b, ta, tb } = await twoHostTrees(tinyRuntime(), () => ({ start: (spec, o) => { seenOnB.push(spec); return inner.start(spec, o) } })))
  })
  afterAll(() => closeTwoHostTrees({ a, b, ta, tb }, rigs))

  test('exec on B from A: the Process answers pid, info and wait from A; B lists A as the parent', async () => {
    const ex = hostOnA(0).host.executor().getExecutor()
    const p = exec(ex, (bc) => bc.setInline(EXIT3), b.id, 'remote-three')
    const self = (await p.pid()).getSelf()
    expect(self.getHost()).toBe(b.id)
    expect((await p.wait()).getStatus().getExited()).toBe(3)
    expect(b.cache.has(a.cache.put(EXIT3))).toBe(true) // shipped bytes land in B's cache
    const q = exec(ex, (bc) => bc.setInline(PARK), b.id, 'remote-park')
    const info = (await q.info()).getInfo()
    expect(info.getSelf().getHost()).toBe(b.id)
    const onB = tb.list().find((s) => s.name === 'remote-park')!
    expect(onB.parent).toEqual({ host: a.id, pid: 0 })
    const ps = (await ex.ps()).getProcesses().toArray().map((i) => `${i.getSelf().getHost() === b.id ? 'B' : 'A'}:${i.getName()}`)
    expect(ps).toEqual(['B:remote-park'])
    await q.kill()
    expect((await q.wait()).getStatus().isKilled()).toBe(true)
    expect(tb.size).toBe(0)
    const counters = new Map(hostCounters({ cluster: a, tree: ta }))
    expect(counters.get('peer.spawns')).toBeGreaterThanOrEqual(2n)
    expect(counters.get('peer.links')).toBe(1n)
    expect(counters.get('exec.remoteSpawned')).toBeGreaterThanOrEqual(2n)
  }, 20_000)

  test('a cid B lacks is fetched back from A; an unknown cid is ERR_NOT_FOUND', async () => {
    const bytes = tinyModule({ exit: 42 })
    const cid = a.cache.put(bytes)
    expect(b.cache.has(cid)).toBe(false)
    const ex = hostOnA(0).host.executor().getExecutor()
    const p = exec(ex, (bc) => bc.setCid(Buffer.from(cid.slice(7), 'hex')), b.id)
    expect((await p.wait()).getStatus().getExited()).toBe(42)
    expect(b.cache.has(cid)).toBe(true)
    expect(await codeOf(exec(ex, (bc) => bc.setCid(new Uint8Array(32)), b.id).pid())).toBe('ERR_NOT_FOUND')
  }, 20_000)

  test('ExecOptions travel with the spawn: B\'s runtime gets the args blob, limits and rights', async () => {
    const ex = hostOnA(0).host.executor().getExecutor()
    const p = ex.exec((q) => {
      q.initBytecode().setInline(EXIT3)
      const o = q.initOptions()
      o.setWhere(b.id)
      o.setArgs(new Uint8Array([9, 8, 7]))
      o.initGrants().setCpuBudgetMs(250n)
      o.initRights().setPubSub(true)
    }).getProcess()
    expect((await p.wait()).getStatus().getExited()).toBe(3)
    const spec = seenOnB[seenOnB.length - 1]!
    expect([...spec.child!.args!]).toEqual([9, 8, 7])
    expect(spec.child).toMatchObject({ cpuBudgetMs: 250, rights: { pubSub: true, root: false } })
  }, 20_000)

  test('killing a parent on A kills its child on B', async () => {
    const root = hostOnA(0).host.executor().getExecutor()
    const parent = exec(root, (bc) => bc.setInline(PARK), '', 'parent')
    const parentPid = Number((await parent.pid()).getSelf().getPid())
    const mine = hostOnA(parentPid).host.executor().getExecutor()
    const child = exec(mine, (bc) => bc.setInline(PARK), b.id, 'child')
    await child.pid()
    expect(tb.list().map((s) => [s.name, s.parent])).toEqual([['child', { host: a.id, pid: parentPid }]])
    await parent.kill()
    const s = (await child.wait()).getStatus()
    expect(s.isKilled()).toBe(true)
    await waitFor(() => tb.size === 0)
  }, 20_000)

  test('a host at its process limit answers ERR_LIMIT to a spawn from another host', async () => {
    const c = await libp2pCluster({ ttlMs: 3000, bootstrap: a.addresses() })
    const tc = hostProcessTree(c, tinyRuntime(), { maxProcesses: 1 })
    try {
      await waitFor(() => a.view.get(c.id) !== undefined)
      const ex = hostOnA(0).host.executor().getExecutor()
      const first = exec(ex, (bc) => bc.setInline(PARK), c.id)
      await first.pid()
      expect(await codeOf(exec(ex, (bc) => bc.setInline(PARK), c.id).pid())).toBe('ERR_LIMIT')
      await first.kill()
      expect((await exec(ex, (bc) => bc.setInline(EXIT3), c.id).wait()).getStatus().getExited()).toBe(3)
    } finally {
      await tc.close()
      await c.close()
    }
  }, 20_000)

  test('Peer.exec refuses a parent that is not the calling host', async () => {
    const link = await a.dialPeer(b.id)
    const forged = link.peer.exec((q) => {
      q.initParent().setHost(b.id) // a process of B, claimed by A
      q.initBytecode().setInline(EXIT3)
    }).getProcess()
    expect(await codeOf(forged.pid())).toBe('ERR_CAP_DENIED')
    expect(tb.size).toBe(0)
  }, 20_000)

  test('where = a host not in the view is ERR_HOST_UNREACHABLE; on the embedded cluster too', async () => {
    const ex = hostOnA(0).host.executor().getExecutor()
    expect(await codeOf(exec(ex, (bc) => bc.setInline(EXIT3), '12D3KooWNotAHostInThisClusterAtAll').pid())).toBe('ERR_HOST_UNREACHABLE')
    const e = embeddedCluster({ id: 'solo' })
    const te = hostProcessTree(e, tinyRuntime())
    const r = rig(e, { processId: 0, rights: { executor: true }, executor: executorProvider(te) })
    expect(await codeOf(exec(r.host.executor().getExecutor(), (bc) => bc.setInline(EXIT3), b.id).pid())).toBe('ERR_HOST_UNREACHABLE')
    // `where` = the host itself runs here.
    expect((await exec(r.host.executor().getExecutor(), (bc) => bc.setInline(EXIT3), 'solo').wait()).getStatus().getExited()).toBe(3)
    r.client.close(); r.hc.close()
    await te.close(); await e.close()
  }, 20_000)

  test('a host that leaves: wait on its process answers hostLost, nothing hangs', async () => {
    const c = await libp2pCluster({ ttlMs: 3000, bootstrap: a.addresses() })
    const tc = hostProcessTree(c, tinyRuntime())
    try {
      await joined(a, c)
      const ex = hostOnA(0).host.executor().getExecutor()
      const p = exec(ex, (bc) => bc.setInline(PARK), c.id)
      await p.pid()
      expect(tc.size).toBe(1)
      const waiting = p.wait()
      await c.close()
      const s = (await waiting).getStatus()
      expect(s.isHostLost() && s.getHostLost()).toBe(c.id)
      expect(tc.size).toBe(0) // c killed it when its link to the parent's host went
    } finally {
      await tc.close()
      await c.close()
    }
  }, 20_000)
})

