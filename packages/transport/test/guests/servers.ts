// Echo servers for the guest tests.
import { testing } from '@ww/schema'
import { echoPayload, newCounter } from '../../src/fuzz/echo-servers.js'

/** An Echo whose ping answers after `ms` (a slow cluster syscall); counts pings. */
export function slowEcho(ms: number): testing.Echo$Server & { pings: number } {
  const s = new testing.Echo$Server({
    ping: () => new Promise<void>((r) => setTimeout(() => { s.pings++; r() }, ms)),
    echo: echoPayload,
    counter(p, r) { r.setCounter(newCounter(p.getStart())) },
  }) as testing.Echo$Server & { pings: number }
  s.pings = 0
  return s
}
