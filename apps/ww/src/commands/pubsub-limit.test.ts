import { UsageError } from '../command.js'
import { parseFloodLimit } from './host.js'

describe('ww host --pubsub-limit', () => {
  test('off, or the limits named, in their units', () => {
    expect(parseFloodLimit('off')).toBe(false)
    expect(parseFloodLimit('messages=5000,frames=500')).toEqual({ messagesPerSecond: 5000, framesPerSecond: 500 })
    expect(parseFloodLimit('bytes=16MiB, burst=2s')).toEqual({ bytesPerSecond: 16 * 1024 * 1024, burstSeconds: 2 })
    expect(parseFloodLimit('bytes=1000,burst=500ms')).toEqual({ bytesPerSecond: 1000, burstSeconds: 0.5 })
  })

  test.each([
    ['messages', /cannot read 'messages'/],
    ['messages=fast', /messages must be a number above 0, not 'fast'/],
    ['bytes=3furlongs', /bytes must be a number above 0/],
    ['frames=-1', /frames must be a number above 0/],
    ['burst=0s', /burst must be more than 0/],
  ])('%s is refused', (text, why) => {
    expect(() => parseFloodLimit(text)).toThrow(UsageError)
    expect(() => parseFloodLimit(text)).toThrow(why)
  })
})
