// net.http: requests/s and p99 latency of the AssemblyScript HTTP guest
// (@ww/guest's wasi-http-server, on a listenTcp listener under the restricted WASI) vs a
// plain node:http server doing the same work (same body, same headers), both in this
// process. The load comes from autocannon in a separate OS process (its own CPU time,
// not ours), keep-alive, `connections` clients. Runs alternate guest / node so machine
// noise hits both alike. Target: the guest reaches ≥ 0.5× Node's requests/s.
// Three passes: throughput (16 connections), latency at one fixed rate for both (p50/p99
// in microseconds from a paced probe in a third process, latency-probe.ts: autocannon's
// whole-millisecond p99 read 0 for both servers), and throughput at 256 connections.

import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { median, report } from '@ww/bench-kit'
import { listenTcp } from '../index.js'
import { serveGuest } from './serve-guest.js'
import type { Latency } from './latency-probe.js'

// The guest is built by @ww/guest (which depends on this package, so it is found by path, not import).
const GUEST = fileURLToPath(new URL('../../../guest/build/wasi-http-server.wasm', import.meta.url))
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js')
const PROBE = fileURLToPath(new URL('./latency-probe.js', import.meta.url))

/** Connections of the second pass; the guest's policy has room for them (serve-guest.ts). */
const MANY = 256

interface Load { rps: number; errors: number; non2xx: number; latency?: Latency }
interface LoadOptions { connections: number; withProbe?: boolean; rate?: number }

async function load(url: string, seconds: number, o: LoadOptions): Promise<Load> {
  const run = promisify(execFile)
  const args = [AUTOCANNON, '-j', '-c', String(o.connections), '-d', String(seconds), ...(o.rate === undefined ? [] : ['-R', String(o.rate)]), url]
  const [cannon, probe] = await Promise.all([
    run(process.execPath, args, { maxBuffer: 1 << 24 }),
    o.withProbe === true ? run(process.execPath, [PROBE, url, String(seconds)]) : undefined,
  ])
  const r = JSON.parse(cannon.stdout) as { requests: { average: number }; errors: number; non2xx: number; timeouts: number }
  const out = { rps: r.requests.average, errors: r.errors + r.timeouts, non2xx: r.non2xx, latency: probe === undefined ? undefined : JSON.parse(probe.stdout) as Latency }
  if (out.errors > 0 || out.non2xx > 0) throw new Error(`load run had errors: ${JSON.stringify(out)}`)
  return out
}

/** `runs` rounds, alternating guest and node so machine noise hits both alike. */
async function rounds(urls: { guest: string; node: string }, runs: number, seconds: number, o: LoadOptions): Promise<{ g: Load[]; n: Load[] }> {
  const g: Load[] = [], n: Load[] = []
  for (let i = 0; i < runs; i++) {
    g.push(await load(urls.guest, seconds, o))
    n.push(await load(urls.node, seconds, o))
  }
  return { g, n }
}

function nodeServer(): Promise<{ server: Server; url: string }> {
  // The same work as the guest: read the request, answer a small text body echoing the path.
  const server = createServer((req, res) => {
    const body = `hello from a ww guest\npath=${req.url}\n`
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) })
    res.end(body)
  })
  server.keepAliveTimeout = 60_000
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/bench/path` })
  }))
}

export async function http(seconds = 3, runs = 3, connections = 16): Promise<void> {
  if (!existsSync(GUEST)) { console.log(`net.http: skipped, ${GUEST} not built (build @ww/guest first)`); return }
  const listener = await listenTcp('127.0.0.1:0')
  const guest = await serveGuest(readFileSync(GUEST), [listener], { entry: 'ww_main' })
  const node = await nodeServer()
  const urls = { guest: `http://${listener.address}/bench/path`, node: node.url }
  try {
    // Correctness first: both answer the same bytes.
    const [a, b] = await Promise.all([fetch(urls.guest).then((r) => r.text()), fetch(urls.node).then((r) => r.text())])
    if (a !== b) throw new Error(`the servers disagree: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`)
    await load(urls.guest, 1, { connections }); await load(urls.node, 1, { connections }) // warm-up
    const params = { seconds, connections, keepAlive: true, loadGenerator: 'autocannon 9.0.0 (separate process)', suspension: guest.kind }

    // 1. Throughput: as many requests as each server answers.
    const max = await rounds(urls, runs, seconds, { connections })
    report({ name: 'net.http.rps', unit: 'req/s', samples: max.g.map((x) => x.rps), baseline: { name: 'node:http', samples: max.n.map((x) => x.rps) }, higherIsBetter: true, params: { ...params, runs } })

    // 2. Latency at the same offered load for both (half what node:http managed): compared
    // at each one's own maximum, the faster server is also the busier machine, and its
    // probe waits longer for a core.
    const rate = Math.round(median(max.n.map((x) => x.rps)) / 2)
    const lat = await rounds(urls, runs, seconds, { connections, rate, withProbe: true })
    const latParams = { ...params, runs, rate, probe: 'one keep-alive connection, a GET every ~1 ms, beside the load (latency-probe.ts)', samplesPerRun: lat.g.map((x) => x.latency!.n) }
    report({ name: 'net.http.p99', unit: 'µs', samples: lat.g.map((x) => x.latency!.p99), baseline: { name: 'node:http', samples: lat.n.map((x) => x.latency!.p99) }, params: latParams })
    report({ name: 'net.http.p50', unit: 'µs', samples: lat.g.map((x) => x.latency!.p50), baseline: { name: 'node:http', samples: lat.n.map((x) => x.latency!.p50) }, params: latParams })

    // 3. Many connections: one poll_oneoff covers them all, so its cost per call must not
    // grow with them (at 64 it once made 17k req/s).
    const many = await rounds(urls, 2, seconds, { connections: MANY })
    report({ name: `net.http.rps.${MANY}-connections`, unit: 'req/s', samples: many.g.map((x) => x.rps), baseline: { name: 'node:http', samples: many.n.map((x) => x.rps) }, higherIsBetter: true, params: { ...params, runs: 2, connections: MANY } })
  } finally {
    guest.wasi.close()
    await guest.done
    node.server.close()
    node.server.closeAllConnections()
  }
}
