// Reference servers for schemas/testing.capnp (Echo, Counter), built on the generated
// bindings in @ww/schema. Used by the fuzz harness, the benchmarks and the tests of this
// package (dev tooling: dist/fuzz is not published).

import { testing } from '@ww/schema'

/** A counter that adds `n` to a running total starting at `start`. */
export function newCounter(start: bigint): testing.Counter$Server {
  let total = start
  return new testing.Counter$Server({ add(p, r) { total += p.getN(); r.setTotal(total) } })
}

/** Echo.echo as the reference Echo answers it: the payload, copied into the results. */
export function echoPayload(p: testing.Echo_echo$Params, r: testing.Echo_echo$Results): void {
  const src = p.getPayload().toUint8Array()
  r.initPayload(src.byteLength).copyBuffer(src)
}

/** The reference Echo: ping does nothing, echo copies its payload, counter makes a Counter. */
export function newEcho(): testing.Echo$Server {
  return new testing.Echo$Server({
    ping() {},
    echo: echoPayload,
    counter(p, r) { r.setCounter(newCounter(p.getStart())) },
  })
}
