// ui.stream.bytes-per-second: what the web view's event stream sends a page, per second,
// for a cluster of 16 hosts × 10,000 processes. A real `ww host` (embedded) serves the
// real UI server over HTTP; a real client reads /events and says what it views (40 rows
// and one selected process) through POST /api/view. What is simulated is the status
// board's output: 16 hosts' statuses, each with 10,000 live rows whose counters change
// every tick (fuel, CPU, memory, messages, frames), a forest of 100 roots × 99 children
// with every tenth child's parent on the next host, and 100 ended processes per host;
// each host linked to every other (a full mesh of 120 links) with RTTs that change every
// tick, and 20 pending monitors per host (so the topology is sent again every tick).
// (A real cluster's status messages carry at most 500 rows per host: MAX_PUBLISHED.)
// Baseline: the view before this change, which sent every host's every row each 500 ms
// tick; its bytes are those snapshots' JSON for the same statuses, in the same windows.
// ui.tree.tick-ms: the server's work per tick at that size (all statuses into the tree,
// the window and the detail), no baseline.
// ui.spawn-to-view.p50 / .p99: from a spawn on the real host to its row arriving on a
// page's stream (a second UI server over the host's own status), per run of 20 spawns.
// `node dist/bench/ui-stream.js` runs it.
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { report } from '@ww/bench-kit'
import { startHost } from '../host/node.js'
import type { HostStatus, ProcessRow } from '../host/status.js'
import { Forest } from '../ui/model.js'
import { serveUi } from '../ui/server.js'
import { oldSnapshotBytes, streamBytes } from './stream-client.js'

const HOSTS = 16
const PER_HOST = 10_000
const ROOTS = 100
const WINDOW_MS = 5_000
const RUNS = 5

const hostIds = Array.from({ length: HOSTS }, (_, i) => `12D3KooWsimulated${String(i).padStart(2, '0')}${'x'.repeat(30)}`)
let tick = 0

function rows(host: number): ProcessRow[] {
  const out: ProcessRow[] = []
  const now = Date.now()
  for (let i = 0; i < PER_HOST; i++) {
    const pid = i + 1
    const root = i < ROOTS
    // Every tenth child's parent is a root of the previous host: a tree across hosts.
    const remote = !root && i % 10 === 0
    const parent = root ? 0 : (i % ROOTS) + 1
    const t = tick + i
    out.push({
      pid, parent, ...(remote ? { parentHost: hostIds[(host + HOSTS - 1) % HOSTS]! } : {}),
      name: root ? `supervisor-${i}` : `worker-${i}`, state: t % 7 === 0 ? 'waiting' : 'running',
      startedAtMs: now - 3_600_000 + i, cpuMs: t * 0.7, fuel: t * 1000, memoryBytes: 65536 * (1 + (i % 16)),
      messagesIn: t, messagesOut: t * 2, mailbox: t % 5, framesIn: t * 3, framesOut: t * 3,
      ...(i % 50 === 0 ? { denied: { 'path_open ENOTCAPABLE': 1 + (i % 3) } } : {}),
      handed: { caps: root ? [] : ['echo'], overrides: [], rights: ['view', 'pubSub', 'root', 'registry', 'executor'] },
    })
  }
  return out
}

function cluster(): HostStatus[] {
  tick++
  return hostIds.map((host, h) => {
    const live = rows(h)
    let memoryBytes = 0, cpuMs = 0, messages = 0, frames = 0
    for (const r of live) { memoryBytes += r.memoryBytes; cpuMs += r.cpuMs; messages += r.messagesOut; frames += r.framesIn + r.framesOut }
    return {
      host, at: Date.now(), processes: live, omitted: 0,
      links: hostIds.filter((p) => p !== host).map((peer, i) => ({ peer, up: true, rttMs: 0.2 + ((tick * 7 + h * 3 + i) % 40) / 100, at: Date.now() })),
      monitors: Array.from({ length: 20 }, (_, i) => ({ by: `${host}/${i + 1}`, of: `${hostIds[(h + 1) % HOSTS]}/${i + 1}` })),
      totals: { processes: live.length, memoryBytes, cpuMs, messages, frames },
      ended: Array.from({ length: 100 }, (_, i) => ({
        pid: PER_HOST + i + 1, parent: 1, name: `ended-${i}`, startedAtMs: Date.now() - 60_000, endedAtMs: Date.now() - 1000,
        status: i % 2 ? 'exited 0' : 'trapped (ERR_GUEST_TRAP): unreachable', kind: i % 2 ? 'exited' : 'trapped',
      })),
    }
  })
}

