// The default flood limits protect a neighbour: a foreign flooder in its own OS process
// (test/fixtures/flooder.mjs: plain js-libp2p, no ww code) sends signed pubsub frames on a
// ww topic as fast as it can, while ww host B publishes at a modest rate on the same topic.
// Host A, at the default limits (no floodLimit option), must deliver every message of B's,
// in order, while reading the flood no faster than its per-peer budget lets it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { DEFAULT_FLOOD_LIMIT, generateSwarmKey, libp2pCluster, type Libp2pCluster } from '../src/index.js'
import { waitFor } from './hosts.js'

const enc = new TextEncoder()
const swarmKey = generateSwarmKey()
let a: Libp2pCluster, b: Libp2pCluster, flooder: ChildProcessWithoutNullStreams | undefined

beforeAll(async () => {
  a = await libp2pCluster({ swarmKey, ttlMs: 3000 })
  b = await libp2pCluster({ swarmKey, ttlMs: 3000, bootstrap: a.addresses() })
  await waitFor(() => a.view.get(b.id) !== undefined && b.view.get(a.id) !== undefined)
})

afterAll(async () => {
  if (flooder && flooder.exitCode === null) { flooder.kill(); await once(flooder, 'exit') }
  await Promise.all([a, b].map((h) => h?.close()))
})

test('at the default limits, every message of a neighbour arrives while a peer floods the topic', async () => {
  expect(a.floodLimit).toEqual(DEFAULT_FLOOD_LIMIT)
  const got: number[] = []
  let floodGot = 0
  const sub = a.pubsub.join('flood').subscribe({
    capacity: 1 << 20,
    handler: (m) => { if (m.from === b.id) got.push(m.seq); else floodGot++ },
  })
  const onB = b.pubsub.join('flood')
  await onB.waitForPeers(1, { timeoutMs: 30_000 })

  const f = spawn(process.execPath, [new URL('./fixtures/flooder.mjs', import.meta.url).pathname, a.addresses()[0]!, a.id, '/ww/topic/flood'], {
    env: { ...process.env, SWARM_KEY: swarmKey }, stdio: 'pipe',
  })
  flooder = f
  const lines = createInterface({ input: f.stdout })[Symbol.asyncIterator]()
  expect((await lines.next()).value).toBe('ready')
  // The flood is under way (A has read some of it) before B starts.
  await waitFor(() => [...a.pubsubInbound()].some(([peer, s]) => peer !== b.id && s.rpcs >= 200), 60_000)

  // B: 300 messages, one every 10 ms.
  const B_COUNT = 300
  for (let i = 0; i < B_COUNT; i++) {
    await onB.publish(enc.encode(`b${i}`))
    await new Promise((r) => setTimeout(r, 10))
  }
  await waitFor(() => got.length >= B_COUNT, 60_000)
  f.stdin.write('stop\n')
  const sent = (JSON.parse((await lines.next()).value as string) as { sent: number }).sent

  // Every message of B's, in order, none twice; B never paused nor cut, its connection kept.
  expect(got).toEqual(Array.from({ length: B_COUNT }, (_, i) => i + 1))
  expect(a.floodDrops().has(b.id)).toBe(false)
  expect(a.pubsubInbound().get(b.id)?.pauses ?? 0).toBe(0)
  // The flood was real: the flooder sent more than B, and A read and delivered some of it.
  const F = [...a.pubsubInbound().keys()].find((k) => k !== b.id)!
  expect(sent).toBeGreaterThan(B_COUNT)
  expect(a.pubsubInbound().get(F)!.rpcs).toBeGreaterThan(0)
  expect(floodGot).toBeGreaterThan(0)
  sub.close()
  onB.release()
})
