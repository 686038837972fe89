// The cluster under faults, with real `ww host` OS processes: join, a partition that heals
// (and what it does to anchors), bad links (order kept), a host lost without a goodbye while it has
// children on other hosts and registry entries.
// In network namespaces as root (CI), else on loopback, where partitions and silent
// machines cannot be made: those tests say so and are skipped.
import { execFile } from 'node:child_process'
import { guestPath, type GuestName } from '@ww/guest'
import { FaultCluster, JobRun, makeJob, readCounts, runJob } from '../src/index.js'
import { wwBin } from '../src/host-process.js'

const HOSTS = 4
let cluster: FaultCluster

// TTL 30 s by default, WW_FAULTS_TTL=3s to try the host default's range: since finding 17
// the views hold at 3 s beside CPU hogs, but at load 30+ the remote spawns timed out in 3
// of 3 stress runs there (README, findings 1 and 17), and a flaky test blocks every landing.
const TTL = process.env.WW_FAULTS_TTL ?? '30s'
beforeAll(async () => {
  cluster = await FaultCluster.start({ hosts: HOSTS, ttl: TTL, signal: AbortSignal.timeout(110_000) })
  if (cluster.skipped.length) console.log(`cluster-faults (${cluster.mode}): skipped ${cluster.skipped.join('; ')}`)
}, 120_000)
afterAll(() => cluster?.close(), 60_000)

/** `ww …` against host i, to its end: exit status and output (a failure is a result, not a throw). */
function ww(i: number, args: string[], input?: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [wwBin, ...args], { env: { ...process.env, WW_HOME: cluster.hosts[i]!.process.home, NO_COLOR: '1' }, timeout: 60_000 }, (e, stdout, stderr) => {
      resolve({ status: e ? Number((e as { code?: unknown }).code ?? 1) : 0, stdout, stderr })
    })
    child.stdin?.end(input ?? '')
  })
}

const id = (i: number): string => cluster.hosts[i]!.process.id
const netns = (): boolean => cluster.mode === 'netns'

test('join: every host sees all the others', async () => {
  await cluster.converged()
  for (const h of cluster.hosts) expect([...h.process.view].sort()).toEqual(cluster.hosts.filter((o) => o !== h).map((o) => o.process.id).sort())
})

test('partition and heal: each side sees only itself, anchors have one writer, one view again after', async () => {
  if (!netns()) return console.log(`skipped: ${cluster.skipped[0]}`)
  expect((await ww(0, ['anchors', 'put', 'p/x', 'before'])).status).toBe(0)
  expect((await ww(2, ['anchors', 'get', `/${id(0)}/p/x`])).stdout).toContain('before')

  cluster.partition([0, 1], [2, 3])
  await Promise.all([cluster.converged([0, 1]), cluster.converged([2, 3])])
  expect(cluster.hosts[0]!.process.view).toEqual(new Set([id(1)]))
  expect(cluster.hosts[3]!.process.view).toEqual(new Set([id(2)]))
  // Each host is the only writer of its subtree, so both sides go on writing without
  // conflict; a read across the cut fails with a typed error rather than a stale value.
  expect((await ww(0, ['anchors', 'put', 'p/x', 'during'])).status).toBe(0)
  expect((await ww(2, ['anchors', 'put', 'p/y', 'other side'])).status).toBe(0)
  const across = await ww(2, ['anchors', 'get', `/${id(0)}/p/x`])
  expect(across.status).not.toBe(0)
  expect(across.stderr).toMatch(/ERR_[A-Z_]+/)

  cluster.heal()
  await cluster.converged()
  expect((await ww(2, ['anchors', 'get', `/${id(0)}/p/x`])).stdout).toContain('during')
  expect((await ww(1, ['anchors', 'get', `/${id(2)}/p/y`])).stdout).toContain('other side')
})

