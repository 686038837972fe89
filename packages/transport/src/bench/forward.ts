// transport.forward: Echo.ping through a host that forwards it without the schema
// (client → host → owner, the host's bootstrap being its import of the owner's Echo)
// against the direct call (client → owner) and a hand-written typed relay on the host
// (an Echo server calling the owner's ping: the least any two-hop forward can cost). All
// in-process pairs, every message framed and read in place as on a socket; interleaved.

import { measure, median, report } from '@ww/bench-kit'
import { testing } from '@ww/schema'
import { createPair } from '../pair.js'
import { newEcho } from '@ww/schema/testing'

function loop(echo: testing.Echo$Client): (n: number) => Promise<void> {
  return async (n) => { for (let i = 0; i < n; i++) await echo.ping() }
}

export async function forward(iterations = 10_000, runs = 7): Promise<void> {
  const [toOwner] = createPair({ frames: true, b: { bootstrap: newEcho() } })
  const owner = toOwner.bootstrap(testing.Echo)
  const [direct] = createPair({ frames: true, b: { bootstrap: newEcho() } })
  const [viaForwarder] = createPair({ frames: true, b: { bootstrap: owner.client } })
  const relay = new testing.Echo$Server({ async ping() { await owner.ping() }, echo() {}, counter() {} })
  const [viaRelay] = createPair({ frames: true, b: { bootstrap: relay } })
  const s = await measure([
    { name: 'forwarded', fn: loop(viaForwarder.bootstrap(testing.Echo)) },
    { name: 'direct', fn: loop(direct.bootstrap(testing.Echo)) },
    { name: 'typed-relay', fn: loop(viaRelay.bootstrap(testing.Echo)) },
  ], { iterations, runs })
  const m = (k: string): number => median(s.get(k)!)
  const round = (x: number): number => Math.round(x * 100) / 100
  report({
    name: 'transport.forward', unit: 'ns/op', samples: s.get('forwarded')!,
    baseline: { name: 'direct call (one hop)', samples: s.get('direct')! },
    params: {
      iterations, frames: true,
      typedRelayNs: round(m('typed-relay')),
      vsTypedRelay: round(m('forwarded') / m('typed-relay')),
      multipleOfDirect: round(m('forwarded') / m('direct')),
    },
  })
}
