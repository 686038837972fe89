// host.rpc: the host-to-host null call (Peer.ping, one call outstanding) over the libp2p
// stream protocol /ww/rpc/1.0.0 (TCP + noise + yamux), in ns/op; baseline: the same
// RpcConnection and Peer server over a plain TCP socket (node:net, 127.0.0.1, no delay)
// between the same two hosts. Target (issue 5): libp2p within 1.5× of plain TCP.
// Measured in the same run, each over its own pair of hosts:
// - host.rpc.untuned: noise() as it comes (`wire` all off: every yamux frame its own noise
//   message, two socket writes per message, decoder stack traces);
// - host.rpc.coalesced: write coalescing only (what shipped before one write per message
//   and the quiet decoder);
// - host.rpc.duplex: the RPC over the Node Duplex adapter (rpc.viaDuplex, the older path)
//   instead of straight over the libp2p stream;
// - host.rpc.link: the tuned hosts through PeerLink (bounded, typed errors);
// - host.rpc.quiet-decoder: noise's own length-prefixed decoder under stack-scope.ts's
//   quiet region instead of noise-decoder.ts (the default before it);
// - the stack options of issue 15, each with the default wire tuning, side by side:
//   host.rpc.pnet (noise + yamux inside a private network: @libp2p/pnet's XSalsa20 under
//   noise), host.rpc.tls (@libp2p/tls, TLS 1.3 in Node's crypto, instead of noise),
//   host.rpc.mplex (@libp2p/mplex instead of yamux), host.rpc.tls.pnet (TLS in a private
//   network) — so the default is picked by the numbers of one run;
// - the levers of issue 15's second pass, each switched off alone: host.rpc.native-aead
//   (noise with node:crypto's ChaCha20-Poly1305 for every message, noise's own `nodeCrypto`,
//   instead of its wasm below 1,200 bytes), host.rpc.loud-events (libp2p's streams dispatch
//   the events nobody listens to: wire/rpc skipUnheardEvents off), host.rpc.unaligned
//   (received chunks not copied to an 8-byte boundary: each frame copied to its own
//   ArrayBuffer), host.rpc.per-microtask (the adapter sends per microtask: a call's Finish
//   and the next call are two yamux frames);
// - echo.tcp / echo.libp2p (params.layers of host.rpc): 104 bytes (a ping's Call frame)
//   echoed over the plain socket and over a raw libp2p stream between the tuned hosts —
//   no RPC, no Duplex — so the difference splits into libp2p stack, RPC and adapter.
// Besides wall time per call, CPU time per call (process.cpuUsage around each case, both
// hosts are in this process) goes into params.cpuUsPerOp: on a loaded machine it says
// more about the cost than wall time does.
// `node dist/bench/rpc.js` runs it alone.
import { once } from 'node:events'
import net from 'node:net'
import type { Stream } from '@libp2p/interface'
import { defaultCrypto, nodeCrypto } from '@chainsafe/libp2p-noise/crypto'
import { measure, median, report, type BenchCase } from '@ww/bench-kit'
import { peer } from '@ww/schema'
import { connectStream } from '@ww/transport'
import { generateSwarmKey, libp2pCluster, peerServer, type Libp2pCluster, type Libp2pClusterOptions } from '../index.js'

async function pair(opts: Libp2pClusterOptions): Promise<[Libp2pCluster, Libp2pCluster]> {
  const a = await libp2pCluster(opts)
  const b = await libp2pCluster({ ...opts, bootstrap: a.addresses() })
  for (let i = 0; i < 2000 && a.view.get(b.id) === undefined; i++) await new Promise((r) => setTimeout(r, 5))
  return [a, b]
}

/** The case, with the CPU microseconds per call of each run recorded in `cpu`. */
function timed(name: string, cpu: Map<string, number[]>, call: () => PromiseLike<unknown>): BenchCase {
  cpu.set(name, [])
  return {
    name,
    fn: async (n) => {
      const c0 = process.cpuUsage()
      for (let i = 0; i < n; i++) await call()
      const c = process.cpuUsage(c0)
      cpu.get(name)!.push((c.user + c.system) / n)
    },
  }
}

const ECHO_PROTOCOL = '/ww/bench/echo/1.0.0'
const ECHO_BYTES = 104

