// copyPointer: what a forwarder copies between messages without their schema,
// capabilities included, and the bounds on what a peer's message can make it copy.
import { Client, getInterfaceClient, Message, Server, setInterfaceClient } from 'capnp-ts'
import { registry as capReg, testing } from '@ww/schema'
import { copyPointer } from './copy.js'

describe('copyPointer', () => {
  test('a pointer cycle (a struct whose pointer points at itself) ends in ERR_LIMIT, not a stack overflow', () => {
    // Word 0: root → struct at word 1 (0 data words, 1 pointer). Word 1: that pointer, offset -1 → itself.
    const words = new BigUint64Array([0x0001_0000_0000_0000n, 0x0001_0000_ffff_fffcn])
    const src = new Message(words.buffer, false, true).getRoot(testing.Echo_echo$Params)
    const dst = new Message().initRoot(testing.Echo_echo$Params)
    expect(() => copyPointer(src, dst, (c) => c)).toThrow(/ERR_LIMIT/)
  })

  test('shared targets cannot amplify a copy: 1,000 pointers to one 1 MiB blob (a 1 MiB message) end in ERR_LIMIT', () => {
    const N = 1000, BLOB = 1 << 20, B = 2 + N
    const listPtr = (from: number, to: number, size: bigint, count: number): bigint =>
      1n | (BigInt(((to - from - 1) << 2) >>> 0)) | (size << 32n) | (BigInt(count) << 35n)
    const words = new BigUint64Array(B + BLOB / 8)
    words[0] = 0x0001_0000_0000_0000n // root → struct at word 1, one pointer
    words[1] = listPtr(1, 2, 6n, N) // → N pointers at word 2
    for (let i = 0; i < N; i++) words[2 + i] = listPtr(2 + i, B, 2n, BLOB) // each → the same bytes at B
    const src = new Message(words.buffer, false, true).getRoot(testing.Echo_echo$Params)
    const dst = new Message().initRoot(testing.Echo_echo$Params)
    expect(() => copyPointer(src, dst, (c) => c)).toThrow(/ERR_LIMIT/)
  })

  test('structs, composite and text lists, data, nested structs and capabilities', () => {
    const svc = new testing.Echo.Server({ ping() {}, echo() {}, counter() {} })
    const src = new Message().initRoot(capReg.Registry_find$Results)
    const list = src.initProviders(2)
    for (let i = 0; i < 2; i++) {
      const p = list.get(i)
      p.setName(`svc-${i}`)
      if (i === 1) setInterfaceClient(1, svc, p)
      const ref = p.initProvider()
      ref.setHost(`host-${i}`)
      ref.setPid(BigInt(100 + i))
      const meta = p.initMeta(i + 1)
      for (let k = 0; k <= i; k++) meta.set(k, `k${k}=v${i}`)
      p.setExpiresInMs(1000 * (i + 1))
    }
    const seen: Array<Client | null> = []
    const dst = new Message().initRoot(capReg.Registry_find$Results)
    copyPointer(src, dst, (c) => { seen.push(c); return c })
    const out = new Message(dst.segment.message.toArrayBuffer(), false)
    out._capnp.capTable = dst.segment.message._capnp.capTable
    const got = out.getRoot(capReg.Registry_find$Results).getProviders()
    expect(got.getLength()).toBe(2)
    const read = (i: number): unknown => {
      const p = got.get(i)
      const m = p.getMeta()
      return [p.getName(), p.getProvider().getHost(), p.getProvider().getPid(), Array.from({ length: m.getLength() }, (_, k) => m.get(k)), p.getExpiresInMs(), p.hasService()]
    }
    expect(read(0)).toEqual(['svc-0', 'host-0', 100n, ['k0=v0'], 1000, false])
    expect(read(1)).toEqual(['svc-1', 'host-1', 101n, ['k0=v1', 'k1=v1'], 2000, true])
    expect(seen).toHaveLength(1)
    expect((getInterfaceClient(1, got.get(1))._target as { server?: Server }).server).toBe(svc)
  })

  test('a null pointer copies as null over what was there', () => {
    const src = new Message().initRoot(testing.Echo_echo$Params)
    const dst = new Message().initRoot(testing.Echo_echo$Params)
    dst.setPayload(new Uint8Array([1, 2, 3]))
    copyPointer(src.segment.message.getRoot(testing.Echo_echo$Params), dst, (c) => c)
    expect(dst.hasPayload()).toBe(false)
  })
})
