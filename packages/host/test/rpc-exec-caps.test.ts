// Delegation at spawn over real frames: ExecOptions.caps reach the child's BootContext and
// work there, overrides replace the child Host's own (a read-only root), rights only
// narrow, bad input is a typed error, and what was handed over is let go when the child
// ends (counted). The children are JS processes (exec-js-runtime.ts), each with its own
// Host (childHostCapability, as `ww host` builds it for guests) over its own connection.
import { anchor as capAnchor, process as capProcess } from '@ww/schema'
import { getInterfaceClient, setInterfaceClient, type Client, type ClientLike } from 'capnp-ts'
import { embeddedCluster, executorProvider, MAX_CAPS, ProcessTree, type Cluster } from '../src/index.js'
import { onReleased } from '@ww/transport'
import { jsRuntime, type Body } from './exec-js-runtime.js'
import { tinyModule, tinyRuntime } from '../src/exec/tiny-runtime.js'
import { codeOf, dec, enc, rig, tick, type Rig } from './rpc-rig.js'

const anchorOf = (c: Client): capAnchor.Anchor$Client => new capAnchor.Anchor.Client(c)
const text = async (a: capAnchor.Anchor$Client): Promise<string> => dec.decode((await a.get()).getValue().getData().toUint8Array())
const store = async (a: capAnchor.Anchor$Client, v: string): Promise<void> => { await a.set((p) => p.initValue().setData(enc.encode(v))) }
const MODULE = tinyModule({ exit: 0 }) // the JS runtime runs bodies; the tree still wants a module

function exec(ex: capProcess.Executor$Client, name: string, fill: (o: capProcess.ExecOptions) => void = () => {}): capProcess.Process$Client {
  return ex.exec((p) => { p.initBytecode().setInline(MODULE); const o = p.initOptions(); o.setName(name); fill(o) }).getProcess()
}

function setCaps(o: capProcess.ExecOptions, caps: Array<[string, ClientLike]>): void {
  const l = o.initCaps(caps.length)
  caps.forEach(([name, cap], i) => { l.get(i).setName(name); setInterfaceClient(1, cap, l.get(i)) })
}

