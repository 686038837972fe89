// Echo servers for the guest tests.
import { testing } from '@ww/schema'
import { echoPayload, newCounter } from '@ww/schema/testing'

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

/**
 * An Echo whose ping answers only when the test calls `release()`: a cluster syscall whose
 * answer comes after whatever the test orders first, not after a time. `called` resolves
 * on the first ping (the guest is then about to wait for its answer).
 */
export function gatedEcho(): testing.Echo$Server & { called: Promise<void>; release: () => void } {
  let called!: () => void, release!: () => void
  const calledP = new Promise<void>((r) => { called = r })
  const released = new Promise<void>((r) => { release = r })
  const s = new testing.Echo$Server({
    ping: () => { called(); return released },
    echo: echoPayload,
    counter(p, r) { r.setCounter(newCounter(p.getStart())) },
  }) as testing.Echo$Server & { called: Promise<void>; release: () => void }
  s.called = calledP
  s.release = release
  return s
}
