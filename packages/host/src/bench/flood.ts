// host.pubsub.flood: a neighbour's latency while one peer floods the topic.
//
// Host A subscribes to a topic; host B (its neighbour, same process, so one clock)
// publishes one message every 5 ms stamped with the time, and A records each message's
// latency. A flooder (a plain js-libp2p node on a worker thread: src/bench/flooder.ts)
// connected to A sends one-message frames on the same topic as fast as it can sign them.
// Value: the p99 of B's latency at A during a flood, under a bench limit the flooder is
// far over on this machine (100 frames/s per publisher, 300 RPCs/s per peer: the flooder
// signs ~1,000/s); baseline: the same p99 with the flooder idle, interleaved in the same
// run. host.pubsub.flood.defaults: the same at the default limits (500 and 2,000: a loaded
// 2-core host verifies fewer than the flooder sends, so what protects B there is the
// paced reader of src/pubsub/inbound.ts), with no limit (floodLimit: false) in its params.
// Per config: B's messages delivered / lost (not there 10 s after the round) / late (there
// in a later round), A's disconnects from B, the flooder's rate, what A read of it,
// delivered and cut, and how often the flooder's stream waited for its budget.
import { Worker } from 'node:worker_threads'
import { median, report } from '@ww/bench-kit'
import { DEFAULT_FLOOD_LIMIT, generateSwarmKey, libp2pCluster, type Libp2pCluster, type Libp2pClusterOptions } from '../index.js'

const PERIOD_MS = 5
const p99 = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length * 0.99)]!

interface Pair { a: Libp2pCluster; b: Libp2pCluster; flooder: Worker; round(flood: boolean, messages: number): Promise<{ p99Us: number; lost: number; floodRate: number; deliveredRate: number }>; late(): number; disconnects(): number; close(): Promise<void> }

async function pair(opts: Libp2pClusterOptions, swarmKey: string): Promise<Pair> {
  const a = await libp2pCluster({ ...opts, swarmKey })
  const b = await libp2pCluster({ ...opts, swarmKey, bootstrap: a.addresses() })
  let latencies: number[] = []
  let current = 0 // the round B publishes in; a message of an earlier one arriving now is late
  let late = 0
  let floodDelivered = 0 // the flooder's messages A verified and delivered
  a.pubsub.join('flood').subscribe({
    capacity: 1 << 16,
    handler: (m) => {
      if (m.from !== b.id) { floodDelivered++; return }
      const dv = new DataView(m.data.buffer, m.data.byteOffset, 12)
      if (dv.getUint32(8) !== current) { late++; return }
      latencies.push((performance.now() - dv.getFloat64(0)) * 1000)
    },
  })
  const onB = b.pubsub.join('flood')
  await onB.waitForPeers(1, { timeoutMs: 30_000 })
  // A connection to B that A loses (libp2p's connection monitor aborts it when a ping waits
  // too long behind the flood) loses what B publishes until B reconnects.
  let disconnects = 0
  a.libp2p.addEventListener('peer:disconnect', (e) => { if (e.detail.toString() === b.id) disconnects++ })
  const flooder = new Worker(new URL('./flooder.js', import.meta.url))
  flooder.postMessage({ dial: a.addresses()[0], host: a.id, topic: '/ww/topic/flood', swarmKey })
  await new Promise<void>((r) => flooder.once('message', () => r()))
  return {
    a, b, flooder,
    async round(flood, messages) {
      latencies = []
      current++
      const t0 = performance.now()
      const delivered0 = floodDelivered
      let sent = 0
      if (flood) {
        flooder.postMessage({ flood: true })
        await new Promise((r) => setTimeout(r, 500)) // the flood under way before B starts
      }
      const buf = new Uint8Array(64)
      for (let i = 0; i < messages; i++) {
        new DataView(buf.buffer).setFloat64(0, performance.now())
        new DataView(buf.buffer).setUint32(8, current)
        await onB.publish(buf.slice())
        await new Promise((r) => setTimeout(r, PERIOD_MS))
      }
      const end = Date.now() + 10_000
      while (latencies.length < messages && Date.now() < end) await new Promise((r) => setTimeout(r, 10))
      if (flood) {
        flooder.postMessage({ flood: false })
        sent = await new Promise<number>((r) => flooder.once('message', (m: { sent: number }) => r(m.sent)))
      }
      const seconds = (performance.now() - t0) / 1000
      const floodRate = sent / seconds
      const deliveredRate = (floodDelivered - delivered0) / seconds
      await new Promise((r) => setTimeout(r, 1000)) // A drains what the flood left queued
      return { p99Us: p99(latencies), lost: messages - latencies.length, floodRate, deliveredRate }
    },
    late: () => late,
    disconnects: () => disconnects,
    async close() {
      flooder.postMessage({ stop: true })
      await new Promise((r) => flooder.once('exit', r))
      await Promise.all([b.close(), a.close()])
    },
  }
}