describe('exec with caps and overrides over RPC', () => {
  let c: Cluster
  let tree: ProcessTree
  const bodies: Record<string, Body> = {}
  const seen: Record<string, unknown[]> = {}
  const rigs: Rig[] = []
  const spawner = (rights: Record<string, boolean> = { executor: true, root: true }): Rig => {
    const r = rig(c, { processId: 0, rights, executor: executorProvider(tree) })
    rigs.push(r)
    return r
  }
  beforeEach(() => {
    c = embeddedCluster({ id: 'host-c' })
    tree = new ProcessTree({ runtime: jsRuntime(c, bodies), cache: c.cache, host: c.id })
  })
  afterEach(async () => {
    for (const r of rigs.splice(0)) { r.client.close(); r.hc.close() }
    await tree.close()
    await c.close()
  })

  test('a named cap: the child finds it in its BootContext (info, caps, cap) and uses it', async () => {
    const r = spawner()
    const root = r.host.root().getRoot()
    const shared = root.walk((p) => p.setPath('shared')).getAnchor()
    const other = root.walk((p) => p.setPath('other')).getAnchor()
    await store(shared, 'from the parent')
    bodies.user = async (host) => {
      const ctx = host.bootContext().getContext()
      const info = (await ctx.info()).getInfo()
      const listed = info.getCaps().toArray().map((n) => n.getName())
      const names = (await ctx.caps()).getCaps().toArray().map((n) => n.getName())
      const a = anchorOf(getInterfaceClient(0, await ctx.cap((p) => p.setName('shared'))))
      const before = await text(a)
      await store(a, 'from the child')
      await store(anchorOf(getInterfaceClient(0, await ctx.cap((p) => p.setName('piped')))), 'piped on')
      const sibling = new capProcess.Process.Client(getInterfaceClient(0, await ctx.cap((p) => p.setName('sibling'))))
      const siblingExit = (await sibling.wait()).getStatus().getExited()
      seen.user = [
        listed, names, before, Number(info.getSelf().getPid()), info.getParent().getPid(), info.getName(),
        dec.decode(info.getArgs().toUint8Array()), await codeOf(ctx.cap((p) => p.setName('nope'))), siblingExit,
      ]
      return 0
    }
    bodies.sibling = async () => 7
    const p = exec(r.host.executor().getExecutor(), 'user', (o) => {
      o.setArgs(enc.encode('blob'))
      // Pipelined: 'piped' on a walk (answered by the time the host reads this call),
      // 'sibling' on an exec still pending there (the host settles it first, then holds it).
      setCaps(o, [
        ['shared', shared], ['other', other], ['piped', root.walk((q) => q.setPath('piped')).getAnchor()],
        ['sibling', exec(r.host.executor().getExecutor(), 'sibling')],
      ])
    })
    const pid = Number((await p.pid()).getSelf().getPid())
    expect((await p.wait()).getStatus().getExited()).toBe(0)
    const names = ['shared', 'other', 'piped', 'sibling']
    expect(seen.user).toEqual([names, names, 'from the parent', pid, 0n, 'user', 'blob', 'ERR_NOT_FOUND', 7])
    expect(await text(shared)).toBe('from the child') // the same anchor the spawner holds
    expect(await text(root.walk((q) => q.setPath('piped')).getAnchor())).toBe('piped on')
  })

  test('overrides.root = a read-only subtree: the child reads, its writes are ERR_CAP_DENIED; the override counts as granted', async () => {
    const r = spawner()
    const sub = r.host.root().getRoot().walk((p) => p.setPath('apps/foo')).getAnchor()
    await store(sub.walk((p) => p.setPath('cfg')).getAnchor(), 'v1')
    const ro = (await sub.readOnly()).getAnchor()
    bodies.reader = async (host) => {
      const rights = (await host.rights()).getRights()
      const mine = host.root().getRoot()
      const cfg = mine.walk((p) => p.setPath('cfg')).getAnchor()
      seen.reader = [
        [rights.getView(), rights.getRoot(), rights.getRegistry()], await text(cfg),
        await codeOf(store(cfg, 'v2')), await codeOf(store(mine, 'x')), (await mine.path()).getPath(),
      ]
      return 0
    }
    const p = exec(r.host.executor().getExecutor(), 'reader', (o) => {
      const w = o.initRights()
      w.setView(true) // root is not asked for: the override grants it
      o.initOverrides().setRoot(ro)
    })
    expect((await p.wait()).getStatus().getExited()).toBe(0)
    expect(seen.reader).toEqual([[true, true, false], 'v1', 'ERR_CAP_DENIED', 'ERR_CAP_DENIED', '/apps/foo'])
    expect(await text(sub.walk((p) => p.setPath('cfg')).getAnchor())).toBe('v1')
  })

  test('released by count: the tree holds a delegated anchor while the child runs, and lets go when it ends', async () => {
    const r = spawner()
    const base = r.hc.live().anchors
    const root = (await r.host.root()).getRoot()
    const k = (await root.walk((p) => p.setPath('k'))).getAnchor() // an import, released by dispose
    await store(k, 'held')
    let stop!: () => void
    const stopped = new Promise<void>((res) => { stop = res })
    bodies.holder = async (host) => {
      const a = anchorOf(getInterfaceClient(0, await host.bootContext().getContext().cap((p) => p.setName('k'))))
      seen.holder = [await text(a)]
      await stopped
      return 0
    }
    const p = exec(r.host.executor().getExecutor(), 'holder', (o) => setCaps(o, [['k', k]]))
    await p.pid()
    while (seen.holder === undefined) await tick()
    // root (1) and k (1) beyond what the Host held before.
    expect(r.hc.live().anchors).toBe(base + 2)
    k.dispose() // the spawner lets go: the running child still holds it through the tree
    for (let i = 0; i < 5; i++) await tick()
    expect(r.hc.live().anchors).toBe(base + 2)
    stop()
    expect((await p.wait()).getStatus().getExited()).toBe(0)
    for (let i = 0; i < 5; i++) await tick()
    expect(r.hc.live().anchors).toBe(base + 1)
    expect(seen.holder).toEqual(['held'])
  })

  test("overrides are inherited: a child whose root is a read-only subtree gives its own children that subtree, never the host's root", async () => {
    const r = spawner()
    const sub = (await r.host.root().getRoot().walk((p) => p.setPath('apps/bar'))).getAnchor()
    await store(sub, 'v')
    const ro = (await sub.readOnly()).getAnchor()
    bodies.middle = async (host) => {
      const grandchild = exec(host.executor().getExecutor(), 'leaf', (o) => { const w = o.initRights(); w.setView(true); w.setRoot(true) })
      seen.middle = [(await grandchild.wait()).getStatus().getExited()]
      return 0
    }
    bodies.leaf = async (host) => {
      const mine = host.root().getRoot()
      seen.leaf = [(await mine.path()).getPath(), await text(mine), await codeOf(store(mine, 'x'))]
      return 0
    }
    const p = exec(r.host.executor().getExecutor(), 'middle', (o) => {
      const w = o.initRights()
      w.setView(true)
      w.setExecutor(true)
      o.initOverrides().setRoot(ro)
    })
    expect((await p.wait()).getStatus().getExited()).toBe(0)
    expect(seen.middle).toEqual([0])
    expect(seen.leaf).toEqual(['/apps/bar', 'v', 'ERR_CAP_DENIED'])
  })

  test("the spawner's own server: the child calls it through a forwarder; the host lets go of it when the child ends", async () => {
    const r = spawner()
    let released = 0
    const mine = new capAnchor.Anchor.Server({ path: (_p: unknown, res: capAnchor.Anchor_path$Results) => res.setPath('/mine') } as never)
    onReleased(mine, () => { released++ })
    bodies.caller = async (host) => {
      const a = anchorOf(getInterfaceClient(0, await host.bootContext().getContext().cap((p) => p.setName('mine'))))
      seen.caller = [(await a.path()).getPath(), released]
      return 0
    }
    const p = exec(r.host.executor().getExecutor(), 'caller', (o) => setCaps(o, [['mine', mine]]))
    expect((await p.wait()).getStatus().getExited()).toBe(0)
    expect(seen.caller).toEqual(['/mine', 0])
    for (let i = 0; i < 5 && released === 0; i++) await tick()
    expect(released).toBe(1) // the host's import was released: nothing holds our server any more
  })

  test('rights only narrow: a child asking for nothing gets DEFAULT_RIGHTS ∩ its parent; asking for more is ERR_CAP_DENIED', async () => {
    const r = spawner()
    bodies.parent = async (host) => {
      const ex = host.executor().getExecutor()
      const grandchild = exec(ex, 'grandchild')
      const st = (await grandchild.wait()).getStatus()
      const more = await codeOf(exec(ex, 'grandchild', (o) => { o.initRights().setRoot(true) }).pid())
      seen.parent = [st.getExited(), more]
      return 0
    }
    bodies.grandchild = async (host) => {
      const w = (await host.rights()).getRights()
      seen.grandchild = [w.getView(), w.getPubSub(), w.getRoot(), w.getExecutor()]
      return 0
    }
    const p = exec(r.host.executor().getExecutor(), 'parent', (o) => {
      const w = o.initRights()
      w.setView(true)
      w.setExecutor(true) // no pubSub, no root
    })
    expect((await p.wait()).getStatus().getExited()).toBe(0)
    expect(seen.parent).toEqual([0, 'ERR_CAP_DENIED'])
    expect(seen.grandchild).toEqual([true, false, false, false])
  })

  // Refused after its caps were read: what the request carried is released when exec
  // answers, not when the spawner's connection closes (both stay open here).
  const refusedReleases = async (r: Rig, refuse: (fill: (o: capProcess.ExecOptions) => void) => Promise<string | undefined>, code: string): Promise<void> => {
    const base = r.hc.live().anchors
    const root = (await r.host.root()).getRoot()
    const k = (await root.walk((p) => p.setPath('k'))).getAnchor()
    let released = 0
    const mine = new capAnchor.Anchor.Server({ path: (_p: unknown, res: capAnchor.Anchor_path$Results) => res.setPath('/mine') } as never)
    onReleased(mine, () => { released++ })
    const ro = new capAnchor.Anchor.Server({ path: (_p: unknown, res: capAnchor.Anchor_path$Results) => res.setPath('/ro') } as never)
    onReleased(ro, () => { released++ })
    expect(await refuse((o) => { setCaps(o, [['k', k], ['mine', mine]]); o.initOverrides().setRoot(ro as never) })).toBe(code)
    for (let i = 0; i < 10 && released < 2; i++) await tick()
    expect(released).toBe(2) // our own servers: the host's imports of them were released
    expect(r.hc.live().anchors).toBe(base + 2) // root and k: the spawner's own, nothing more
    k.dispose()
    for (let i = 0; i < 10 && r.hc.live().anchors > base + 1; i++) await tick()
    expect(r.hc.live().anchors).toBe(base + 1)
    expect(tree.counters().live).toBe(0)
  }

  test('refused for rights beyond the caller: caps and overrides released at once (ERR_CAP_DENIED)', async () => {
    const r = spawner()
    await refusedReleases(r, (fill) => codeOf(exec(r.host.executor().getExecutor(), 'user', (o) => { fill(o); o.initRights().setDebug(true) }).pid()), 'ERR_CAP_DENIED')
  })

  test('a module that fails to instantiate (an import not offered): caps and overrides released at once (ERR_INVALID_MODULE)', async () => {
    const wasm = new ProcessTree({ runtime: tinyRuntime(), cache: c.cache, host: c.id })
    const r = rig(c, { processId: 0, rights: { executor: true, root: true }, executor: executorProvider(wasm) })
    rigs.push(r)
    const bad = tinyModule({ park: true })
    bad[bad.indexOf(0x70) /* "p" of park */] = 0x71
    const refuse = (fill: (o: capProcess.ExecOptions) => void): Promise<string | undefined> =>
      codeOf(r.host.executor().getExecutor().exec((p) => { p.initBytecode().setInline(bad); fill(p.initOptions()) }).getProcess().pid())
    await refusedReleases(r, refuse, 'ERR_INVALID_MODULE')
    expect(wasm.counters()).toMatchObject({ spawned: 0, failedToStart: 1 })
    await wasm.close()
  })

  test('refused by the tree (maxProcesses reached): caps and overrides released at once (ERR_LIMIT)', async () => {
    const full = new ProcessTree({ runtime: jsRuntime(c, bodies), cache: c.cache, host: c.id, maxProcesses: 0 })
    const r = rig(c, { processId: 0, rights: { executor: true, root: true }, executor: executorProvider(full) })
    rigs.push(r)
    await refusedReleases(r, (fill) => codeOf(exec(r.host.executor().getExecutor(), 'user', fill).pid()), 'ERR_LIMIT')
    await full.close()
  })

  test('bad input after some caps were read (a name given twice): none of them is kept', async () => {
    const r = spawner()
    await refusedReleases(r, (fill) => codeOf(exec(r.host.executor().getExecutor(), 'user', (o) => {
      fill(o)
      const l = o.getCaps()
      l.get(1).setName('k') // the second 'k': read after the first
    }).pid()), 'ERR_INVALID_ARGUMENT')
  })

  test('a spawn aborted by its signal while the runtime starts it: its caps are let go at once, and the late process is ended', async () => {
    const r = spawner()
    let open!: () => void
    const gate = new Promise<void>((res) => { open = res })
    const kills: string[] = []
    const js = jsRuntime(c, bodies)
    const gated = new ProcessTree({
      runtime: {
        async start(spec, o) {
          await gate
          const running = await js.start(spec, o)
          return { exited: running.exited, kill: () => { kills.push(spec.name ?? ''); running.kill() } }
        },
      },
      cache: c.cache, host: c.id,
    })
    bodies.late = () => new Promise<number>(() => {}) // runs until killed
    const base = r.hc.live().anchors
    const k = (await (await r.host.root()).getRoot().walk((p) => p.setPath('k'))).getAnchor()
    expect(r.hc.live().anchors).toBe(base + 2)
    const ac = new AbortController()
    const spawned = gated.executor().spawn({ bytecode: MODULE, name: 'late', caps: [{ name: 'k', cap: k }] }, { signal: ac.signal })
    ac.abort()
    await expect(spawned).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    // The tree held a handle of its own and let go of it: the spawner's own is the last one.
    k.dispose()
    for (let i = 0; i < 10 && r.hc.live().anchors > base + 1; i++) await tick()
    expect(r.hc.live().anchors).toBe(base + 1)
    open()
    for (let i = 0; i < 10 && kills.length === 0; i++) await tick()
    expect(kills).toEqual(['late'])
    expect(gated.counters()).toMatchObject({ live: 0, spawned: 0, failedToStart: 1 })
    await gated.close()
  })

  test('bad caps are typed errors and spawn nothing: empty, long or duplicate names, a null cap, too many', async () => {
    const r = spawner()
    const ex = r.host.executor().getExecutor()
    const a = r.host.root().getRoot().walk((p) => p.setPath('a')).getAnchor()
    expect(await codeOf(exec(ex, 'user', (o) => setCaps(o, [['', a]])).pid())).toBe('ERR_INVALID_ARGUMENT')
    expect(await codeOf(exec(ex, 'user', (o) => setCaps(o, [['x', a], ['x', a]])).pid())).toBe('ERR_INVALID_ARGUMENT')
    expect(await codeOf(exec(ex, 'user', (o) => setCaps(o, [['x'.repeat(129), a]])).pid())).toBe('ERR_INVALID_ARGUMENT')
    expect(await codeOf(exec(ex, 'user', (o) => { o.initCaps(1).get(0).setName('null') }).pid())).toBe('ERR_INVALID_ARGUMENT')
    const many = Array.from({ length: MAX_CAPS + 1 }, (_, i): [string, ClientLike] => [`c${i}`, a])
    expect(await codeOf(exec(ex, 'user', (o) => setCaps(o, many)).pid())).toBe('ERR_LIMIT')
    expect(tree.counters().spawned).toBe(0)
  })
})
