// transport.payload.<size>: Echo.echo of a blob, guest → host → guest, zero-copy against
// the copying transport; and transport.payload-in.<size>: the blob one way (the server
// only reads it), the transport's own share without the echo's inherent copies.

import { measure, report } from '@ww/bench-kit'
import { testing } from '@ww/schema'
import { echoCall, loopGuest, runOnce } from './fixtures.js'

const SIZES: [string, number, number][] = [['1KiB', 1024, 5000], ['64KiB', 64 * 1024, 1000], ['1MiB', 1024 * 1024, 200]]

/** Echo that reads the payload where it lies and answers an empty one. */
function sinkEcho(): testing.Echo$Server {
  let sum = 0
  return new testing.Echo$Server({
    ping() {},
    echo(p, r) {
      const b = p.getPayload().toUint8Array()
      sum = (sum + b[0]! + b[b.byteLength - 1]! + b.byteLength) | 0
      r.initPayload(0)
    },
    counter() {},
  })
}

export async function payload(runs = 7): Promise<void> {
  for (const [label, bytes, iterations] of SIZES) {
    const guest = await loopGuest(iterations, echoCall(bytes), true, bytes + 64 * 1024)
    const roundTrip = await measure([
      { name: 'zero-copy', fn: () => runOnce(guest, { transport: 'zero-copy', suspension: 'asyncify' }) },
      { name: 'copying', fn: () => runOnce(guest, { transport: 'copying', suspension: 'asyncify' }) },
    ], { iterations, runs })
    report({
      name: `transport.payload.${label}`, unit: 'ns/op', samples: roundTrip.get('zero-copy')!,
      baseline: { name: 'copying transport', samples: roundTrip.get('copying')! },
      params: { payloadBytes: bytes, iterations, call: 'Echo.echo round trip (server copies the blob into its results)' },
    })
    const oneWay = await measure([
      { name: 'zero-copy', fn: () => runOnce(guest, { transport: 'zero-copy', suspension: 'asyncify', server: sinkEcho() }) },
      { name: 'copying', fn: () => runOnce(guest, { transport: 'copying', suspension: 'asyncify', server: sinkEcho() }) },
    ], { iterations, runs })
    report({
      name: `transport.payload-in.${label}`, unit: 'ns/op', samples: oneWay.get('zero-copy')!,
      baseline: { name: 'copying transport', samples: oneWay.get('copying')! },
      params: { payloadBytes: bytes, iterations, call: 'Echo.echo, server reads the blob in place and answers empty' },
    })
  }
}
