// Benchmarks of @ww/host (see shared/design/benchmarks.md). `pnpm bench` runs this.
//
// host.pubsub.embedded: publish → one subscriber's handler, at the host API, in msgs/s;
//   baseline: a Node EventEmitter emit to one listener (the in-process floor).
// host.pubsub.libp2p: A publishes, B and C (real libp2p hosts on 127.0.0.1) receive every
//   message; baseline: the same bytes over one raw libp2p stream A→B and A→C, one send
//   per message. Pubsub sends the messages published within one tick as one signed
//   gossipsub message (src/pubsub/batch.ts), so it can beat the unbatched baseline.
// host.pubsub.libp2p.pnet: the same in a private network (swarm key: @libp2p/pnet's
//   XSalsa20 under noise on every connection), baseline the raw streams of those hosts.
// host.pubsub.flood: a neighbour's p99 latency while a foreign peer floods the topic, vs
//   the same p99 with no flood (src/bench/flood.ts).
// host.rpc: host-to-host Peer.ping over /ww/rpc/1.0.0 vs the same RpcConnection over
//   plain TCP (src/bench/rpc.ts).
// host.remote-spawn: spawn+wait of a tiny module on another host vs on this one
//   (src/bench/remote-spawn.ts).
// host.forward.remote-guest: a guest on A calls an Echo a guest on B serves, vs host.rpc's
//   round trip (src/bench/remote-guest.ts).
import { EventEmitter } from 'node:events'
import { measure, report } from '@ww/bench-kit'
import { embeddedCluster, generateSwarmKey, libp2pCluster, type Libp2pCluster, type Libp2pClusterOptions } from '../index.js'
import { remoteSpawnBench } from './remote-spawn.js'
import { rpcBench } from './rpc.js'

const perSec = (ns: number[]): number[] => ns.map((x) => 1e9 / x)

async function embedded(): Promise<void> {
  const c = embeddedCluster()
  const topic = c.pubsub.join('bench')
  let got = 0
  topic.subscribe({ capacity: 1024, policy: 'block', handler: () => { got++ } })
  const data = new Uint8Array(64)
  const ee = new EventEmitter()
  let eeGot = 0
  ee.on('m', () => { eeGot++ })
  const s = await measure([
    {
      name: 'host', fn: async (n) => {
        const target = got + n
        for (let i = 0; i < n; i++) { const p = topic.publish(data); if (i % 512 === 0) await p }
        while (got < target) await new Promise((r) => setImmediate(r))
      },
    },
    { name: 'ee', fn: (n) => { for (let i = 0; i < n; i++) ee.emit('m', data) } },
  ], { iterations: 1_000_000, runs: 7 })
  report({
    name: 'host.pubsub.embedded', unit: 'msgs/s', samples: perSec(s.get('host')!), higherIsBetter: true,
    baseline: { name: 'EventEmitter emit', samples: perSec(s.get('ee')!) }, params: { bytes: 64, subscribers: 1 },
  })
  void eeGot
  await c.close()
}

async function across(name: string, opts: Libp2pClusterOptions = {}): Promise<void> {
  // Throughput as fast as one publisher goes: above the default flood limit (20,000/s).
  opts = { ...opts, floodLimit: false }
  const a = await libp2pCluster(opts)
  const b = await libp2pCluster({ ...opts, bootstrap: a.addresses() })
  const c = await libp2pCluster({ ...opts, bootstrap: a.addresses() })
  const hosts: Libp2pCluster[] = [a, b, c]
  try {
    const SIZE = 256
    let rx = 0
    for (const h of [b, c]) h.pubsub.join('bench').subscribe({ capacity: 8192, handler: () => { rx++ } })
    const pub = a.pubsub.join('bench')
    await pub.waitForPeers(2, { timeoutMs: 15_000 })
    let rawRx = 0
    for (const h of [b, c]) {
      await h.libp2p.handle('/ww/bench/raw/1.0.0', async (stream) => {
        for await (const chunk of stream) rawRx += chunk.byteLength
      })
    }
    const streams = await Promise.all([b, c].map((h) => a.libp2p.dialProtocol(h.libp2p.peerId, '/ww/bench/raw/1.0.0')))
    const data = new Uint8Array(SIZE)
    const until = async (cond: () => boolean): Promise<void> => {
      const deadline = Date.now() + 60_000
      while (!cond()) {
        if (Date.now() > deadline) throw new Error('bench: messages did not arrive within 60 s')
        await new Promise((r) => setTimeout(r, 1))
      }
    }
    const s = await measure([
      {
        name: 'pubsub', fn: async (n) => {
          const target = rx + 2 * n
          for (let i = 0; i < n; i++) {
            await pub.publish(data)
            // Keep at most ~256 messages in flight so gossipsub's queues never overflow.
            if (i % 128 === 0) await until(() => rx >= target - 2 * n + 2 * i - 512)
          }
          await until(() => rx >= target)
        },
      },
      {
        name: 'raw', fn: async (n) => {
          const target = rawRx + 2 * n * SIZE
          for (let i = 0; i < n; i++) {
            for (const st of streams) if (!st.send(data)) await st.onDrain()
          }
          await until(() => rawRx >= target)
        },
      },
    ], { iterations: 2000, runs: 5, warmup: 1 })
    report({
      name, unit: 'msgs/s', samples: perSec(s.get('pubsub')!), higherIsBetter: true,
      baseline: { name: 'raw libp2p stream A→B,C', samples: perSec(s.get('raw')!) },
      params: { bytes: SIZE, hosts: 3, subscribers: 2, private: opts.swarmKey !== undefined, floodLimit: false },
    })
    for (const st of streams) await st.close()
  } finally {
    await Promise.all(hosts.map((h) => h.close()))
  }
}

// `node dist/bench/cli.js pubsub rpc` runs only those groups; no argument: all of them.
const only = new Set(process.argv.slice(2))
const run = (group: string): boolean => only.size === 0 || only.has(group)
if (run('pubsub')) {
  await embedded()
  await across('host.pubsub.libp2p')
  await across('host.pubsub.libp2p.pnet', { swarmKey: generateSwarmKey() })
}
if (run('flood')) await (await import('./flood.js')).floodBench()
if (run('rpc')) await rpcBench()
if (run('remote-spawn')) await remoteSpawnBench()
if (run('remote-guest')) await (await import('./remote-guest.js')).remoteGuestBench()