/** Sends ECHO_BYTES and resolves when as many came back. */
function echoer(send: (b: Uint8Array) => void, onBytes: (cb: (n: number) => void) => void): () => Promise<void> {
  const msg = new Uint8Array(ECHO_BYTES).fill(7)
  let want = 0
  let done: (() => void) | undefined
  onBytes((n) => {
    want -= n
    if (want <= 0 && done) { const d = done; done = undefined; d() }
  })
  return () => new Promise<void>((resolve) => { want = ECHO_BYTES; done = resolve; send(msg) })
}

async function libp2pEcho(from: Libp2pCluster, to: Libp2pCluster): Promise<{ ping: () => Promise<void>; stream: Stream }> {
  await to.libp2p.handle(ECHO_PROTOCOL, (s) => { s.addEventListener('message', (e) => { s.send(e.data) }) })
  const stream = await from.libp2p.dialProtocol(to.libp2p.peerId, ECHO_PROTOCOL)
  return { stream, ping: echoer((b) => stream.send(b), (cb) => stream.addEventListener('message', (e) => cb(e.data.byteLength))) }
}

export async function rpcBench(): Promise<void> {
  const hosts = await Promise.all([
    pair({}),
    pair({ wire: { coalesceWrites: false, oneWritePerMessage: false, quietDecoder: false, frameDecoder: false } }),
    pair({ wire: { oneWritePerMessage: false, quietDecoder: false, frameDecoder: false } }),
    pair({ rpc: { viaDuplex: true } }),
    pair({ swarmKey: generateSwarmKey(), encryption: 'noise', muxer: 'yamux' }),
    pair({ encryption: 'tls', muxer: 'yamux' }),
    pair({ encryption: 'noise', muxer: 'mplex' }),
    pair({ swarmKey: generateSwarmKey(), encryption: 'tls', muxer: 'yamux' }),
    pair({ wire: { frameDecoder: false, quietDecoder: true } }),
    pair({ noiseCrypto: { ...defaultCrypto, chaCha20Poly1305Encrypt: nodeCrypto.chaCha20Poly1305Encrypt, chaCha20Poly1305Decrypt: nodeCrypto.chaCha20Poly1305Decrypt } }),
    pair({ wire: { skipUnheardEvents: false }, rpc: { tuning: { skipUnheardEvents: false } } }),
    pair({ rpc: { tuning: { alignChunks: false } } }),
    pair({ rpc: { tuning: { gather: 'microtask' } } }),
  ])
  const [[a, b], [c, d], [e, f], [g, h], [pn1, pn2], [tl1, tl2], [mx1, mx2], [tp1, tp2], [q1, q2], [na1, na2], [le1, le2], [ua1, ua2], [pm1, pm2]] = hosts
  const echoServer = net.createServer((socket) => { socket.setNoDelay(true); socket.on('data', (d) => socket.write(d)) })
  const tcp = net.createServer((socket) => {
    socket.setNoDelay(true)
    const ps = peerServer(b, a.id)
    connectStream(socket, { bootstrap: ps.server, name: 'bench-tcp-server', onClose: () => ps.close('closed') })
  })
  try {
    const link = await a.dialPeer(b.id, { timeoutMs: 10_000 })
    const untuned = (await c.dialPeer(d.id, { timeoutMs: 10_000 })).peer
    const coalesced = (await e.dialPeer(f.id, { timeoutMs: 10_000 })).peer
    const duplex = (await g.dialPeer(h.id, { timeoutMs: 10_000 })).peer
    const quiet = (await q1.dialPeer(q2.id, { timeoutMs: 10_000 })).peer
    const options = {
      pnet: (await pn1.dialPeer(pn2.id, { timeoutMs: 10_000 })).peer,
      tls: (await tl1.dialPeer(tl2.id, { timeoutMs: 10_000 })).peer,
      mplex: (await mx1.dialPeer(mx2.id, { timeoutMs: 10_000 })).peer,
      'tls.pnet': (await tp1.dialPeer(tp2.id, { timeoutMs: 10_000 })).peer,
    }
    const levers = {
      'native-aead': (await na1.dialPeer(na2.id, { timeoutMs: 10_000 })).peer,
      'loud-events': (await le1.dialPeer(le2.id, { timeoutMs: 10_000 })).peer,
      unaligned: (await ua1.dialPeer(ua2.id, { timeoutMs: 10_000 })).peer,
      'per-microtask': (await pm1.dialPeer(pm2.id, { timeoutMs: 10_000 })).peer,
    }
    tcp.listen(0, '127.0.0.1')
    await once(tcp, 'listening')
    const addr = tcp.address() as net.AddressInfo
    const socket = net.connect(addr.port, '127.0.0.1')
    await once(socket, 'connect')
    socket.setNoDelay(true)
    const tcpConn = connectStream(socket, { name: 'bench-tcp-client' })
    const tcpPeer = tcpConn.bootstrap(peer.Peer)
    const overLibp2p = link.peer
    echoServer.listen(0, '127.0.0.1')
    await once(echoServer, 'listening')
    const echoSocket = net.connect((echoServer.address() as net.AddressInfo).port, '127.0.0.1')
    await once(echoSocket, 'connect')
    echoSocket.setNoDelay(true)
    const tcpEcho = echoer((m) => echoSocket.write(m), (cb) => echoSocket.on('data', (d: Buffer) => cb(d.byteLength)))
    const p2pEcho = await libp2pEcho(a, b)
    const cpu = new Map<string, number[]>()
    const s = await measure([
      timed('libp2p', cpu, () => overLibp2p.ping()),
      timed('tcp', cpu, () => tcpPeer.ping()),
      timed('untuned', cpu, () => untuned.ping()),
      timed('coalesced', cpu, () => coalesced.ping()),
      timed('duplex', cpu, () => duplex.ping()),
      timed('quiet', cpu, () => quiet.ping()),
      timed('link', cpu, () => link.ping()),
      timed('echo.tcp', cpu, tcpEcho),
      timed('echo.libp2p', cpu, p2pEcho.ping),
      ...Object.entries(options).map(([name, p]) => timed(name, cpu, () => p.ping())),
      ...Object.entries(levers).map(([name, p]) => timed(name, cpu, () => p.ping())),
    ], { iterations: 5000, runs: 7, warmup: 2 })
    // Warmup runs are recorded too: keep the last `runs` CPU figures, as measure keeps its samples.
    const cpuUs = (name: string): number => Math.round(median(cpu.get(name)!.slice(-7)) * 10) / 10
    // Where the time goes (wall µs per round trip, medians of this run); the adapter term
    // is what the RPC costs over libp2p beyond what it costs over TCP.
    const us = (name: string): number => Math.round(median(s.get(name)!) / 100) / 10
    const layers = {
      echoTcpUs: us('echo.tcp'), echoLibp2pUs: us('echo.libp2p'), rpcTcpUs: us('tcp'), rpcLibp2pUs: us('libp2p'),
      libp2pStackUs: Math.round((us('echo.libp2p') - us('echo.tcp')) * 10) / 10,
      rpcUs: Math.round((us('tcp') - us('echo.tcp')) * 10) / 10,
      adapterUs: Math.round((us('libp2p') - us('echo.libp2p') - (us('tcp') - us('echo.tcp'))) * 10) / 10,
      cpuUs: Object.fromEntries(['echo.tcp', 'echo.libp2p', 'tcp', 'libp2p'].map((n) => [n, cpuUs(n)])),
    }
    const baseline = { name: 'same RpcConnection over plain TCP (node:net)', samples: s.get('tcp')! }
    const common = { call: 'Peer.ping', outstanding: 1, hosts: 2, sameProcess: true, tcpCpuUsPerOp: cpuUs('tcp') }
    const results = [
      report({ name: 'host.rpc', unit: 'ns/op', samples: s.get('libp2p')!, baseline,
        params: { ...common, transport: 'tcp+noise+yamux /ww/rpc/1.0.0', wire: 'all on (default)', cpuUsPerOp: cpuUs('libp2p'), layers } }),
      report({ name: 'host.rpc.link', unit: 'ns/op', samples: s.get('link')!, baseline,
        params: { ...common, call: 'PeerLink.ping (bounded, typed errors)', cpuUsPerOp: cpuUs('link') } }),
      report({ name: 'host.rpc.untuned', unit: 'ns/op', samples: s.get('untuned')!, baseline,
        params: { ...common, wire: 'all off (noise() as it comes)', cpuUsPerOp: cpuUs('untuned') } }),
      report({ name: 'host.rpc.coalesced', unit: 'ns/op', samples: s.get('coalesced')!, baseline,
        params: { ...common, wire: 'coalesceWrites only', cpuUsPerOp: cpuUs('coalesced') } }),
      report({ name: 'host.rpc.duplex', unit: 'ns/op', samples: s.get('duplex')!, baseline,
        params: { ...common, rpc: 'viaDuplex (Node Duplex adapter)', cpuUsPerOp: cpuUs('duplex') } }),
    ]
    report({ name: 'host.rpc.quiet-decoder', unit: 'ns/op', samples: s.get('quiet')!, baseline,
      params: { ...common, wire: 'noise\'s own decoder run without stack traces (the default before frameDecoder)', cpuUsPerOp: cpuUs('quiet') } })
    const stacks = {
      pnet: 'tcp+pnet+noise+yamux (private network)', tls: 'tcp+tls+yamux', mplex: 'tcp+noise+mplex', 'tls.pnet': 'tcp+pnet+tls+yamux (private network)',
    }
    for (const [name, transport] of Object.entries(stacks)) {
      results.push(report({ name: `host.rpc.${name}`, unit: 'ns/op', samples: s.get(name)!, baseline,
        params: { ...common, transport, wire: 'all on (default)', cpuUsPerOp: cpuUs(name) } }))
    }
    const leverOff = {
      'native-aead': 'noise with node:crypto ChaCha20-Poly1305 for every message (noise\'s nodeCrypto), not its wasm below 1,200 bytes',
      'loud-events': 'skipUnheardEvents off (libp2p dispatches listener-less events)',
      unaligned: 'rpc.tuning.alignChunks off (each frame of an unaligned chunk copied alone)',
      'per-microtask': 'rpc.tuning.gather = microtask (Finish and the next call: two yamux frames)',
    }
    const leverRows = Object.entries(leverOff).map(([name, what]) => report({ name: `host.rpc.${name}`, unit: 'ns/op', samples: s.get(name)!, baseline,
      params: { ...common, transport: 'tcp+noise+yamux /ww/rpc/1.0.0', wire: 'all on (default)', off: what, cpuUsPerOp: cpuUs(name) } }))
    const ratio = (x: { value: number; baseline?: { value: number } }): string => (x.value / x.baseline!.value).toFixed(2)
    const [r, linked, raw, gathered, viaDuplex] = results
    console.log(`host.rpc: libp2p is ${ratio(r!)}× plain TCP in wall time (target ≤ 1.5×), ${(cpuUs('libp2p') / cpuUs('tcp')).toFixed(2)}× in CPU per call ` +
      `(${cpuUs('libp2p')} vs ${cpuUs('tcp')} µs); through PeerLink ${ratio(linked!)}×; noise() untuned ${ratio(raw!)}× ` +
      `(${cpuUs('untuned')} µs CPU); coalescing only ${ratio(gathered!)}× (${cpuUs('coalesced')} µs CPU); ` +
      `over the Duplex adapter ${ratio(viaDuplex!)}× (${cpuUs('duplex')} µs CPU)`)
    console.log(`host.rpc stacks (× plain TCP, wall; CPU µs per call): noise+yamux ${ratio(r!)}× (${cpuUs('libp2p')}), ` +
      Object.keys(stacks).map((n, i) => `${stacks[n as keyof typeof stacks]} ${ratio(results[5 + i]!)}× (${cpuUs(n)})`).join(', '))
    console.log(`host.rpc levers, each off alone (× plain TCP, wall; CPU µs per call): ` +
      Object.keys(leverOff).map((n, i) => `${n} ${ratio(leverRows[i]!)}× (${cpuUs(n)})`).join(', '))
    console.log(`host.rpc layers (wall µs per round trip): echo tcp ${layers.echoTcpUs}, echo libp2p ${layers.echoLibp2pUs} ` +
      `(libp2p stack +${layers.libp2pStackUs}), RPC over tcp ${layers.rpcTcpUs} (RPC +${layers.rpcUs}), RPC over libp2p ${layers.rpcLibp2pUs} ` +
      `(adapter +${layers.adapterUs}); CPU µs ${JSON.stringify(layers.cpuUs)}`)
    p2pEcho.stream.abort(new Error('bench done'))
    echoSocket.destroy()
    tcpConn.close()
    socket.destroy()
  } finally {
    tcp.close()
    echoServer.close()
    await Promise.all(hosts.flat().map((h) => h.close()))
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await rpcBench()
