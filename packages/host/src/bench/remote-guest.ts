// host.forward.remote-guest: a guest on host A calls an Echo a guest on host B serves,
// both hosts real libp2p clusters on 127.0.0.1 in this process: guest A → A's forwarder
// (the provider a registry find on A answers, bounded by the link's deadlines) →
// /ww/rpc/1.0.0 → B's forwarder (its registry's provision) → guest B. In ns/op; baseline:
// host.rpc's null call over the same link (Peer.ping, A to B), measured interleaved. Goal
// (issue 14): ≤ 1.5× that round trip. Also counted: the forwarders' copies and the
// frames both hosts' connections copied (deferred copies), per call.
// `node dist/bench/cli.js remote-guest` runs it alone.
import type { Client } from 'capnp-ts'
import { measure, median, report } from '@ww/bench-kit'
import { guestBytes } from '@ww/guest'
import { testing } from '@ww/schema'
import { GuestConnection, retainServer } from '@ww/transport'
import { libp2pCluster, type ForwardingServer, type Libp2pCluster } from '../index.js'

async function pair(): Promise<[Libp2pCluster, Libp2pCluster]> {
  const a = await libp2pCluster({})
  const b = await libp2pCluster({ bootstrap: a.addresses() })
  for (let i = 0; i < 2000 && a.view.get(b.id) === undefined; i++) await new Promise((r) => setTimeout(r, 5))
  return [a, b]
}

/** serve-echo on its own connection, serving until closed; its bootstrap capability. */
async function servingGuest(): Promise<{ conn: GuestConnection; echo: Client; done: Promise<unknown> }> {
  const module = await WebAssembly.compile(await guestBytes('serve-echo'))
  const conn = new GuestConnection({ bootstrap: new testing.Echo.Server({ ping() {}, echo() {}, counter() {} }), suspension: 'asyncify' })
  const inst = await WebAssembly.instantiate(module, { ...conn.imports(), env: { abort: () => { throw new Error('serve-echo aborted') } } })
  conn.attach(inst)
  return { conn, echo: conn.rpc.bootstrapClient(), done: conn.run().catch(() => undefined) }
}

/** call-loop: `n` pings on its bootstrap, to its end. */
async function callLoop(module: WebAssembly.Module, bootstrap: ForwardingServer, n: number): Promise<void> {
  const conn = new GuestConnection({ bootstrap, suspension: 'asyncify' })
  const inst = await WebAssembly.instantiate(module, { ...conn.imports(), env: { abort: () => { throw new Error('call-loop aborted') } } })
  conn.attach(inst)
  ;(inst.exports.ww_bench_set as (n: number, b: number) => void)(n, 0)
  const code = await conn.run()
  if (code !== 0) throw new Error(`call-loop exited ${String(code)}`)
}

/**
 * Counts from now: `done()` gives, per call through `toB`, its forwarder's copies and the
 * deferred copies (frames kept past their receive) of the link's and guest B's connections.
 */
function hostCopies(toB: ForwardingServer, link: { conn: GuestConnection['rpc'] }, guestB: GuestConnection): () => Record<string, number> {
  const calls = toB.stats.calls
  const copies = toB.stats.copies
  const deferred = link.conn.stats.deferredCopies + guestB.rpc.stats.deferredCopies
  return () => {
    const n = toB.stats.calls - calls
    const per = (x: number): number => Math.round((x / n) * 100) / 100
    return {
      callerForwarderCopiesPerCall: per(toB.stats.copies - copies),
      deferredCopiesPerCall: per(link.conn.stats.deferredCopies + guestB.rpc.stats.deferredCopies - deferred),
    }
  }
}

export async function remoteGuestBench(iterations = 2_000, runs = 7): Promise<void> {
  const [a, b] = await pair()
  const served = await servingGuest()
  try {
    // B offers guest B's Echo in its registry; A reaches it as a finder on A would.
    const provision = b.registry.provide('bench-echo', served.echo, { ttlMs: 3_600_000 })
    const link = await a.dialPeer(b.id, { timeoutMs: 10_000 })
    const [found] = await a.registry.findProviders('bench-echo', { min: 1, timeoutMs: 10_000 })
    const toB = a.registry.remoteService(found!) as ForwardingServer
    // Held here: each run's guest A releasing it must not let go of the provider on B.
    const letGo = retainServer(toB)
    const caller = await WebAssembly.compile(await guestBytes('call-loop'))
    const s = await measure([
      { name: 'guest-to-guest', fn: (n) => callLoop(caller, toB, n) },
      { name: 'host.rpc', fn: async (n) => { for (let i = 0; i < n; i++) await link.peer.ping() } },
    ], { iterations, runs })
    const multiple = Math.round((median(s.get('guest-to-guest')!) / median(s.get('host.rpc')!)) * 100) / 100
    const copies = hostCopies(toB, link, served.conn)
    await callLoop(caller, toB, iterations)
    report({
      name: 'host.forward.remote-guest', unit: 'ns/op', samples: s.get('guest-to-guest')!,
      baseline: { name: 'host.rpc: Peer.ping A → B over the same link', samples: s.get('host.rpc')! },
      params: {
        iterations, path: 'guest A → A forwarder (registry find) → /ww/rpc (tcp, noise, yamux) → B forwarder → guest B',
        multipleOfHostRpc: multiple, goal: '≤ 1.5× host.rpc', ...copies(),
      },
    })
    letGo()
    provision.release()
  } finally {
    served.conn.close()
    await served.done
    await Promise.all([a.close(), b.close()])
  }
}
