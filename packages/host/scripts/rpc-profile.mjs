// Where a host-to-host round trip's CPU goes, per layer (bench/README.md, "host.rpc: where
// the time goes"). Runs Peer.ping between two tuned hosts in this process — over
// /ww/rpc/1.0.0 (`libp2p`) or the same RpcConnection over a plain TCP socket (`tcp`) — under
// the V8 profiler, keeps the samples of the measured loop only, and splits their time by
// the package each frame belongs to (a native or wasm frame counts for its nearest caller
// that has one), scaled to the loop's CPU time per call.
//   node scripts/rpc-profile.mjs [libp2p|tcp] [calls]   (after `npx tsc -p tsconfig.build.json`)
import { once } from 'node:events'
import { Session } from 'node:inspector/promises'
import net from 'node:net'
import { peer } from '@ww/schema'
import { connectStream } from '@ww/transport'
import { libp2pCluster, peerServer } from '../dist/index.js'

const mode = process.argv[2] ?? 'libp2p'
const calls = Number(process.argv[3] ?? 20_000)
const a = await libp2pCluster({})
const b = await libp2pCluster({ bootstrap: a.addresses() })
for (let i = 0; i < 2000 && a.view.get(b.id) === undefined; i++) await new Promise((r) => setTimeout(r, 5))
let ping
let closeTcp = () => {}
if (mode === 'tcp') {
  const server = net.createServer((s) => {
    s.setNoDelay(true)
    const ps = peerServer(b, a.id)
    connectStream(s, { bootstrap: ps.server, name: 'profile-tcp-server', onClose: () => ps.close('closed') })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const socket = net.connect(server.address().port, '127.0.0.1')
  await once(socket, 'connect')
  socket.setNoDelay(true)
  const conn = connectStream(socket, { name: 'profile-tcp-client' })
  const p = conn.bootstrap(peer.Peer)
  ping = () => p.ping()
  closeTcp = () => { conn.close(); socket.destroy(); server.close() }
} else {
  const p = (await a.dialPeer(b.id, { timeoutMs: 10_000 })).peer
  ping = () => p.ping()
}
for (let i = 0; i < 2000; i++) await ping() // warm up before profiling

const session = new Session()
session.connect()
await session.post('Profiler.enable')
await session.post('Profiler.setSamplingInterval', { interval: 100 })
await session.post('Profiler.start')
const c0 = process.cpuUsage()
for (let i = 0; i < calls; i++) await ping()
const c = process.cpuUsage(c0)
const { profile } = await session.post('Profiler.stop')
session.disconnect()
closeTcp()
await Promise.all([a.close(), b.close()])

const LAYERS = [
  [/libp2p-noise|as-chacha20poly1305|@noble|node:internal\/crypto/, 'noise (ChaCha20-Poly1305, noise framing)'],
  [/@libp2p\/yamux/, 'yamux'],
  [/@libp2p\/mplex/, 'mplex'],
  [/@libp2p\/utils|\/it-|uint8arraylist|main-event|race-signal|any-signal|node:internal\/event_target|@libp2p\/interface/, 'libp2p stream abstraction (message streams, events, byte lists)'],
  [/@libp2p\/tcp|node:net|node:internal\/stream_base|node:internal\/streams|node:stream|node:buffer|^native write/, 'socket (node:net, libp2p tcp)'],
  [/packages\/transport|packages\/schema|capnp-ts/, 'capnp RPC (@ww/transport, capnp-ts)'],
  [/packages\/host\/dist\/peer/, 'ww peer adapter (rpc-stream, Peer server)'],
  [/packages\/host\/dist\/cluster/, 'ww wire tuning (noise-wire, coalesce, frame decoder)'],
  [/libp2p\/dist|@libp2p/, 'libp2p other'],
  [/packages\/host\/dist/, 'ww host other'],
]
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of profile.nodes) for (const ch of n.children ?? []) parent.set(ch, n.id)
const own = (id) => {
  const { url, functionName } = byId.get(id).callFrame
  if (functionName === '(idle)') return 'idle'
  if (functionName === '(garbage collector)') return 'gc'
  if (functionName === '(program)') return 'V8 and libuv (no JS frame)'
  const key = url || `native ${functionName}`
  return LAYERS.find(([re]) => re.test(key))?.[1]
}
const layerOf = (id) => {
  for (let q = id; q !== undefined; q = parent.get(q)) { const l = own(q); if (l !== undefined) return l }
  return 'node other'
}
const time = new Map()
for (let i = 0; i < profile.samples.length; i++) {
  const l = layerOf(profile.samples[i])
  time.set(l, (time.get(l) ?? 0) + (profile.timeDeltas[i] ?? 0))
}
time.delete('idle')
const busy = [...time.values()].reduce((x, y) => x + y, 0)
const cpuPerCall = (c.user + c.system) / calls
console.log(`${mode}: ${calls} calls, ${cpuPerCall.toFixed(1)} µs CPU per call (both hosts)`)
for (const [l, t] of [...time].sort((x, y) => y[1] - x[1])) {
  console.log(`${(cpuPerCall * t / busy).toFixed(1).padStart(7)} µs ${(100 * t / busy).toFixed(1).padStart(5)}%  ${l}`)
}
