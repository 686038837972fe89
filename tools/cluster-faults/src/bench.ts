// cluster.* rows: N `ww host` processes (default 16) through relays, in namespaces where
// the machine allows. Times are per host (when each host's view became right), so each
// row's samples are the cluster's spread; baselines are measured in the same run.
//   node dist/bench.js [hosts]
import { report } from '@ww/bench-kit'
import { FaultCluster } from './index.js'
import { percentile, runLink, type LinkRun } from './link.js'

const hosts = Number(process.argv[2] ?? 16)
const TTL_MS = 3000
const LINK_RATE = 20
/** Hosts started at once: 15 together, and 4 at a time, on this loaded 2-core machine missed ww host's 15 s join bound. */
const START_CONCURRENCY = 2
const LINK_MESSAGES = 300

/** For each live host of `group`, ms from `t0` until its view was right. */
function viewTimes(c: FaultCluster, group: readonly number[], t0: number): Promise<number[]> {
  return c.converged(group, AbortSignal.timeout(300_000), t0)
}

async function main(): Promise<void> {
  // A two-host join is the baseline of the N-host one.
  const t2 = performance.now()
  const pair = await FaultCluster.start({ hosts: 2, ttl: `${TTL_MS / 1000}s`, startConcurrency: START_CONCURRENCY })
  const pairJoin = await viewTimes(pair, [0, 1], t2)
  await pair.close()

  const t0 = performance.now()
  const c = await FaultCluster.start({ hosts, ttl: `${TTL_MS / 1000}s`, startConcurrency: START_CONCURRENCY })
  try {
    const all = c.hosts.map((h) => h.index)
    const join = await viewTimes(c, all, t0)
    report({
      name: 'cluster.join', unit: 'ms', samples: join,
      baseline: { name: 'two hosts, the same way', samples: pairJoin },
      params: { hosts, mode: c.mode, ttlMs: TTL_MS, startConcurrency: START_CONCURRENCY, what: 'from the first host\'s start until each host\'s view holds all the others' },
    })

    // Pubsub at a fixed offered rate, host 0 → the last host: a clean link, then 50 ± 20 ms
    // on every link with resets (about one per host per 10 s), in the same cluster.
    const link = { from: 0, to: hosts - 1, rate: LINK_RATE, messages: LINK_MESSAGES, drainMs: 10_000 }
    const clean = await runLink(c, link)
    c.setFaults({ delayMs: 50, jitterMs: 20, resetsPerSec: 0.1 })
    let bad: LinkRun
    try {
      bad = await runLink(c, link)
    } finally {
      c.setFaults({ delayMs: 0, jitterMs: 0, resetsPerSec: 0 })
    }
    const resets = c.hosts.reduce((n, h) => n + h.relay.stats.resets, 0)
    report({
      name: 'cluster.link', unit: 'ms', samples: [percentile(bad.latencies, 99)],
      baseline: { name: 'the same publisher and subscriber on clean links', samples: [percentile(clean.latencies, 99)] },
      params: {
        hosts, mode: c.mode, ratePerSec: LINK_RATE, messages: LINK_MESSAGES, delayMs: 50, jitterMs: 20, resetsPerHostPerSec: 0.1, resets,
        deliveryRatio: bad.ratio, cleanDeliveryRatio: clean.ratio,
        p50Ms: Math.round(percentile(bad.latencies, 50)), cleanP50Ms: Math.round(percentile(clean.latencies, 50)),
        gaps: bad.gaps, reordered: bad.reordered, duplicates: bad.duplicates,
        cleanGaps: clean.gaps, cleanReordered: clean.reordered,
        what: 'p99 latency of one publisher\'s messages (ww pub --stdin) to one subscriber on another host; order per publisher counted',
      },
    })
    await c.converged()

    if (c.mode === 'netns') {
      const half = Math.floor(hosts / 2)
      const a = all.slice(0, half)
      const b = all.slice(half)
      const tSplit = performance.now()
      c.partition(a, b)
      const split = [...await viewTimes(c, a, tSplit), ...await viewTimes(c, b, tSplit)]
      await new Promise((r) => setTimeout(r, 30_000)) // the 30 s apart
      const tHeal = performance.now()
      c.heal()
      const heal = await viewTimes(c, all, tHeal)
      report({
        name: 'cluster.partition', unit: 'ms', samples: heal,
        baseline: { name: 'the split seen (each side\'s view without the other)', samples: split },
        params: { hosts, sides: [a.length, b.length], apartMs: 30_000, what: 'from heal until each host\'s view holds all hosts again' },
      })
    }

    // A machine lost (silent links: only the TTL can tell), then a process killed (its OS
    // closes its connections). The TTL is the baseline the issue measures against.
    await c.converged()
    const tLost = performance.now()
    await c.crash(hosts - 1, c.mode === 'netns' ? 'machine' : 'process')
    const lost = await viewTimes(c, all, tLost)
    const tKilled = performance.now()
    await c.crash(hosts - 2, 'process')
    const killed = await viewTimes(c, all, tKilled)
    report({
      name: 'cluster.crash', unit: 'ms', samples: lost,
      baseline: { name: 'the membership TTL', samples: [TTL_MS] },
      params: {
        hosts, mode: c.mode, crash: c.mode === 'netns' ? 'machine (links silent, SIGKILL)' : 'process (SIGKILL)',
        processKilledMedianMs: Math.round(killed.sort((x, y) => x - y)[Math.floor(killed.length / 2)]!),
        what: 'from the crash until each other host\'s view dropped it (goal ≤ TTL + one heartbeat)',
      },
    })
  } finally {
    await c.close()
  }
}

await main()
