import { BytecodeCache, cidOf } from './bytecode-cache.js'

describe('bytecode cache', () => {
  test('content-addressed by BLAKE3 (known vector), put/get/has', () => {
    // BLAKE3 of the empty input, from the reference test vectors.
    expect(cidOf(new Uint8Array())).toBe('blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262')
    const c = new BytecodeCache()
    const mod = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])
    const cid = c.put(mod)
    expect(c.put(mod.slice())).toBe(cid)
    expect(c.has(cid)).toBe(true)
    mod[0] = 9 // custody: the cache kept its own copy
    expect(c.get(cid)[0]).toBe(0)
    expect(c.stats()).toMatchObject({ entries: 1, bytes: 8, hits: 1 })
  })

  test('typed errors: unknown cid, malformed cid, too large', () => {
    const c = new BytecodeCache({ maxBytes: 16 })
    expect(() => c.get(cidOf(new Uint8Array([1])))).toThrow(expect.objectContaining({ code: 'ERR_NOT_FOUND' }))
    expect(() => c.get('sha256:00')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => c.put(new Uint8Array(17))).toThrow(expect.objectContaining({ code: 'ERR_TOO_LARGE' }))
  })

  test('bounded by entries and bytes, least recently used first', () => {
    const c = new BytecodeCache({ maxEntries: 2, maxBytes: 100 })
    const a = c.put(new Uint8Array([1]))
    const b = c.put(new Uint8Array([2]))
    c.get(a) // a is now more recent than b
    const d = c.put(new Uint8Array([3]))
    expect([c.has(a), c.has(b), c.has(d)]).toEqual([true, false, true])
    const big = c.put(new Uint8Array(100).fill(4))
    expect(c.stats()).toMatchObject({ entries: 1, bytes: 100, evictions: 3 })
    expect(c.has(big)).toBe(true)
  })
})
