// Reference servers for schemas/testing.capnp (Echo, Counter), the one copy every package's
// tests and benchmarks use: `@ww/schema/testing`. Echo exists only to test and measure the
// RPC path, so its reference behaviour lives beside its bindings.

import { testing } from './gen/index.js'

/** What a reference server records and how it answers. */
export interface EchoOptions {
  /** Each call's method name is pushed here as it arrives (`ping`, `echo`, `counter`, `add`). */
  calls?: string[]
  /**
   * Answer after a timer instead of at once, so the caller really waits (a guest parks, a
   * pipelined call overtakes its answer). Params are read before the wait, as they must be.
   */
  later?: boolean
}

const timer = (): Promise<void> => new Promise((r) => setTimeout(r, 1))

/** A Counter that adds `n` to a running total starting at `start`. */
export function newCounter(start: bigint, o: EchoOptions = {}): testing.Counter$Server {
  let total = start
  return new testing.Counter$Server({ add(p, r) { o.calls?.push('add'); total += p.getN(); r.setTotal(total) } })
}

/** Echo.echo as the reference answers it: the payload, copied into the results. */
export function echoPayload(p: testing.Echo_echo$Params, r: testing.Echo_echo$Results): void {
  const src = p.getPayload().toUint8Array()
  r.initPayload(src.byteLength).copyBuffer(src)
}

/** The reference Echo: ping does nothing, echo copies its payload, counter makes a Counter. */
export function newEcho(o: EchoOptions = {}): testing.Echo$Server {
  const { calls } = o
  if (!o.later) {
    return new testing.Echo$Server({
      ping() { calls?.push('ping') },
      echo(p, r) { calls?.push('echo'); echoPayload(p, r) },
      counter(p, r) { calls?.push('counter'); r.setCounter(newCounter(p.getStart(), o)) },
    })
  }
  return new testing.Echo$Server({
    async ping() { calls?.push('ping'); await timer() },
    async echo(p, r) {
      calls?.push('echo')
      const bytes = p.getPayload().toUint8Array().slice()
      await timer()
      r.initPayload(bytes.byteLength).copyBuffer(bytes)
    },
    async counter(p, r) {
      calls?.push('counter')
      const start = p.getStart()
      await timer()
      r.setCounter(newCounter(start, o))
    },
  })
}
