// Three `ww host` OS processes on 127.0.0.1 forming a js-libp2p cluster, driven by the
// real client binary: membership, spawn on another host through the first (exit status;
// Ctrl-C of `ww spawn --wait` kills it there), anchors written via B read and watched via
// C, pubsub from B to C, a process table seen from another host's web view, clean leaves.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { bin, removeHome, startClient, startHost, writeGuests, ww, type HostChild } from './hosts.js'

let a: HostChild, b: HostChild, c: HostChild
let ids: { a: string; b: string; c: string }
const on = (h: HostChild): NodeJS.ProcessEnv => ({ WW_HOME: h.home })
const sawJoin = (h: HostChild, id: string): Promise<unknown> => h.next((e) => e.event === 'join' && e.host === id, `a join of ${id}`)

beforeAll(async () => {
  a = startHost(['--listen', '/ip4/127.0.0.1/tcp/0', '--ttl', '3s', '--ui'])
  const ra = await a.ready()
  const addr = (ra.addresses as string[])[0]!
  b = startHost(['--join', addr, '--ttl', '3s'])
  c = startHost(['--join', addr, '--ttl', '3s'])
  const [rb, rc] = await Promise.all([b.ready(), c.ready()])
  ids = { a: String(ra.id), b: String(rb.id), c: String(rc.id) }
  // Everyone sees everyone (C learns of B through A, then dials it).
  await Promise.all([sawJoin(a, ids.b), sawJoin(a, ids.c), sawJoin(b, ids.c), sawJoin(c, ids.b)])
  await writeGuests(a.home)
})

afterAll(async () => {
  for (const h of [a, b, c]) if (h) { await h.stop(); removeHome(h) }
})

