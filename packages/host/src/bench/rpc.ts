// host.rpc: the host-to-host null call (Peer.ping, one call outstanding) over the libp2p
// stream protocol /ww/rpc/1.0.0 (TCP + noise + yamux), in ns/op; baseline: the same
// RpcConnection and Peer server over a plain TCP socket (node:net, 127.0.0.1, no delay)
// between the same two hosts. Target (issue 5): libp2p within 1.5× of plain TCP.
// Measured in the same run, each over its own pair of hosts:
// - host.rpc.untuned: noise() as it comes (`wire` all off: every yamux frame its own noise
//   message, two socket writes per message, decoder stack traces);
// - host.rpc.coalesced: write coalescing only (what shipped before one write per message
//   and the quiet decoder);
// - host.rpc.link: the tuned hosts through PeerLink (bounded, typed errors).
// Besides wall time per call, CPU time per call (process.cpuUsage around each case, both
// hosts are in this process) goes into params.cpuUsPerOp: on a loaded machine it says
// more about the cost than wall time does.
// `node dist/bench/rpc.js` runs it alone.
import { once } from 'node:events'
import net from 'node:net'
import { measure, median, report, type BenchCase } from '@ww/bench-kit'
import { peer } from '@ww/schema'
import { connectStream } from '@ww/transport'
import { libp2pCluster, peerServer, type Libp2pCluster, type Libp2pClusterOptions } from '../index.js'

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

export async function rpcBench(): Promise<void> {
  const hosts = await Promise.all([
    pair({}),
    pair({ wire: { coalesceWrites: false, oneWritePerMessage: false, quietDecoder: false } }),
    pair({ wire: { oneWritePerMessage: false, quietDecoder: false } }),
  ])
  const [[a, b], [c, d], [e, f]] = hosts
  const tcp = net.createServer((socket) => {
    socket.setNoDelay(true)
    const ps = peerServer(b, a.id)
    connectStream(socket, { bootstrap: ps.server, name: 'bench-tcp-server', onClose: () => ps.close('closed') })
  })
  try {
    const link = await a.dialPeer(b.id, { timeoutMs: 10_000 })
    const untuned = (await c.dialPeer(d.id, { timeoutMs: 10_000 })).peer
    const coalesced = (await e.dialPeer(f.id, { timeoutMs: 10_000 })).peer
    tcp.listen(0, '127.0.0.1')
    await once(tcp, 'listening')
    const addr = tcp.address() as net.AddressInfo
    const socket = net.connect(addr.port, '127.0.0.1')
    await once(socket, 'connect')
    socket.setNoDelay(true)
    const tcpConn = connectStream(socket, { name: 'bench-tcp-client' })
    const tcpPeer = tcpConn.bootstrap(peer.Peer)
    const overLibp2p = link.peer
    const cpu = new Map<string, number[]>()
    const s = await measure([
      timed('libp2p', cpu, () => overLibp2p.ping()),
      timed('tcp', cpu, () => tcpPeer.ping()),
      timed('untuned', cpu, () => untuned.ping()),
      timed('coalesced', cpu, () => coalesced.ping()),
      timed('link', cpu, () => link.ping()),
    ], { iterations: 5000, runs: 7, warmup: 2 })
    // Warmup runs are recorded too: keep the last `runs` CPU figures, as measure keeps its samples.
    const cpuUs = (name: string): number => Math.round(median(cpu.get(name)!.slice(-7)) * 10) / 10
    const baseline = { name: 'same RpcConnection over plain TCP (node:net)', samples: s.get('tcp')! }
    const common = { call: 'Peer.ping', outstanding: 1, hosts: 2, sameProcess: true, tcpCpuUsPerOp: cpuUs('tcp') }
    const results = [
      report({ name: 'host.rpc', unit: 'ns/op', samples: s.get('libp2p')!, baseline,
        params: { ...common, transport: 'tcp+noise+yamux /ww/rpc/1.0.0', wire: 'all on (default)', cpuUsPerOp: cpuUs('libp2p') } }),
      report({ name: 'host.rpc.link', unit: 'ns/op', samples: s.get('link')!, baseline,
        params: { ...common, call: 'PeerLink.ping (bounded, typed errors)', cpuUsPerOp: cpuUs('link') } }),
      report({ name: 'host.rpc.untuned', unit: 'ns/op', samples: s.get('untuned')!, baseline,
        params: { ...common, wire: 'all off (noise() as it comes)', cpuUsPerOp: cpuUs('untuned') } }),
      report({ name: 'host.rpc.coalesced', unit: 'ns/op', samples: s.get('coalesced')!, baseline,
        params: { ...common, wire: 'coalesceWrites only', cpuUsPerOp: cpuUs('coalesced') } }),
    ]
    const ratio = (x: { value: number; baseline?: { value: number } }): string => (x.value / x.baseline!.value).toFixed(2)
    const [r, linked, raw, gathered] = results
    console.log(`host.rpc: libp2p is ${ratio(r!)}× plain TCP in wall time (target ≤ 1.5×), ${(cpuUs('libp2p') / cpuUs('tcp')).toFixed(2)}× in CPU per call ` +
      `(${cpuUs('libp2p')} vs ${cpuUs('tcp')} µs); through PeerLink ${ratio(linked!)}×; noise() untuned ${ratio(raw!)}× ` +
      `(${cpuUs('untuned')} µs CPU); coalescing only ${ratio(gathered!)}× (${cpuUs('coalesced')} µs CPU)`)
    tcpConn.close()
    socket.destroy()
  } finally {
    tcp.close()
    await Promise.all(hosts.flat().map((h) => h.close()))
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await rpcBench()
