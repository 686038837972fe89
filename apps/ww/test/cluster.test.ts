// Three `ww host` OS processes on 127.0.0.1 forming a js-libp2p cluster, driven by the
// real client binary: membership, spawn on another host through the first (exit status;
// Ctrl-C of `ww spawn --wait` kills it there), anchors written via B read and watched via
// C, pubsub from B to C, a process table seen from another host's web view, clean leaves.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { bin, jsonOf, removeHome, startClient, startHost, writeGuests, ww, type HostChild } from './hosts.js'

let a: HostChild, b: HostChild, c: HostChild
let ids: { a: string; b: string; c: string }
const on = (h: HostChild): NodeJS.ProcessEnv => ({ WW_HOME: h.home })
const sawJoin = (h: HostChild, id: string): Promise<unknown> => h.next((e) => e.event === 'join' && e.host === id, `a join of ${id}`)

// Membership TTL: no test here waits for a silent host to expire (a stopping host says bye
// or its connection closes), so the TTL only has to outlast a heartbeat delayed by a busy
// machine. At 3 s, hosts under load were dropped mid-test (and spawns onto them failed).
const TTL = ['--ttl', '60s']
// Test timeouts are hang bounds, not speed ones: every step starts `ww` client processes,
// seconds apiece on a loaded machine (the slowest test took 23 s beside a CPU hog).
const HANG = 120_000

beforeAll(async () => {
  a = startHost(['--listen', '/ip4/127.0.0.1/tcp/0', ...TTL, '--ui'])
  const ra = await a.ready()
  const addr = (ra.addresses as string[])[0]!
  b = startHost(['--join', addr, ...TTL])
  c = startHost(['--join', addr, ...TTL])
  const [rb, rc] = await Promise.all([b.ready(), c.ready()])
  ids = { a: String(ra.id), b: String(rb.id), c: String(rc.id) }
  // Everyone sees everyone (C learns of B through A, then dials it).
  await Promise.all([sawJoin(a, ids.b), sawJoin(a, ids.c), sawJoin(b, ids.c), sawJoin(c, ids.b)])
  await writeGuests(a.home)
}, HANG)

afterAll(async () => {
  for (const h of [a, b, c]) if (h) { await h.stop(); removeHome(h) }
})

test('joining prints progress; every host lists all three', async () => {
  // B joined through A while C joined through A too: B may see C before A (C dials it once
  // A tells it of B), so the "saw host" lines are a set: each host once, A among them, and
  // "joined" only after A was seen.
  const progress = b.events.filter((e) => e.event === 'progress').map((e) => String(e.message).trim())
  expect(progress.slice(0, 2)).toEqual([
    'starting a libp2p host',
    expect.stringMatching(/^joining through \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//),
  ])
  expect(progress.at(-1)).toMatch(/^joined: the cluster has \d host\(s\)$/)
  const saw = progress.slice(2, -1).map((m) => /^saw host (\S+)$/.exec(m)?.[1] ?? `not a "saw host" line: ${m}`)
  expect(new Set(saw).size).toBe(saw.length)
  expect(saw).toContain(ids.a)
  for (const id of saw) expect([ids.a, ids.c]).toContain(id)
  for (const h of [a, b, c]) {
    const listed = JSON.parse((await ww(['cluster', 'ls', '--json'], on(h))).stdout) as Array<{ id: string; self: boolean }>
    expect(listed.map((x) => x.id).sort()).toEqual([ids.a, ids.b, ids.c].sort())
    expect(listed.filter((x) => x.self).map((x) => x.id)).toEqual([String((await h.ready()).id)])
  }
}, HANG)

test('spawn through A onto B: it runs on B and A reports its exit status', async () => {
  const r = await ww(['spawn', join(a.home, 'exit3.wasm'), '--on', ids.b.slice(0, 20), '--wait', '--json'], on(a))
  expect(jsonOf(r)).toMatchObject({ host: ids.b, status: { kind: 'exited', code: 3 } })
  expect(r.status).toBe(3)
}, HANG)

test('Ctrl-C on `ww spawn --wait` (through A) kills the process running on B', async () => {
  const client = spawn(process.execPath, [bin, 'spawn', join(a.home, 'spin.wasm'), '--on', ids.b, '--name', 'far-spinner', '--wait', '--json'], {
    env: { ...process.env, ...on(a) }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  const out: string[] = []
  let err = ''
  createInterface({ input: client.stdout }).on('line', (l) => out.push(l))
  client.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | null>((r) => client.once('exit', r))
  // Running on B: B's own process table lists it, with its parent on A (pid 0: A's operator).
  let row: { pid: number; parent: string; name: string; state: string } | undefined
  while (row === undefined) {
    if (client.exitCode !== null) throw new Error(`ww spawn exited ${client.exitCode} before the process ran on B: ${err}`)
    const ps = JSON.parse((await ww(['ps', '--json'], on(b))).stdout) as Array<{ pid: number; parent: string; name: string; state: string }>
    row = ps.find((p) => p.name === 'far-spinner' && p.state === 'running') // `starting` while B meters it
  }
  expect(row).toMatchObject({ parent: `${ids.a}/0`, state: 'running' })
  client.kill('SIGINT')
  expect(await exited).toBe(137)
  expect(JSON.parse(out.at(-1)!)).toMatchObject({ host: ids.b, pid: row.pid, status: { kind: 'killed' } })
  const after = JSON.parse((await ww(['ps', '--json'], on(b))).stdout) as Array<{ pid: number }>
  expect(after.map((p) => p.pid)).not.toContain(row.pid)
}, HANG)

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
}, HANG)

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
}, HANG)

test("A's web view shows every host's process table (each host publishes its own)", async () => {
  const url = String((await a.ready()).ui)
  const spun = jsonOf<{ pid: number }>(await ww(['spawn', join(a.home, 'spin.wasm'), '--on', ids.c, '--name', 'seen-from-a', '--json'], on(a)))
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
}, HANG)

test('a host that stops says goodbye: the others see it leave (bye); it exits 0', async () => {
  // A must see C before it stops (else no leave can come): a host dropped earlier under load
  // fails here, with how it left, instead of hanging.
  const lastOfC = a.events.filter((e) => (e.event === 'join' || e.event === 'leave') && e.host === ids.c).at(-1)
  expect(lastOfC).toMatchObject({ event: 'join' })
  const before = a.events.length
  const leftAfterStop = (e: { event: string; host?: unknown }): boolean => e.event === 'leave' && e.host === ids.c && a.events.indexOf(e as never) >= before
  expect(await c.stop()).toBe(0)
  const left = await a.next(leftAfterStop, 'C leaving')
  // Its bye, or the closed connection, whichever A notices first; never the TTL (60 s).
  expect(left.reason).toMatch(/^(bye|disconnect)$/)
}, HANG)