test('joining prints progress; every host lists all three', async () => {
  expect(b.events.filter((e) => e.event === 'progress').map((e) => e.message)).toEqual([
    'starting a libp2p host',
    expect.stringMatching(/^joining through \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//),
    `saw host ${ids.a}`,
    expect.stringMatching(/^joined: the cluster has \d host\(s\)$/),
  ])
  for (const h of [a, b, c]) {
    const listed = JSON.parse((await ww(['cluster', 'ls', '--json'], on(h))).stdout) as Array<{ id: string; self: boolean }>
    expect(listed.map((x) => x.id).sort()).toEqual([ids.a, ids.b, ids.c].sort())
    expect(listed.filter((x) => x.self).map((x) => x.id)).toEqual([String((await h.ready()).id)])
  }
})

test('spawn through A onto B: it runs on B and A reports its exit status', async () => {
  const r = await ww(['spawn', join(a.home, 'exit3.wasm'), '--on', ids.b.slice(0, 20), '--wait', '--json'], on(a))
  expect(JSON.parse(r.stdout)).toMatchObject({ host: ids.b, status: { kind: 'exited', code: 3 } })
  expect(r.status).toBe(3)
})

test('Ctrl-C on `ww spawn --wait` (through A) kills the process running on B', async () => {
  const client = spawn(process.execPath, [bin, 'spawn', join(a.home, 'spin.wasm'), '--on', ids.b, '--name', 'far-spinner', '--wait', '--json'], {
    env: { ...process.env, ...on(a) }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  const out: string[] = []
  createInterface({ input: client.stdout }).on('line', (l) => out.push(l))
  const exited = new Promise<number | null>((r) => client.once('exit', r))
  // Running on B: B's own process table lists it, with its parent on A (pid 0: A's operator).
  let row: { pid: number; parent: string; name: string; state: string } | undefined
  while (row === undefined) {
    const ps = JSON.parse((await ww(['ps', '--json'], on(b))).stdout) as Array<{ pid: number; parent: string; name: string; state: string }>
    row = ps.find((p) => p.name === 'far-spinner' && p.state === 'running') // `starting` while B meters it
  }
  expect(row).toMatchObject({ parent: `${ids.a}/0`, state: 'running' })
  client.kill('SIGINT')
  expect(await exited).toBe(137)
  expect(JSON.parse(out.at(-1)!)).toMatchObject({ host: ids.b, pid: row.pid, status: { kind: 'killed' } })
  const after = JSON.parse((await ww(['ps', '--json'], on(b))).stdout) as Array<{ pid: number }>
  expect(after.map((p) => p.pid)).not.toContain(row.pid)
})

test('an anchor written via B is read, listed and watched (with its values) via C', async () => {
  const watcher = await startClient(['anchors', 'watch', `/${ids.b}/shared`, '--count', '2', '--json'], on(c), 'watching')
  expect((await ww(['anchors', 'put', 'shared/greeting', 'hello from B'], on(b))).status).toBe(0)
  expect(JSON.parse((await ww(['anchors', 'get', `/${ids.b}/shared/greeting`, '--json'], on(c))).stdout))
    .toEqual({ path: `/${ids.b}/shared/greeting`, version: 1, kind: 'data', value: 'hello from B', encoding: 'utf8' })
  expect(JSON.parse((await ww(['anchors', 'ls', `/${ids.b}/shared`, '--json'], on(c))).stdout))
    .toEqual({ path: `/${ids.b}/shared`, children: [{ name: 'greeting', value: true, children: false }] })
  expect((await ww(['anchors', 'put', 'shared/greeting', 'again'], on(b))).status).toBe(0)
  expect(await watcher.exited).toBe(0)
  expect(watcher.lines.map((l) => JSON.parse(l) as unknown)).toEqual([
    { path: `/${ids.b}/shared/greeting`, kind: 'set', version: 1, value: 'hello from B', encoding: 'utf8' },
    { path: `/${ids.b}/shared/greeting`, kind: 'set', version: 2, value: 'again', encoding: 'utf8' },
  ])
})

test('a message published via B reaches a subscriber via C', async () => {
  const sub = await startClient(['sub', 'news', '--count', '1', '--json'], on(c), 'subscribed to news')
  // Gossipsub forms its mesh a moment after the subscription: publish until it arrives.
  let n = 0
  const done = sub.exited.then(() => true)
  while (!(await Promise.race([done, Promise.resolve(false)]))) {
    await ww(['pub', 'news', `hello ${n++}`], on(b))
  }
  expect(await sub.exited).toBe(0)
  expect(JSON.parse(sub.lines[0]!)).toMatchObject({ topic: 'news', from: ids.b, data: expect.stringMatching(/^hello \d+$/) })
})

test("A's web view shows every host's process table (each host publishes its own)", async () => {
  const url = String((await a.ready()).ui)
  const spun = JSON.parse((await ww(['spawn', join(a.home, 'spin.wasm'), '--on', ids.c, '--name', 'seen-from-a', '--json'], on(a))).stdout) as { pid: number }
  type Snap = { hosts: Array<{ id: string; processes: Array<{ pid: number; name: string; state: string; parent: number; parentHost?: string }> | null }> }
  let snap: Snap
  do {
    snap = await (await fetch(`${url}api/snapshot`)).json() as Snap
  } while (!snap.hosts.find((h) => h.id === ids.c)?.processes?.some((p) => p.name === 'seen-from-a' && p.state === 'running'))
  expect(snap.hosts.map((h) => h.id).sort()).toEqual([ids.a, ids.b, ids.c].sort())
  expect(snap.hosts.every((h) => h.processes !== null)).toBe(true)
  expect(snap.hosts.find((h) => h.id === ids.c)!.processes).toContainEqual(expect.objectContaining({ pid: spun.pid, name: 'seen-from-a', state: 'running', parent: 0, parentHost: ids.a }))
  // A's own `ww ps` lists the child it started on C, under C's id and C's pid.
  const psA = await ww(['ps'], on(a))
  expect(psA.stdout).toMatch(/^HOST\s+PID\s+PARENT\s+NAME\s+STATE\s+AGE/m)
  expect(psA.stdout).toMatch(new RegExp(`^${ids.c}\\s+${spun.pid}\\s+0\\s+seen-from-a\\s+running`, 'm'))
  expect((await ww(['kill', String(spun.pid)], on(c))).status).toBe(0)
})

test('a host that stops says goodbye: the others see it leave (bye); it exits 0', async () => {
  expect(await c.stop()).toBe(0)
  await a.next((e) => e.event === 'leave' && e.host === ids.c, 'C leaving')
  // Its bye, or the closed connection, whichever A notices first.
  expect(a.events.find((e) => e.event === 'leave' && e.host === ids.c)?.reason).toMatch(/^(bye|disconnect)$/)
})
