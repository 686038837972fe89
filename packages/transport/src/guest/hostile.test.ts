// Hostile guests: each ends with its typed error (carrying its process id) while a second
// guest on the same host keeps going and completes all its calls.

import { Script, frames, type FrameRef } from '../bench/guests.js'
import { runScript } from '../../test/guests/helpers.js'
import { slowEcho } from '../../test/guests/servers.js'
import { testing } from '@ww/schema'
import { newEcho } from '@ww/schema/testing'

const PING = testing.Echo$Methods.ping

/** A well-behaved guest: bootstrap, then `n` pings on a server that answers asynchronously. */
function goodGuest(n: number): Script {
  const s = new Script()
  s.send(frames.bootstrap(0)).recv()
  const call = s.place(frames.call(1, { question: 0 }, PING))
  const fin = s.place(frames.finish(1))
  s.setCursor(s.logBase)
  const top = s.here
  s.send(call).recv().send(fin).setCursor(s.logBase).loop(n, top)
  return s
}

function words(...w: number[]): Uint8Array {
  return new Uint8Array(new Uint32Array(w).buffer)
}

const ping = (): Uint8Array => frames.call(1, { question: 0 }, PING)

type Case = [name: string, code: string, build: (s: Script) => void]
const cases: Case[] = [
  ['truncated frame', 'ERR_BAD_FRAME', (s) => { const f = s.place(ping()); s.sendRaw(f.ptr, f.len - 8) }],
  ['frame shorter than a segment table', 'ERR_BAD_FRAME', (s) => { const f = s.place(ping()); s.sendRaw(f.ptr, 4) }],
  ['out-of-bounds pointer', 'ERR_GUEST_MEMORY', (s) => s.sendRaw(0x7fff0000, 64)],
  ['negative pointer', 'ERR_GUEST_MEMORY', (s) => s.sendRaw(-16, 64)],
  ['range running past the end of memory', 'ERR_GUEST_MEMORY', (s) => { s.logBytes = 65536; const f: FrameRef = s.place(ping()); s.sendRaw(f.ptr, 1 << 20) }],
  ['recv buffer outside memory', 'ERR_GUEST_MEMORY', (s) => { s.send(frames.bootstrap(0)); s.setCursor(0x7ff00000).recv(4096) }],
  ['recv buffer outside memory, nothing queued yet', 'ERR_GUEST_MEMORY', (s) => { s.setCursor(0x7ff00000).recv(4096) }],
  ['huge segment table', 'ERR_LIMIT', (s) => s.send(words(1_000_000, 1, 0, 0))],
  ['segment sizes past the frame', 'ERR_BAD_FRAME', (s) => s.send(words(0, 100, 0, 0))],
  // A struct whose only pointer points at itself: infinite nesting.
  ['pointer cycle', 'ERR_LIMIT', (s) => s.send(words(0, 2, 0x00000000, 0x00010000, 0xfffffffc, 0x00010000))],
  // Far pointer → landing pad that is itself a far pointer → … (segment 1 words 0..3).
  ['far-pointer chain', 'ERR_BAD_FRAME', (s) => s.send(words(1, 1, 4, 0, 0x00000002, 0x00000001, 0x0000000a, 0x00000001, 0x00000012, 0x00000001, 0x0000001a, 0x00000001, 0x00000002, 0x00000001))],
  // Root struct pointer 1000 words past the end of its one-word segment.
  ['pointer past the end of the frame', 'ERR_BAD_FRAME', (s) => s.send(words(0, 1, 1000 << 2, 0x00010000))],
  ['RPC protocol violation (Finish of an unknown question)', 'ERR_RPC_PROTOCOL', (s) => s.send(frames.finish(42))],
  ['trap', 'ERR_GUEST_TRAP', (s) => { s.send(frames.bootstrap(0)).recv(); s.trap() }],
]

describe.each(['asyncify', 'auto'] as const)('hostile guests (%s)', (suspension) => {
  test.each(cases)('%s ends that guest with %s; the other completes its calls', async (_name, code, build) => {
    const bad = new Script()
    build(bad)
    bad.recv() // never reached
    const good = goodGuest(30)
    const server = slowEcho(1)
    const [b, g] = await Promise.all([
      runScript(bad, { bootstrap: newEcho(), processId: 'bad', suspension }),
      runScript(good, { bootstrap: server, processId: 'good', suspension }),
    ])
    expect(b.exit.ok).toBe(false)
    expect(b.exit.error?.code).toBe(code)
    expect(b.exit.error?.processId).toBe('bad')
    expect(b.exit.error?.reason.length).toBeGreaterThan(5)
    expect(g.exit.error).toBeUndefined()
    expect(server.pings).toBe(30)
    expect(g.exit.stats.framesOut).toBe(31)
    expect(g.exports.frames!()).toBe(31)
  })
})