test('bad links: with delay, jitter and resets, a publisher\'s messages arrive in its order, none twice', async () => {
  cluster.setFaults({ delayMs: 50, jitterMs: 20, resetsPerSec: 0.4 })
  try {
    const topic = `faults-${process.pid}`
    const sub = execFileLines(3, ['sub', topic, '--json'])
    try {
      await sub.ready
      // One publisher for all of them (`--stdin`: one line, one message, each answered before the next).
      const lines = Array.from({ length: 40 }, (_, n) => `m${n}\n`).join('')
      expect(await ww(0, ['pub', topic, '--stdin'], lines)).toMatchObject({ status: 0 })
      cluster.setFaults({ delayMs: 0, jitterMs: 0, resetsPerSec: 0 })
      await cluster.converged()
      await ww(0, ['pub', topic, 'last'])                 // liveness: after the faults, one gets through
      const got = await sub.until((lines) => lines.some((l) => l.data === 'last'))
      const seqs = got.filter((l) => l.data !== 'last').map((l) => Number(String(l.data).slice(1)))
      expect(seqs.length).toBeGreaterThan(0)              // some crossed the bad links (an empty list would prove nothing)
      expect(new Set(seqs).size).toBe(seqs.length)        // none twice
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs) // in the publisher's order
    } finally {
      sub.stop()
    }
  } finally {
    cluster.setFaults({ delayMs: 0, jitterMs: 0, resetsPerSec: 0 })
  }
}, 240_000) // a hang bound: 40 messages over 50 ms links on a loaded machine

test('a host lost with children elsewhere and registry entries: every view drops it, its children end killed, its entries vanish', async () => {
  await cluster.converged()
  const lost = id(3)
  // A provider on the host to be lost, and a child it started on host 1 (its parent is
  // host 3 itself: `ww spawn --on`), which provides too.
  expect(await ww(3, ['spawn', guest('wasi-serve-echo'), '--args', 'on-lost', '--name', 'provider'])).toMatchObject({ status: 0, stderr: '' })
  const started = await ww(3, ['spawn', guest('wasi-serve-echo'), '--on', id(1), '--args', 'child-of-lost', '--name', 'child', '--json'])
  expect(started).toMatchObject({ status: 0, stderr: '' })
  const child = JSON.parse(started.stdout) as { pid: number; host: string }
  expect(child.host).toBe(id(1))
  expect(await providers(0, 'on-lost', 1)).toEqual([lost])
  expect(await providers(0, 'child-of-lost', 1)).toEqual([id(1)])
  expect(await psParentedBy(1, lost)).toEqual([child.pid])

  // netns: its links fall silent first (only the TTL can tell); loopback: SIGKILL alone.
  await cluster.crash(3, netns() ? 'machine' : 'process')
  await cluster.converged(undefined, AbortSignal.timeout(60_000))
  for (const h of cluster.live) expect(h.process.view.has(lost)).toBe(false)
  const left = cluster.hosts[0]!.process.events.find((e) => e.event === 'leave' && e.host === lost)
  expect(left?.reason).toBeDefined()

  // Its child on host 1 was killed for it, with the reason; nothing it parented runs anywhere.
  // (Host 1's own record of the end: a `ww wait` started beside the crash may connect after
  // the child is gone, at a 3 s TTL, and then has nothing to wait on.)
  expect(await ended(1, child.pid)).toMatchObject({ name: 'child', status: { kind: 'killed', reason: 'parentExited' } })
  // (Each `ww` is a Node start: seconds on a loaded machine, so the hosts are asked at once.)
  expect(await Promise.all([0, 1, 2].map((i) => psParentedBy(i, lost)))).toEqual([[], [], []])
  // Its entries are gone from every view of the registry (the child's withdrawn as it ended).
  expect(await Promise.all([0, 1, 2].flatMap((i) => [providers(i, 'on-lost'), providers(i, 'child-of-lost')]))).toEqual(Array(6).fill([]))
}, 300_000)