const home = mkdtempSync(join(tmpdir(), 'ww-bench-ui-'))
// No ended processes kept: the spawn-to-view runs find each new row among the first 50.
const h = await startHost({ home, keepEnded: 0 })
let latest = cluster()
const tickCosts: number[] = []
const ui = await serveUi(h, '127.0.0.1:0', {
  tickMs: 1000,
  statuses: () => {
    latest = cluster()
    return latest
  },
})
const values: number[] = []
const baseline: number[] = []
for (let run = 0; run < RUNS; run++) {
  values.push(await streamBytes(ui.url, { offset: 200, limit: 40, collapsed: [`${hostIds[3]}/0`], selected: `${hostIds[0]}/7` }, WINDOW_MS))
  // The old stream over the same statuses: two snapshots a second.
  baseline.push(oldSnapshotBytes(hostIds[0]!, latest) * 2)
  const t0 = performance.now()
  const f = new Forest([hostIds[0]!], latest)
  f.window(200, 40, new Set())
  f.detail(`${hostIds[0]}/7`)
  tickCosts.push(performance.now() - t0)
}
const params = { hosts: HOSTS, processesPerHost: PER_HOST, rowsInView: 40, selected: 1, tickMs: 1000, windowMs: WINDOW_MS, simulated: 'status board output (see src/bench/ui-stream.ts)' }
report({
  name: 'ui.stream.bytes-per-second', unit: 'B/s', samples: values,
  baseline: { name: 'every row of every host each 500 ms tick (the view before)', samples: baseline },
  params,
})
report({ name: 'ui.tree.tick-ms', unit: 'ms', samples: tickCosts, params: { hosts: HOSTS, processesPerHost: PER_HOST, rowsInView: 40 } })

await ui.close()

// Spawn to view: the host's real status, the real stream.
const { default: wabtInit } = await import('wabt')
const wabt = await wabtInit()
const wat = wabt.parseWat('spin.wat', `(module (memory (export "memory") 1)
  (data (i32.const 1024) "\\08\\04\\00\\00\\00\\14\\00\\00")
  (func (export "ww_asyncify_data") (result i32) (i32.const 1024))
  (func (export "_start") (loop $l (br $l))))`)
const spin = new Uint8Array(wat.toBinary({}).buffer)
wat.destroy()
const plain = await serveUi(h, '127.0.0.1:0', { tickMs: 1000 })
const plainUrl = new URL(plain.url)
const seen = new Map<number, () => void>()
const events = request({ host: plainUrl.hostname, port: plainUrl.port, path: '/events', agent: false, headers: { host: plainUrl.host } }, (res) => {
  let text = ''
  res.on('error', () => {})
  res.on('data', (c: Buffer) => {
    text += c.toString('utf8')
    let end
    while ((end = text.indexOf('\n\n')) >= 0) {
      const frame = text.slice(0, end)
      text = text.slice(end + 2)
      if (!frame.startsWith('data: ')) continue
      const f = JSON.parse(frame.slice(6)) as { tree: { rows: Array<{ pid: number; state: string }> } }
      for (const r of f.tree.rows) if (r.state !== 'ended') seen.get(r.pid)?.()
    }
  })
})
events.on('error', () => {})
events.end()
const p50: number[] = []
const p99: number[] = []
const quantile = (xs: number[], q: number): number => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!
for (let run = 0; run < 3; run++) {
  const times: number[] = []
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now()
    let shown!: () => void
    const visible = new Promise<void>((resolve) => { shown = resolve })
    const p = await h.tree.executor().spawn({ bytecode: spin, name: 'bench-spin' })
    seen.set(p.pid, shown)
    await visible
    times.push(performance.now() - t0)
    seen.delete(p.pid)
    await p.kill()
  }
  p50.push(quantile(times, 0.5))
  p99.push(quantile(times, 0.99))
}
events.destroy()
const spawnParams = { spawnsPerRun: 20, tickMs: 1000, rowsInView: 50, note: 'bounded by the 1 s tick: the page is told at the next tick' }
report({ name: 'ui.spawn-to-view.p50', unit: 'ms', samples: p50, params: spawnParams })
report({ name: 'ui.spawn-to-view.p99', unit: 'ms', samples: p99, params: spawnParams })

await plain.close()
await h.close()
rmSync(home, { recursive: true, force: true })