/** `runs` rounds of B's messages with the flooder idle, then flooding, interleaved. */
export async function rounds(opts: Libp2pClusterOptions, swarmKey: string, runs: number, messages: number) {
  const p = await pair(opts, swarmKey)
  const quiet: number[] = [], flooded: number[] = [], rates: number[] = [], deliveredRates: number[] = []
  let lostQuiet = 0, lostFlooded = 0
  try {
    for (let run = 0; run < runs; run++) {
      const q = await p.round(false, messages)
      quiet.push(q.p99Us)
      lostQuiet += q.lost
      const r = await p.round(true, messages)
      flooded.push(r.p99Us)
      lostFlooded += r.lost
      rates.push(r.floodRate)
      deliveredRates.push(r.deliveredRate)
    }
    return {
      quiet, flooded, lostQuiet, lostFlooded, late: p.late(), floodFramesPerSec: Math.round(median(rates)), floodDeliveredPerSec: Math.round(median(deliveredRates)), gaps: p.a.gaps(),
      framesCut: [...p.a.floodDrops().values()].reduce((n, d) => n + d.frames, 0),
      neighbourFramesCut: p.a.floodDrops().get(p.b.id)?.frames ?? 0, neighbourScore: p.a.peerScore(p.b.id),
      floodPauses: [...p.a.pubsubInbound()].filter(([k]) => k !== p.b.id).reduce((n, [, s]) => n + s.pauses, 0),
      neighbourPauses: p.a.pubsubInbound().get(p.b.id)?.pauses ?? 0,
      floodRpcsRead: [...p.a.pubsubInbound()].filter(([k]) => k !== p.b.id).reduce((n, [, s]) => n + s.rpcs, 0),
      neighbourDisconnects: p.disconnects(),
    }
  } finally {
    await p.close()
  }
}

export async function floodBench(): Promise<void> {
  const swarmKey = generateSwarmKey()
  const MESSAGES = 600
  const BENCH_LIMIT = { framesPerSecond: 100, peerRpcsPerSecond: 300 }
  const limited = await rounds({ floodLimit: BENCH_LIMIT }, swarmKey, 4, MESSAGES)
  // At the default limits (a row of its own), and with none for comparison (fewer runs: a
  // flood without limits costs seconds here).
  const defaults = await rounds({}, swarmKey, 4, MESSAGES)
  const open = await rounds({ floodLimit: false }, swarmKey, 2, MESSAGES)
  const summary = (r: Awaited<ReturnType<typeof rounds>>) => ({
    p99Us: Math.round(median(r.flooded)), quietP99Us: Math.round(median(r.quiet)), runs: r.flooded.length,
    neighbourSent: r.flooded.length * MESSAGES,
    neighbourDeliveredFlooded: r.flooded.length * MESSAGES - r.lostFlooded,
    neighbourDeliveryRatioFlooded: Number((1 - r.lostFlooded / (r.flooded.length * MESSAGES)).toFixed(4)),
    neighbourDeliveryRatioQuiet: Number((1 - r.lostQuiet / (r.quiet.length * MESSAGES)).toFixed(4)),
    neighbourLostQuiet: r.lostQuiet, neighbourLostFlooded: r.lostFlooded, neighbourLate: r.late, neighbourDisconnects: r.neighbourDisconnects, reorderGaps: r.gaps,
    floodFramesPerSec: r.floodFramesPerSec, floodDeliveredPerSec: r.floodDeliveredPerSec, floodRpcsRead: r.floodRpcsRead, floodFramesCut: r.framesCut,
    floodStreamPauses: r.floodPauses, neighbourStreamPauses: r.neighbourPauses, neighbourFramesCut: r.neighbourFramesCut, neighbourScore: r.neighbourScore,
  })
  const common = {
    neighbourMessages: MESSAGES, periodMs: PERIOD_MS, hosts: 2,
    flooder: 'plain js-libp2p node on a worker thread, 1-message frames signed as fast as it can',
  }
  report({
    name: 'host.pubsub.flood', unit: 'µs (p99 latency, neighbour)', samples: limited.flooded,
    baseline: { name: 'the same neighbour\'s p99 with no flood', samples: limited.quiet },
    params: { limit: { ...DEFAULT_FLOOD_LIMIT, ...BENCH_LIMIT }, ...common, benchLimit: summary(limited) },
  })
  report({
    name: 'host.pubsub.flood.defaults', unit: 'µs (p99 latency, neighbour)', samples: defaults.flooded,
    baseline: { name: 'the same neighbour\'s p99 with no flood', samples: defaults.quiet },
    params: { limit: DEFAULT_FLOOD_LIMIT, ...common, defaultLimit: summary(defaults), noLimit: summary(open) },
  })
}
