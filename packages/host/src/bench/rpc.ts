// host.rpc: the host-to-host null call (Peer.ping, one call outstanding) over the libp2p
// stream protocol /ww/rpc/1.0.0 (TCP + noise + yamux), in ns/op; baseline: the same
// RpcConnection and Peer server over a plain TCP socket (node:net, 127.0.0.1, no delay)
// between the same two hosts. Target (issue 5): libp2p within 1.5× of plain TCP.
// host.rpc.uncoalesced: the same over hosts with `coalesceWrites: false` (every yamux frame
// its own noise message and socket write), measured in the same run.
// Both hosts run in this process; `node dist/bench/rpc.js` runs it alone.
import { once } from 'node:events'
import net from 'node:net'
import { measure, report } from '@ww/bench-kit'
import { peer } from '@ww/schema'
import { connectStream } from '@ww/transport'
import { libp2pCluster, peerServer } from '../index.js'

export async function rpcBench(): Promise<void> {
  const a = await libp2pCluster({})
  const b = await libp2pCluster({ bootstrap: a.addresses() })
  const c = await libp2pCluster({ coalesceWrites: false })
  const d = await libp2pCluster({ bootstrap: c.addresses(), coalesceWrites: false })
  const tcp = net.createServer((socket) => {
    socket.setNoDelay(true)
    const ps = peerServer(b, a.id)
    connectStream(socket, { bootstrap: ps.server, name: 'bench-tcp-server', onClose: () => ps.close('closed') })
  })
  try {
    for (let i = 0; i < 2000 && a.view.get(b.id) === undefined; i++) await new Promise((r) => setTimeout(r, 5))
    for (let i = 0; i < 2000 && c.view.get(d.id) === undefined; i++) await new Promise((r) => setTimeout(r, 5))
    const link = await a.dialPeer(b.id, { timeoutMs: 10_000 })
    const uncoalesced = (await c.dialPeer(d.id, { timeoutMs: 10_000 })).peer
    tcp.listen(0, '127.0.0.1')
    await once(tcp, 'listening')
    const addr = tcp.address() as net.AddressInfo
    const socket = net.connect(addr.port, '127.0.0.1')
    await once(socket, 'connect')
    socket.setNoDelay(true)
    const tcpConn = connectStream(socket, { name: 'bench-tcp-client' })
    const tcpPeer = tcpConn.bootstrap(peer.Peer)
    const overLibp2p = link.peer
    const s = await measure([
      { name: 'libp2p', fn: async (n) => { for (let i = 0; i < n; i++) await overLibp2p.ping() } },
      { name: 'tcp', fn: async (n) => { for (let i = 0; i < n; i++) await tcpPeer.ping() } },
      { name: 'uncoalesced', fn: async (n) => { for (let i = 0; i < n; i++) await uncoalesced.ping() } },
      // The same null call through PeerLink (bounded by a timeout, errors typed).
      { name: 'link', fn: async (n) => { for (let i = 0; i < n; i++) await link.ping() } },
    ], { iterations: 5000, runs: 7, warmup: 2 })
    const r = report({
      name: 'host.rpc', unit: 'ns/op', samples: s.get('libp2p')!,
      baseline: { name: 'same RpcConnection over plain TCP (node:net)', samples: s.get('tcp')! },
      params: { call: 'Peer.ping', outstanding: 1, transport: 'tcp+noise+yamux /ww/rpc/1.0.0', hosts: 2, sameProcess: true },
    })
    const linked = report({
      name: 'host.rpc.link', unit: 'ns/op', samples: s.get('link')!,
      baseline: { name: 'same RpcConnection over plain TCP (node:net)', samples: s.get('tcp')! },
      params: { call: 'PeerLink.ping (bounded, typed errors)', outstanding: 1, hosts: 2, sameProcess: true },
    })
    const plain = report({
      name: 'host.rpc.uncoalesced', unit: 'ns/op', samples: s.get('uncoalesced')!,
      baseline: { name: 'same RpcConnection over plain TCP (node:net)', samples: s.get('tcp')! },
      params: { call: 'Peer.ping', outstanding: 1, coalesceWrites: false, hosts: 2, sameProcess: true },
    })
    const slow = (x: { value: number; baseline?: { value: number } }): string => (x.value / x.baseline!.value).toFixed(2)
    console.log(`host.rpc: libp2p is ${slow(r)}× plain TCP (target ≤ 1.5×); through PeerLink ${slow(linked)}×; without write coalescing ${slow(plain)}×`)
    tcpConn.close()
    socket.destroy()
  } finally {
    tcp.close()
    await Promise.all([a.close(), b.close(), c.close(), d.close()])
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await rpcBench()
