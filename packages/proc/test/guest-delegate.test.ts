// Capabilities guests serve, handed on: a parent guest passes a child (a copy of itself,
// spawned by cid) an Echo it serves, through ExecOptions.caps, and serves the child's
// calls while it waits for it; then three parties: the parent hands its child an Echo
// that a third guest serves and offers in the registry. Real RPC, AssemblyScript guests.
import { executorProvider, hostCapability } from '@ww/host'
import { guestBytes } from '@ww/guest'
import { host as capHost, type process as capProcess } from '@ww/schema'
import { createPair } from '@ww/transport'
import { guestTree, type GuestTree } from './guest-tree.js'

const rights = (o: capProcess.ExecOptions): void => {
  const r = o.initRights()
  r.setExecutor(true)
  r.setRegistry(true)
}

async function exec(g: GuestTree, host: capHost.Host$Client, bytes: Uint8Array, args: string): Promise<{ pid: number; wait: () => Promise<number>; kill: () => Promise<unknown> }> {
  const p = host.executor().getExecutor().exec((q) => {
    q.initBytecode().setInline(bytes)
    const o = q.initOptions()
    if (args) o.setArgs(new TextEncoder().encode(args))
    rights(o)
  }).getProcess()
  const pid = Number((await p.pid()).getSelf().getPid())
  return {
    pid,
    wait: async () => { const st = (await p.wait()).getStatus(); return st.isExited() ? st.getExited() : -1 },
    kill: async () => { await p.kill() },
  }
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 24000) throw new Error(`gave up waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

test('a parent guest passes its child an Echo it serves; the child calls it back while the parent waits', async () => {
  await using g = await guestTree('thread')
  const hc = hostCapability(g.cluster, { processId: 0, rights: { executor: true, registry: true }, executor: executorProvider(g.tree) })
  const [client] = createPair({ frames: true, b: { bootstrap: hc.server } })
  try {
    const host = client.bootstrap(capHost.Host)
    const parent = await exec(g, host, await guestBytes('wasi-delegate', { asyncify: false }), '')
    expect(await parent.wait()).toBe(0)
    const out = g.output(parent.pid)
    expect(out).toContain('parent: passing its own echo')
    expect(out).toContain('parent: served 1 call(s); the child exited 0')
    // The child's own output (its pid is the next one): the bytes came back.
    expect(g.output(parent.pid + 1)).toContain('child: echoed hello from the child')
  } finally {
    client.close()
    hc.close()
  }
}, 180_000) // the host meters and instruments the guest first: seconds, more on a loaded machine

test('three parties: a parent hands its child an Echo a third guest serves (found in the registry); the calls reach that guest', async () => {
  await using g = await guestTree('thread')
  const hc = hostCapability(g.cluster, { processId: 0, rights: { executor: true, registry: true }, executor: executorProvider(g.tree) })
  const [client] = createPair({ frames: true, b: { bootstrap: hc.server } })
  try {
    const host = client.bootstrap(capHost.Host)
    const c = await exec(g, host, await guestBytes('wasi-serve-echo', { asyncify: false }), 'echo-c')
    await until('C providing', () => g.output(c.pid).includes('providing echo as echo-c'))
    const parent = await exec(g, host, await guestBytes('wasi-delegate', { asyncify: false }), 'find:echo-c')
    expect(await parent.wait()).toBe(0)
    const out = g.output(parent.pid)
    expect(out).toContain(`parent: passing echo-c of ${g.cluster.id}/${c.pid}`)
    expect(out).toContain('parent: served 0 call(s); the child exited 0') // not through the parent
    expect(g.output(parent.pid + 1)).toContain('child: echoed hello from the child')
    await c.kill()
  } finally {
    client.close()
    hc.close()
  }
}, 180_000)
