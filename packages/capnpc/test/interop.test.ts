// Interop with the reference implementation: messages the generated code writes decode
// with `capnp decode`, and messages `capnp encode` writes read correctly. Skipped, with a
// note, where the capnp tool is not installed.

import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Message } from 'capnp-ts'
import * as F from './fixtures/gen/features.js'
import * as I from './fixtures/gen/imported.js'

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))

function capnpAvailable(): boolean {
  try {
    execFileSync('capnp', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
const HAVE_CAPNP = capnpAvailable()
if (!HAVE_CAPNP) console.warn('interop.test.ts: `capnp` is not installed; skipping capnp encode/decode interop')
const maybe = HAVE_CAPNP ? test : test.skip

function decode(type: string, bytes: ArrayBuffer): string {
  return execFileSync('capnp', ['decode', '--short', 'features.capnp', type], { cwd: FIXTURES, env: { ...process.env, PWD: FIXTURES }, input: new Uint8Array(bytes) }).toString().trim()
}
function encode(type: string, text: string): Uint8Array {
  return new Uint8Array(execFileSync('capnp', ['encode', 'features.capnp', type], { cwd: FIXTURES, env: { ...process.env, PWD: FIXTURES }, input: text }))
}

describe('capnp interop', () => {
  maybe('capnp decode reads primitives written by generated code', () => {
    const m = new Message()
    const s = m.initRoot(F.Primitives)
    s.setB1(true); s.setI8(-3); s.setI64(-(2n ** 40n)); s.setU16(65535); s.setU64(2n ** 64n - 1n)
    s.setF32(0.5); s.setF64(-2.5); s.setText('hi'); s.setData(new Uint8Array([1, 2])); s.setMood(F.Mood.SLEEPY_HEAD); s.setB2(true)
    expect(decode('Primitives', m.toArrayBuffer())).toBe(
      '(v = void, b0 = false, b1 = true, i8 = -3, i16 = 0, i32 = 0, i64 = -1099511627776, u8 = 0, u16 = 65535, u32 = 0, ' +
      'u64 = 18446744073709551615, f32 = 0.5, f64 = -2.5, text = "hi", data = "\\001\\002", b2 = true, mood = sleepyHead)')
  })

  maybe('capnp decode sees defaults where generated code wrote nothing, and values where it did', () => {
    const m = new Message()
    const s = m.initRoot(F.Defaults)
    s.setI32(-5); s.setU32(1); s.setB(false)
    const out = decode('Defaults', m.toArrayBuffer())
    expect(out).toContain('b = false, i8 = -7, i16 = -1234, i32 = -5, i64 = -9000000000, u8 = 200, u16 = 60000, u32 = 1,')
    expect(out).toContain('mood = sad')
  })

  maybe('capnp decode reads unions, groups and lists', () => {
    const m = new Message()
    const s = m.initRoot(F.Shape)
    s.setName('r')
    const rect = s.initRect(); rect.setWidth(2); rect.setHeight(3)
    s.getStyle().setColor(I.Color.BLUE)
    s.getStyle().getExtra().setStroke(7)
    expect(decode('Shape', m.toArrayBuffer())).toBe(
      '(name = "r", rect = (width = 2, height = 3), style = (color = blue, filled = false, extra = (stroke = 7)))')
    const lm = new Message()
    const l = lm.initRoot(F.Lists)
    const t = l.initTexts(2); t.set(0, 'a'); t.set(1, 'b')
    l.initPoints(1).get(0).setX(4)
    const b = l.initBools(3); b.set(2, true)
    expect(decode('Lists', lm.toArrayBuffer())).toBe('(bools = [false, false, true], texts = ["a", "b"], points = [(x = 4, y = 0)])')
  })

  maybe('messages from capnp encode read correctly', () => {
    const bytes = encode('Shape', '(name = "enc", label = "lbl", style = (color = green, filled = true, extra = (note = "n")))')
    const s = new Message(bytes, false).getRoot(F.Shape)
    expect(s.getName()).toBe('enc')
    expect(s.which()).toBe(F.Shape_Which.LABEL)
    expect(s.getLabel()).toBe('lbl')
    expect(s.getStyle().getColor()).toBe(I.Color.GREEN)
    expect(s.getStyle().getFilled()).toBe(true)
    expect(s.getStyle().getExtra().getNote()).toBe('n')

    const lists = new Message(encode('Lists', '(i64s = [-1, 5], nested = [[1], [2, 3]], moods = [sad, happy], datas = ["ab"])'), false).getRoot(F.Lists)
    expect(lists.getI64s().toArray()).toEqual([-1n, 5n])
    expect(lists.getNested().map((l) => l.toArray())).toEqual([[1], [2, 3]])
    expect(lists.getMoods().toArray()).toEqual([F.Mood.SAD, F.Mood.HAPPY])
    expect(new TextDecoder().decode(lists.getDatas().get(0).toUint8Array())).toBe('ab')

    const d = new Message(encode('Defaults', '(i32 = 7, text = "set")'), false).getRoot(F.Defaults)
    expect([d.getI32(), d.getI16(), d.getText(), d.getPoint().getX()]).toEqual([7, -1234, 'set', 3])
  })
})
