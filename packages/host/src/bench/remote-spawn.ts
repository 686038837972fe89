// host.remote-spawn: spawn a tiny module on another host and wait for its exit status
// (Executor with `where` → Peer.exec + Process.pid pipelined, then Process.wait over the
// same /ww/rpc/1.0.0 link), in µs per spawn+wait; baseline: the same spawn+wait on the
// local host. Modules run on tinyRuntime (this package's WebAssembly test runtime); the
// module is cached on both hosts after the first spawn, so the bytes travel each time
// (inline) but compile from V8's cache. `node dist/bench/remote-spawn.js` runs it alone.
import { measure, report } from '@ww/bench-kit'
import { hostProcessTree, libp2pCluster } from '../index.js'
import { tinyModule, tinyRuntime } from '../exec/tiny-runtime.js'

export async function remoteSpawnBench(): Promise<void> {
  const a = await libp2pCluster({})
  const b = await libp2pCluster({ bootstrap: a.addresses() })
  const ta = hostProcessTree(a, tinyRuntime())
  const tb = hostProcessTree(b, tinyRuntime())
  try {
    for (let i = 0; i < 2000 && a.view.get(b.id) === undefined; i++) await new Promise((r) => setTimeout(r, 5))
    const ex = ta.executor()
    const bytes = tinyModule({ exit: 0 })
    const cid = a.cache.put(bytes)
    const spawnWait = async (where: string | undefined, byCid: boolean): Promise<void> => {
      const p = await ex.spawn({ ...(byCid ? { cid } : { bytecode: bytes }), ...(where ? { where } : {}) })
      const s = await p.wait()
      if (s.kind !== 'exited') throw new Error(`bench: unexpected exit ${JSON.stringify(s)}`)
    }
    const s = await measure([
      { name: 'remote', fn: async (n) => { for (let i = 0; i < n; i++) await spawnWait(b.id, false) } },
      { name: 'remote-cid', fn: async (n) => { for (let i = 0; i < n; i++) await spawnWait(b.id, true) } },
      { name: 'local', fn: async (n) => { for (let i = 0; i < n; i++) await spawnWait(undefined, false) } },
    ], { iterations: 200, runs: 7, warmup: 2 })
    const us = (xs: number[]): number[] => xs.map((x) => x / 1e3)
    const r = report({
      name: 'host.remote-spawn', unit: 'µs', samples: us(s.get('remote')!),
      baseline: { name: 'the same spawn+wait on the local host', samples: us(s.get('local')!) },
      params: { module: `${bytes.byteLength} B, _start returns 0`, bytecode: 'inline', hosts: 2, transport: 'libp2p /ww/rpc/1.0.0', sameProcess: true, runtime: 'tinyRuntime' },
    })
    const byCid = report({
      name: 'host.remote-spawn.cid', unit: 'µs', samples: us(s.get('remote-cid')!),
      baseline: { name: 'the same spawn+wait on the local host', samples: us(s.get('local')!) },
      params: { module: `${bytes.byteLength} B`, bytecode: 'cid (cached on the target)', hosts: 2, sameProcess: true, runtime: 'tinyRuntime' },
    })
    console.log(`host.remote-spawn: ${r.value} µs remote vs ${r.baseline!.value} µs local (${(r.value / r.baseline!.value).toFixed(1)}×); by cid ${byCid.value} µs`)
  } finally {
    await Promise.all([ta.close(), tb.close()])
    await Promise.all([a.close(), b.close()])
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await remoteSpawnBench()
