// Echo servers for the guest tests.
import { Echo_Server, newCounter } from '../../src/fuzz/echo-schema.js'

/** An Echo whose ping answers after `ms` (a slow cluster syscall); counts pings. */
export function slowEcho(ms: number): Echo_Server & { pings: number } {
  const s = new Echo_Server({
    ping: () => new Promise<void>((r) => setTimeout(() => { s.pings++; r() }, ms)),
    echo(p, r) {
      const src = p.getPayload().toUint8Array()
      r.initPayload(src.byteLength).copyBuffer(src)
    },
    counter(p, r) { r.setCounter(newCounter(p.getStart())) },
  }) as Echo_Server & { pings: number }
  s.pings = 0
  return s
}