test('churn: hosts join, leave and crash under a running stream and a child elsewhere; views converge, the stream keeps its order, the child on the crashed host ends hostLost', async () => {
  await cluster.converged()
  const topic = `churn-${process.pid}`
  const sub = execFileLines(0, ['sub', topic, '--json'])
  const pub = stdinPublisher(1, topic)
  try {
    await sub.ready
    pub.send('c0')
    const joined = await cluster.add(0, AbortSignal.timeout(60_000))                 // a host joins
    await cluster.converged(undefined, AbortSignal.timeout(60_000))
    pub.send('c1')
    const started = await ww(0, ['spawn', guest('wasi-serve-echo'), '--on', joined.process.id, '--args', 'churn', '--name', 'churn-child', '--json'])
    expect(started).toMatchObject({ status: 0 })
    const child = JSON.parse(started.stdout) as { pid: number; host: string }
    expect(child.host).toBe(joined.process.id)
    pub.send('c2')
    const [, late] = await Promise.all([cluster.leave(2), cluster.add(1, AbortSignal.timeout(60_000))]) // one leaves as another joins
    await cluster.converged(undefined, AbortSignal.timeout(60_000))
    pub.send('c3')
    await cluster.crash(joined.index, 'process')                                      // the child's host dies
    await cluster.converged(undefined, AbortSignal.timeout(60_000))
    for (const h of cluster.live) expect([...h.process.view].sort()).toEqual(cluster.live.filter((o) => o !== h).map((o) => o.process.id).sort())
    expect(cluster.live.map((h) => h.index)).toEqual(expect.arrayContaining([0, 1, late.index]))
    expect(cluster.live.map((h) => h.index)).not.toEqual(expect.arrayContaining([2]))

    // Host 0's record of its child: ended with the host that ran it, and nothing of it left.
    expect(await ended(0, child.pid, joined.process.id)).toMatchObject({ name: 'churn-child', status: { kind: 'hostLost', host: joined.process.id } })
    const rows = JSON.parse((await ww(0, ['ps', '--json'])).stdout) as { host: string; state: string }[]
    expect(rows.filter((r) => r.host === joined.process.id && r.state !== 'exited')).toEqual([])

    // The stream went on through it: in the publisher's order, none twice, the last one there.
    pub.send('end')
    expect(await pub.close()).toBe(0)
    const got = (await sub.until((lines) => lines.some((l) => l.data === 'end')).catch((e: Error) => {
      // What hosts 0 and 1 said about each other (joins, leaves and why) tells a lost link from a lost message.
      const about = (i: number, j: number): string => JSON.stringify(cluster.hosts[i]!.process.events.filter((ev) => ev.host === id(j) && (ev.event === 'join' || ev.event === 'leave')).map((ev) => `${ev.event}${ev.reason ? ` ${String(ev.reason)}` : ''}`))
      throw new Error(`${e.message}; host 0 on host 1: ${about(0, 1)}; host 1 on host 0: ${about(1, 0)}`)
    })).map((l) => String(l.data))
    expect(new Set(got).size).toBe(got.length)
    expect(got).toEqual(['c0', 'c1', 'c2', 'c3', 'end'].filter((m) => got.includes(m)))
  } finally {
    sub.stop()
    pub.kill()
  }
}, 300_000) // a hang bound: three host starts, a guest start and convergence on a loaded machine // a hang bound: two guest starts, a 30 s TTL and registry waits on a loaded machine

test('churn: a word-count job finishes with the right total while worker hosts leave and join every 2 s; no acknowledged write is lost', async () => {
  await cluster.converged()
  // Claims and counts live in host 0's anchors; the workers are hosts joined from this
  // process (src/wordcount.ts). First on a stable set of workers, then with one leaving —
  // always one with a claim in hand — and a new one joining every 2 s.
  const job = makeJob(8)
  const stable = new JobRun(job, id(0), `job-stable-${process.pid}`, 300)
  let t = performance.now()
  await runJob(cluster, stable, 2, undefined, AbortSignal.timeout(180_000))
  const stableMs = performance.now() - t
  const run = new JobRun(job, id(0), `job-churn-${process.pid}`, 300)
  t = performance.now()
  const churn = await runJob(cluster, run, 2, 2000, AbortSignal.timeout(180_000))
  const churnMs = performance.now() - t
  console.log(`word count of ${job.chunks.length} items: stable ${Math.round(stableMs)} ms, churn ${Math.round(churnMs)} ms (${churn.left} left, ${churn.joined} joined, ${run.claims} claims, ${run.reclaims} re-claimed, ${run.retries} calls retried)`)

  // Each worker left holding a claim it had not written (runJob picks it as it claims): the
  // job can only have finished by someone claiming each such item again.
  expect(churn.left).toBeGreaterThan(0)
  expect(run.reclaims).toBeGreaterThanOrEqual(churn.left)
  // What the owner holds, read by a host that did none of the work.
  const held = await readCounts(cluster, run)
  expect(held.size).toBe(job.chunks.length)
  expect([...held.values()].reduce((a, b) => a + b, 0)).toBe(job.total)
  for (const [k, count] of run.acked) expect(held.get(k)).toBe(count) // every acknowledged write is there
}, 300_000) // a hang bound: two jobs and a dozen host starts on a loaded machine

