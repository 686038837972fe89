// ui.stream.bytes-per-second.real-hosts: what the web view's stream sends a page per
// second on a real cluster: HOSTS `ww host` OS processes on 127.0.0.1 (js-libp2p), each
// running PER_HOST idle guests (wasi-serve-echo, waiting for calls), every host publishing
// its status, links and round trips; the page (a real HTTP client of A's view) views 40
// rows and one process. Next to the simulated figure (ui-stream.ts: 16 × 10,000), this one
// has every byte come from real hosts. Baseline: the view before (every row of every host
// each 500 ms), for the same tables, in the same windows.
// `node dist/bench/ui-stream-real.js` runs it (WW_BENCH_HOSTS, WW_BENCH_PER_HOST to change the size).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { report } from '@ww/bench-kit'
import { guestBytes } from '@ww/guest'
import { connectHost } from '../client.js'
import type { HostStatus } from '../host/status.js'
import type { Topology } from '../ui/topology.js'
import { oldSnapshotBytes, streamBytes } from './stream-client.js'

const HOSTS = Number(process.env.WW_BENCH_HOSTS ?? 4)
// Above MAX_PUBLISHED.live (500): each host's table reaches A's view in pages (status-pages.ts).
const PER_HOST = Number(process.env.WW_BENCH_PER_HOST ?? 600)
const WINDOW_MS = 5_000
const RUNS = 5
const bin = fileURLToPath(new URL('../bin.js', import.meta.url))

interface Started { child: ChildProcess; home: string; ready: { id: string; ui?: string; addresses: string[] } }

function startHost(args: string[]): Promise<Started> {
  const home = mkdtempSync(join(tmpdir(), 'ww-bench-real-'))
  const child = spawn(process.execPath, [bin, 'host', '--json', '--ttl', '60s', ...args], { env: { ...process.env, WW_HOME: home }, stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const e = JSON.parse(line) as { event: string } & Started['ready']
      if (e.event === 'ready') resolve({ child, home, ready: e })
    })
    child.once('exit', (code) => reject(new Error(`ww host exited (${code}) before it was ready`)))
  })
}

interface Snapshot { self: string; topology: Topology; hosts: Array<{ id: string; processes: HostStatus['processes'] | null }> }
const snapshot = async (url: string): Promise<Snapshot> => await (await fetch(`${url}api/snapshot`)).json() as Snapshot

const a = await startHost(['--listen', '/ip4/127.0.0.1/tcp/0', '--ui'])
const hosts = [a]
for (let i = 1; i < HOSTS; i++) hosts.push(await startHost(['--join', a.ready.addresses[0]!]))
const url = a.ready.ui!
try {
  const echo = await guestBytes('wasi-serve-echo', { asyncify: false })
  for (const h of hosts) {
    await using s = await connectHost(undefined, { WW_HOME: h.home })
    const ex = s.host.executor().getExecutor()
    const started = Array.from({ length: PER_HOST }, (_, i) => ex.exec((p) => { p.initBytecode().setInline(echo); p.initOptions().setName(`idle-${i}`) }).getProcess().pid())
    await Promise.all(started)
  }
  // Until A's view has every host's every process, and a measured round trip on every link.
  const pairs = HOSTS * (HOSTS - 1) / 2
  let snap: Snapshot
  for (;;) {
    snap = await snapshot(url)
    const rows = snap.hosts.reduce((n, h) => n + (h.processes?.filter((p) => p.state !== 'starting').length ?? 0), 0)
    const measured = snap.topology.links.filter((l) => l.up && l.rttAB !== null && l.rttBA !== null).length
    if (snap.hosts.length === HOSTS && rows >= HOSTS * PER_HOST && measured === pairs) break
    await new Promise((r) => setTimeout(r, 500))
  }
  const selected = `${a.ready.id}/${snap.hosts.find((h) => h.id === a.ready.id)!.processes![0]!.pid}`
  const values: number[] = []
  const baseline: number[] = []
  const rtts: number[] = []
  for (let run = 0; run < RUNS; run++) {
    values.push(await streamBytes(url, { offset: 0, limit: 40, collapsed: [], selected }, WINDOW_MS))
    const now = await snapshot(url)
    baseline.push(oldSnapshotBytes(now.self, now.hosts.map((h) => ({ host: h.id, processes: h.processes ?? [] }))) * 2)
    for (const l of now.topology.links) for (const r of [l.rttAB, l.rttBA]) if (r !== null) rtts.push(r)
  }
  const params = {
    hosts: HOSTS, processesPerHost: PER_HOST, rowsInView: 40, selected: 1, tickMs: 1000, windowMs: WINDOW_MS,
    real: '`ww host` OS processes on 127.0.0.1, js-libp2p, idle wasi-serve-echo guests (see src/bench/ui-stream-real.ts)',
  }
  report({
    name: 'ui.stream.bytes-per-second.real-hosts', unit: 'B/s', samples: values,
    baseline: { name: 'every row of every host each 500 ms tick (the view before)', samples: baseline },
    params,
  })
  // What the topology shows on this machine: every link's last round trip, each end's, over the runs.
  report({ name: 'ui.topology.rtt-ms', unit: 'ms', samples: rtts, params: { hosts: HOSTS, links: pairs, note: 'ping echo timed with performance.now(), loopback, hosts loaded by the bench itself' } })
} finally {
  for (const h of hosts.reverse()) {
    h.child.kill('SIGTERM')
    await new Promise((r) => h.child.once('exit', r))
    rmSync(h.home, { recursive: true, force: true })
  }
}
