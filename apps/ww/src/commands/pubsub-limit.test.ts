import { UsageError } from '../command.js'
import { parseFloodLimit } from './host.js'

describe('ww host --pubsub-limit', () => {
  test('off, or the limits named, in their units', () => {
    expect(parseFloodLimit('off')).toBe(false)
    expect(parseFloodLimit('messages=5000,frames=500')).toEqual({ messagesPerSecond: 5000, framesPerSecond: 500 })
    expect(parseFloodLimit('bytes=16MiB, burst=2s')).toEqual({ bytesPerSecond: 16 * 1024 * 1024, burstSeconds: 2 })
    expect(parseFloodLimit('bytes=1000,burst=500ms')).toEqual({ bytesPerSecond: 1000, burstSeconds: 0.5 })
  })

  test('the per-peer inbound budget: peer-rpcs a count, peer-bytes a size', () => {
    expect(parseFloodLimit('peer-rpcs=800,peer-bytes=64MiB')).toEqual({ peerRpcsPerSecond: 800, peerBytesPerSecond: 64 * 1024 * 1024 })
    expect(parseFloodLimit('frames=100, peer-rpcs=300')).toEqual({ framesPerSecond: 100, peerRpcsPerSecond: 300 })
    expect(parseFloodLimit('peer-bytes=4096')).toEqual({ peerBytesPerSecond: 4096 })
  })

  test.each([
    ['messages', /cannot read 'messages'/],
    ['messages=fast', /messages must be a number above 0, not 'fast'/],
    ['bytes=3furlongs', /bytes must be a number above 0/],
    ['frames=-1', /frames must be a number above 0/],
    ['burst=0s', /burst must be more than 0/],
    ['peer-rpcs=0', /peer-rpcs must be a number above 0, not '0'/],
    ['peer-rpcs=1.5k', /peer-rpcs must be a number above 0, not '1.5k'/],
    ['peer-bytes=lots', /peer-bytes must be a number above 0, not 'lots'/],
    ['peer-bytes=-1MiB', /peer-bytes must be a number above 0/],
    ['peer_rpcs=10', /cannot read 'peer_rpcs=10' \(the limits are messages, bytes, frames, burst, peer-rpcs, peer-bytes\)/],
  ])('%s is refused', (text, why) => {
    expect(() => parseFloodLimit(text)).toThrow(UsageError)
    expect(() => parseFloodLimit(text)).toThrow(why)
  })
})
