// Same-run comparison of host-to-host RPC configurations (bench/README.md, "host.rpc: where
// the time goes"): a pair of hosts per configuration and one plain-TCP RpcConnection,
// interleaved for `rounds` rounds of `calls` Peer.ping each; prints per configuration the
// median CPU and wall µs per call and the median of the per-round ratios to TCP.
//   node scripts/rpc-ab.mjs default,before,nativeAead,loud,unaligned,microtask,mplex [rounds] [calls]
//   (after `npx tsc -p tsconfig.build.json`; a name not listed below is read as JSON options)
import net from 'node:net'
import { once } from 'node:events'
import { peer } from '@ww/schema'
import { connectStream } from '@ww/transport'
import { libp2pCluster, peerServer } from '../dist/index.js'
import { defaultCrypto, nodeCrypto } from '@chainsafe/libp2p-noise/crypto'
const NAMED = {
  default: {}, mplex: { muxer: 'mplex' },
  nativeAead: { noiseCrypto: { ...defaultCrypto, chaCha20Poly1305Encrypt: nodeCrypto.chaCha20Poly1305Encrypt, chaCha20Poly1305Decrypt: nodeCrypto.chaCha20Poly1305Decrypt } },
  loud: { wire: { skipUnheardEvents: false }, rpc: { tuning: { skipUnheardEvents: false } } },
  unaligned: { rpc: { tuning: { alignChunks: false } } },
  microtask: { rpc: { tuning: { gather: 'microtask' } } },
  before: { wire: { skipUnheardEvents: false }, rpc: { tuning: { skipUnheardEvents: false, alignChunks: false, gather: 'microtask' } } },
}
const configs = Object.fromEntries((process.argv[2] ?? 'default').split(',').map((n) => [n, NAMED[n] ?? JSON.parse(n)]))
const rounds = Number(process.argv[3] ?? 7), N = Number(process.argv[4] ?? 4000)
const pings = {}
const hosts = []
for (const [name, opts] of Object.entries(configs)) {
  const a = await libp2pCluster(opts); const b = await libp2pCluster({ ...opts, bootstrap: a.addresses() }); hosts.push(a, b)
  for (let i = 0; i < 2000 && a.view.get(b.id) === undefined; i++) await new Promise((r) => setTimeout(r, 5))
  const p = (await a.dialPeer(b.id, { timeoutMs: 10_000 })).peer; pings[name] = () => p.ping()
}
{
  const b = hosts[1], a = hosts[0]
  const server = net.createServer((s) => { s.setNoDelay(true); const ps = peerServer(b, a.id); connectStream(s, { bootstrap: ps.server }) })
  server.listen(0, '127.0.0.1'); await once(server, 'listening')
  const socket = net.connect(server.address().port, '127.0.0.1'); await once(socket, 'connect'); socket.setNoDelay(true)
  const p = connectStream(socket, {}).bootstrap(peer.Peer); pings.tcp = () => p.ping()
}
const cpu = {}, wall = {}
for (const k of Object.keys(pings)) { cpu[k] = []; wall[k] = []; for (let i = 0; i < 1000; i++) await pings[k]() }
for (let r = 0; r < rounds; r++) for (const [k, f] of Object.entries(pings)) {
  const c0 = process.cpuUsage(), t0 = process.hrtime.bigint()
  for (let i = 0; i < N; i++) await f()
  const c = process.cpuUsage(c0); wall[k].push(Number(process.hrtime.bigint() - t0) / 1000 / N); cpu[k].push((c.user + c.system) / N)
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1] }
// per-round ratio vs tcp, median
for (const k of Object.keys(pings)) {
  const rc = cpu[k].map((v, i) => v / cpu.tcp[i]), rw = wall[k].map((v, i) => v / wall.tcp[i])
  console.log(k.padEnd(16), 'cpu', med(cpu[k]).toFixed(1).padStart(6), 'µs  wall', med(wall[k]).toFixed(1).padStart(6), 'µs  ratio cpu', med(rc).toFixed(2), 'wall', med(rw).toFixed(2), ' min ratio cpu', Math.min(...rc).toFixed(2))
}
process.exit(0)
