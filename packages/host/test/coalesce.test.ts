// Write coalescing on libp2p connections (src/cluster/coalesce.ts): one host-to-host RPC
// round trip costs far fewer socket writes with it than without, and bulk traffic still
// arrives intact (a 1 MiB-ish anchor value in both directions).
import net from 'node:net'
import { libp2pCluster, waitForHost, type Libp2pCluster } from '../src/index.js'

async function socketWritesPerPing(coalesceWrites: boolean): Promise<number> {
  const a = await libp2pCluster({ coalesceWrites })
  const b = await libp2pCluster({ bootstrap: a.addresses(), coalesceWrites })
  const proto = net.Socket.prototype as unknown as Record<'_write' | '_writev', (...x: unknown[]) => unknown>
  const [w, wv] = [proto._write, proto._writev]
  let flushes = 0
  try {
    await waitForHost(a.view, b.id, { timeoutMs: 10_000 })
    const link = await a.dialPeer(b.id)
    for (let i = 0; i < 50; i++) await link.ping()
    proto._write = function (this: unknown, ...x: unknown[]) { flushes++; return w.apply(this, x) }
    proto._writev = function (this: unknown, ...x: unknown[]) { flushes++; return wv.apply(this, x) }
    for (let i = 0; i < 200; i++) await link.peer.ping()
  } finally {
    proto._write = w
    proto._writev = wv
    await Promise.all([a.close(), b.close()])
  }
  return flushes / 200
}

test('a host-to-host null call makes fewer socket writes with coalescing (both hosts counted)', async () => {
  const plain = await socketWritesPerPing(false)
  const gathered = await socketWritesPerPing(true)
  // Each yamux frame its own write: a data frame each way (the Finish rides with the next
  // call, rpc-stream.ts) and the window update each data frame draws.
  expect(plain).toBeGreaterThanOrEqual(3.5)
  expect(gathered).toBeLessThanOrEqual(2.5) // one per direction (noise-wire.test.ts)
}, 30_000)

test('large values cross coalesced connections intact, both ways', async () => {
  let a: Libp2pCluster | undefined
  let b: Libp2pCluster | undefined
  try {
    a = await libp2pCluster({})
    b = await libp2pCluster({ bootstrap: a.addresses() })
    await waitForHost(a.view, b.id, { timeoutMs: 10_000 })
    await waitForHost(b.view, a.id, { timeoutMs: 10_000 })
    const big = Uint8Array.from({ length: 60 * 1024 }, (_, i) => (i * 31) & 0xff)
    await b.local.walk('big').store(big)
    const got = await a.anchors.walk(`${b.id}/big`).load()
    expect(got?.kind === 'bytes' && Buffer.compare(Buffer.from(got.bytes), Buffer.from(big))).toBe(0)
    for (let i = 0; i < 8; i++) await a.anchors.walk(`${b.id}/n${i}`).store(big.subarray(i))
    for (let i = 0; i < 8; i++) {
      const v = await b.local.walk(`n${i}`).load()
      expect(v?.kind === 'bytes' && v.bytes.byteLength).toBe(big.byteLength - i)
    }
  } finally {
    await Promise.all([a?.close(), b?.close()])
  }
}, 30_000)
