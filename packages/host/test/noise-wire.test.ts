// How host-to-host bytes meet noise and the socket (src/cluster/noise-wire.ts): one socket
// write per noise message, and noise's decoder run without stack traces while everything
// downstream of it (yamux, streams, RPC) keeps them.
import net from 'node:net'
import { libp2pCluster, waitForHost, type Libp2pClusterOptions } from '../src/index.js'
import { callLoudly, callQuietly, inQuietRegion } from '../src/cluster/stack-scope.js'

async function socketWritesPerPing(opts: Libp2pClusterOptions): Promise<number> {
  const a = await libp2pCluster(opts)
  const b = await libp2pCluster({ ...opts, bootstrap: a.addresses() })
  const proto = net.Socket.prototype as unknown as Record<'_write' | '_writev', (...x: unknown[]) => unknown>
  const [w, wv] = [proto._write, proto._writev]
  let flushes = 0
  try {
    await waitForHost(a.view, b.id, { timeoutMs: 10_000 })
    const link = await a.dialPeer(b.id)
    for (let i = 0; i < 50; i++) await link.ping()
    proto._write = function (this: unknown, ...x: unknown[]) { flushes++; return w.apply(this, x) }
    proto._writev = function (this: unknown, ...x: unknown[]) { flushes++; return wv.apply(this, x) }
    for (let i = 0; i < 200; i++) await link.peer.ping()
  } finally {
    proto._write = w
    proto._writev = wv
    await Promise.all([a.close(), b.close()])
  }
  return flushes / 200
}

test('a host-to-host null call is one socket write each way, as on plain TCP', async () => {
  const split = await socketWritesPerPing({ wire: { oneWritePerMessage: false } })
  const joined = await socketWritesPerPing({})
  expect(split).toBeGreaterThanOrEqual(3.5) // noise's 2-byte length and its ciphertext: one write each
  expect(joined).toBeLessThanOrEqual(2.5) // Call (+ Finish, window update) there, Return (+ window update) back
}, 30_000)

test('code downstream of noise keeps stack traces; the limit is unchanged afterwards', async () => {
  const limit = Error.stackTraceLimit
  const a = await libp2pCluster({})
  const b = await libp2pCluster({})
  const seen: Array<{ limit: number; frames: number; quiet: boolean }> = []
  try {
    await b.libp2p.handle('/ww/test/stack/1.0.0', (stream) => {
      stream.addEventListener('message', () => {
        const frames = (new Error('here').stack ?? '').split('\n').filter((l) => l.includes(' at ')).length
        seen.push({ limit: Error.stackTraceLimit, frames, quiet: inQuietRegion() })
        stream.send(new Uint8Array([1]))
      })
    })
    const stream = await a.libp2p.dialProtocol(b.libp2p.getMultiaddrs(), '/ww/test/stack/1.0.0')
    for (let i = 0; i < 3; i++) {
      const answered = new Promise((resolve) => stream.addEventListener('message', resolve, { once: true }))
      stream.send(new Uint8Array([i]))
      await answered
    }
    await stream.close()
  } finally {
    await Promise.all([a.close(), b.close()])
  }
  expect(seen).toHaveLength(3)
  for (const s of seen) expect(s).toEqual({ limit, frames: expect.any(Number), quiet: false })
  for (const s of seen) expect(s.frames).toBeGreaterThan(1)
  expect(Error.stackTraceLimit).toBe(limit)
}, 30_000)

describe('stack-scope', () => {
  test('quiet inside, loud inside quiet, restored after — also when a listener throws', () => {
    const limit = Error.stackTraceLimit
    const log: number[] = []
    callQuietly(() => {
      log.push(Error.stackTraceLimit)
      callLoudly(() => { log.push(Error.stackTraceLimit) }, undefined, null)
      log.push(Error.stackTraceLimit)
      expect(() => callLoudly(() => { throw new Error('downstream') }, undefined, null)).toThrow('downstream')
      log.push(Error.stackTraceLimit)
    }, undefined, null)
    expect(log).toEqual([0, limit, 0, 0])
    expect(Error.stackTraceLimit).toBe(limit)
    expect(() => callQuietly({ handleEvent() { throw new RangeError('decoder') } }, undefined, null)).toThrow(RangeError)
    expect(Error.stackTraceLimit).toBe(limit)
    expect(inQuietRegion()).toBe(false)
  })

  test('outside a quiet region callLoudly changes nothing', () => {
    const limit = Error.stackTraceLimit
    let inside = -1
    callLoudly((e: number) => { inside = Error.stackTraceLimit + e }, undefined, 0)
    expect(inside).toBe(limit)
  })
})
