#!/usr/bin/env node
// Null-call measurement and profiling harness for the RPC hot path (a dev script, not a
// benchmark: src/bench/ holds those). Build first: `npx tsc -p tsconfig.build.json`.
//
//   node scripts/profile-null-call.mjs [--runs 5] [--calls 20000] [--mode all|frames|direct|read]
//   node --cpu-prof --cpu-prof-dir=/tmp/prof scripts/profile-null-call.mjs --mode frames --runs 3
//
// Modes (each reported as calls/s or ns, median of --runs, runs interleaved):
//  - frames: Echo.ping() from connection `a` (the guest side) to `b` (the host), every
//    message (Call, Return, Finish) written by writeFrame into a fixed Uint8Array standing
//    in for guest memory, read back in place with readFrame and received borrowed: the
//    work the guest transport does on ww.send / ww.recv. Delivery on a microtask, in order.
//  - direct: the same calls with Message objects passed directly (the in-process pair).
//  - read: ns per readFrame of a small Call frame (validate + in-place decode), and of
//    readFrame + receive-side envelope read.
// Prints one JSON line per mode at the end, for comparisons across commits.

import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { RpcConnection, readFrame, writeFrame, frameSize } from '../dist/index.js'
import { testing } from '@ww/schema'
import { newEcho } from '../dist/fuzz/echo-servers.js'
import { Message } from 'capnp-ts'
import { Message as RpcMessage } from 'capnp-ts/src/std/rpc.capnp.js'
import { initStructAt } from 'capnp-ts/src/serialization/pointers/struct.js'

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    calls: { type: 'string', default: '20000' },
    mode: { type: 'string', default: 'all' },
  },
})
const RUNS = Number(args.runs)
const CALLS = Number(args.calls)
const MODE = args.mode

/** A sink that frames into one reused buffer ("guest memory") and delivers in place. */
class GuestMemorySink {
  peer = undefined
  queue = []
  scheduled = false
  frames
  memory = new Uint8Array(64 * 1024)
  flush = () => this.deliver()

  constructor(frames) { this.frames = frames }

  send(message) {
    this.queue.push(message)
    if (!this.scheduled) {
      this.scheduled = true
      queueMicrotask(this.flush)
    }
  }

  close() {}

  deliver() {
    this.scheduled = false
    const q = this.queue
    this.queue = []
    for (const m of q) {
      if (!this.frames) {
        this.peer.receive(m, false)
        continue
      }
      const n = frameSize(m)
      if (n > this.memory.byteLength) this.memory = new Uint8Array(n * 2)
      writeFrame(m, this.memory, 0)
      const r = readFrame(this.memory.buffer, 0, n)
      this.peer.receive(r.message, r.borrowed)
    }
  }
}

function connect(frames) {
  const sa = new GuestMemorySink(frames)
  const sb = new GuestMemorySink(frames)
  const a = new RpcConnection(sa, { name: 'guest' })
  const b = new RpcConnection(sb, { name: 'host', bootstrap: newEcho() })
  sa.peer = b
  sb.peer = a
  return { a, b, echo: a.bootstrap(testing.Echo) }
}

async function nullCalls(pair, n) {
  const echo = pair.echo
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await echo.ping()
  const dt = performance.now() - t0
  return (n / dt) * 1000
}

function callFrame() {
  // The Call frame of a steady-state Echo.ping, as sendCall builds it: target an imported
  // cap, params an empty struct.
  const m = new Message()
  const call = m.initRoot(RpcMessage).initCall()
  call.setQuestionId(41)
  call.setInterfaceId(testing.Echo$Methods.ping.interfaceId)
  call.setMethodId(testing.Echo$Methods.ping.methodId)
  call.initTarget().setImportedCap(0)
  initStructAt(0, testing.Echo_ping$Params, call.initParams())
  const frame = new Uint8Array(frameSize(m))
  writeFrame(m, frame)
  return frame
}

function readNs(n) {
  const mem = new Uint8Array(4096)
  const f = callFrame()
  mem.set(f, 0)
  let sink = 0
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const r = readFrame(mem.buffer, 0, f.byteLength)
    sink += r.bytes
  }
  const dt = performance.now() - t0
  if (sink !== n * f.byteLength) throw new Error('readFrame returned a wrong length')
  return (dt * 1e6) / n
}

const median = (xs) => { const s = [...xs].sort((x, y) => x - y); return s[s.length >> 1] }
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1))

async function main() {
  const results = { frames: [], direct: [], read: [] }
  const want = (m) => MODE === 'all' || MODE === m
  const framePair = connect(true)
  const directPair = connect(false)
  // Warm up both paths (JIT tiers, inline caches).
  if (want('frames')) await nullCalls(framePair, CALLS)
  if (want('direct')) await nullCalls(directPair, CALLS)
  if (want('read')) readNs(200_000)
  for (let r = 0; r < RUNS; r++) {
    if (want('frames')) results.frames.push(await nullCalls(framePair, CALLS))
    if (want('direct')) results.direct.push(await nullCalls(directPair, CALLS))
    if (want('read')) results.read.push(readNs(500_000))
  }
  for (const p of [framePair, directPair]) {
    if (p.a.stats.questions !== 0 && p.a.stats.callsOut > 0) throw new Error('questions left over')
  }
  const out = { node: process.version, runs: RUNS, calls: CALLS }
  if (want('frames')) {
    out.framesCallsPerSec = Math.round(median(results.frames))
    console.log(`frames (writeFrame/readFrame in place): ${fmt(median(results.frames))} calls/s  [${results.frames.map(fmt).join(', ')}]`)
  }
  if (want('direct')) {
    out.directCallsPerSec = Math.round(median(results.direct))
    console.log(`direct (messages passed):               ${fmt(median(results.direct))} calls/s  [${results.direct.map(fmt).join(', ')}]`)
  }
  if (want('frames') && want('direct')) {
    out.framesOverhead = median(results.direct) / median(results.frames) - 1
    console.log(`frames overhead over direct: ${(out.framesOverhead * 100).toFixed(1)}% (per-call time)`)
  }
  if (want('read')) {
    out.readFrameNs = Number(median(results.read).toFixed(1))
    console.log(`readFrame (small Call frame): ${fmt(median(results.read))} ns  [${results.read.map(fmt).join(', ')}]`)
  }
  console.log(JSON.stringify(out))
}

await main()
