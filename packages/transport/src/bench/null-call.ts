// transport.null-call: Echo.ping guest → host → guest (Call, Return, Finish) in ns/op,
// against the bare wasm→JS import call (the floor), our RpcConnection pair and capnp-ts's
// own Conn pair, all interleaved in one process.

import { measure, median, report } from '@ww/bench-kit'
import { jspiAvailable } from '../guest/suspend.js'
import { capnpTsPair, floorGuest, loopGuest, pingCall, rpcPair, runOnce } from './fixtures.js'

export async function nullCall(iterations = 20_000, runs = 7): Promise<void> {
  const floor = await floorGuest()
  const plain = await loopGuest(iterations, pingCall(), false)
  const instrumented = await loopGuest(iterations, pingCall(), true)
  const pair = rpcPair()
  const capnp = capnpTsPair()
  const native = jspiAvailable() ? 'jspi' : 'asyncify'
  const cases = [
    { name: 'guest', fn: () => runOnce(instrumented, { transport: 'zero-copy', suspension: 'asyncify' }) },
    { name: 'guest-plain', fn: () => runOnce(plain, { transport: 'zero-copy', suspension: native }) },
    { name: 'guest-copying', fn: () => runOnce(instrumented, { transport: 'copying', suspension: 'asyncify' }) },
    { name: 'pair', fn: (n: number) => pair(n) },
    { name: 'capnp-ts', fn: (n: number) => capnp(n) },
    { name: 'floor', fn: (n: number) => { floor(n) } },
  ]
  const s = await measure(cases, { iterations, runs })
  const m = (k: string): number => median(s.get(k)!)
  const params = {
    iterations,
    suspension: 'asyncify (module instrumented; replies are queued, so recv never suspends)',
    callsPerSecond: Math.round(1e9 / m('guest')),
    floorNs: round(m('floor')),
    multipleOfFloor: round(m('guest') / m('floor')),
    capnpTsConnNs: round(m('capnp-ts')),
    vsCapnpTsConn: round(m('capnp-ts') / m('guest')),
    uninstrumentedNs: round(m('guest-plain')),
    uninstrumentedSuspension: native,
    copyingNs: round(m('guest-copying')),
    addedToPairPercent: round((m('guest') / m('pair') - 1) * 100),
  }
  report({ name: 'transport.null-call', unit: 'ns/op', samples: s.get('guest')!, baseline: { name: 'RpcConnection pair (in process)', samples: s.get('pair')! }, params })
  report({ name: 'transport.null-call.capnp-ts', unit: 'ns/op', samples: s.get('guest')!, baseline: { name: "capnp-ts Conn pair (in-process Transports)", samples: s.get('capnp-ts')! }, params: { iterations } })
  report({ name: 'transport.null-call.floor', unit: 'ns/op', samples: s.get('floor')!, params: { iterations, what: 'bare wasm→JS import call' } })
}

function round(x: number): number {
  return Math.round(x * 100) / 100
}