/** Process `pid`'s (of host `on`, default i) `exit` event from host i's `ww host --json` lines, once it comes. */
async function ended(i: number, pid: number, on = id(i)): Promise<Record<string, unknown>> {
  const h = cluster.hosts[i]!.process
  const find = () => h.events.find((e) => e.event === 'exit' && e.pid === pid && e.host === on)
  await h.until(() => find() !== undefined, `the end of process ${pid}`, AbortSignal.timeout(120_000))
  return find()!
}

const guest = (name: GuestName): string => guestPath(name, { asyncify: false })

/** The hosts providing `name`, as host i's registry answers (waiting for `min` of them, if given). */
async function providers(i: number, name: string, min?: number): Promise<string[]> {
  const r = await ww(i, ['registry', 'find', name, '--json', ...(min ? ['--min', String(min), '--wait', '30s'] : [])])
  expect(r.stderr).toBe('')
  return (JSON.parse(r.stdout) as { host: string }[]).map((p) => p.host)
}

/** Pids of the processes on host i not yet ended whose parent is on host `parent`. */
async function psParentedBy(i: number, parent: string): Promise<number[]> {
  const r = await ww(i, ['ps', '--json'])
  const rows = JSON.parse(r.stdout) as { pid: number; host: string; parent: string; state: string }[]
  return rows.filter((p) => p.host === id(i) && p.state !== 'exited' && p.parent.startsWith(`${parent}/`)).map((p) => p.pid)
}

/** A long-running `ww sub --json` against host i, its lines parsed as they come. */
function execFileLines(i: number, args: string[]) {
  const lines: { data?: unknown }[] = []
  const waiters = new Set<() => void>()
  const child = execFile(process.execPath, [wwBin, ...args], { env: { ...process.env, WW_HOME: cluster.hosts[i]!.process.home, NO_COLOR: '1' } })
  let buf = ''
  child.stdout!.on('data', (b: Buffer) => {
    buf += b.toString()
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, nl)) as { data?: unknown })
      buf = buf.slice(nl + 1)
    }
    for (const w of [...waiters]) w()
  })
  let stderr = ''
  const ready = new Promise<void>((resolve) => child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); if (stderr.includes('subscribed')) resolve() }))
  return {
    ready,
    /** Resolves with every line so far once `pred` holds; rejects, saying what came, after `boundMs`. */
    async until(pred: (l: typeof lines) => boolean, boundMs = 120_000) {
      const bound = AbortSignal.timeout(boundMs)
      while (!pred(lines)) {
        if (bound.aborted) throw new Error(`ww sub: not there within ${boundMs} ms; got ${JSON.stringify(lines.map((l) => l.data))}; stderr ${stderr}`)
        await new Promise<void>((r) => {
          const w = (): void => { waiters.delete(w); bound.removeEventListener('abort', w); r() }
          waiters.add(w)
          bound.addEventListener('abort', w, { once: true })
        })
      }
      return lines
    },
    stop: () => child.kill(),
  }
}

/** A `ww pub TOPIC --stdin` against host i kept open: a message per send(), in order. */
function stdinPublisher(i: number, topic: string) {
  const child = execFile(process.execPath, [wwBin, 'pub', topic, '--stdin'], { env: { ...process.env, WW_HOME: cluster.hosts[i]!.process.home, NO_COLOR: '1' } })
  let stderr = ''
  child.stderr!.on('data', (b: Buffer) => { stderr += b.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { if (code !== 0) console.log(`ww pub ended ${code}: ${stderr}`); resolve(code) }))
  return {
    send: (line: string) => { child.stdin!.write(`${line}\n`) },
    close: () => { child.stdin!.end(); return exited },
    kill: () => child.kill(),
  }
}
