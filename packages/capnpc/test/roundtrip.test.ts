// Generated structs write values, serialize, and read them back from the bytes.

import { Message } from 'capnp-ts'
import type { Struct, StructCtor } from 'capnp-ts'
import * as F from './fixtures/gen/features.js'
import * as I from './fixtures/gen/imported.js'

/** Build a root with `fill`, serialize it, and read it back as a fresh message. */
function roundTrip<T extends Struct>(C: StructCtor<T>, fill: (s: T) => void): T {
  const m = new Message()
  fill(m.initRoot(C))
  return new Message(m.toArrayBuffer(), false).getRoot(C)
}

describe('primitives', () => {
  test('every primitive type, including bools at bit offsets', () => {
    const r = roundTrip(F.Primitives, (s) => {
      s.setB0(true); s.setB1(false); s.setB2(true)
      s.setI8(-128); s.setI16(-32768); s.setI32(-2147483648); s.setI64(-(2n ** 63n))
      s.setU8(255); s.setU16(65535); s.setU32(4294967295); s.setU64(2n ** 64n - 1n)
      s.setF32(1.5); s.setF64(-1e300)
      s.setText('héllo'); s.setData(new Uint8Array([0, 1, 255]))
      s.setMood(F.Mood.SLEEPY_HEAD)
    })
    expect([r.getB0(), r.getB1(), r.getB2()]).toEqual([true, false, true])
    expect([r.getI8(), r.getI16(), r.getI32(), r.getI64()]).toEqual([-128, -32768, -2147483648, -(2n ** 63n)])
    expect([r.getU8(), r.getU16(), r.getU32(), r.getU64()]).toEqual([255, 65535, 4294967295, 2n ** 64n - 1n])
    expect([r.getF32(), r.getF64()]).toEqual([1.5, -1e300])
    expect(r.getText()).toBe('héllo')
    expect(Array.from(r.getData().toUint8Array())).toEqual([0, 1, 255])
    expect(r.getMood()).toBe(F.Mood.SLEEPY_HEAD)
    expect(r.hasText()).toBe(true)
  })

  test('the three bools share one byte without clobbering each other', () => {
    const r = roundTrip(F.Primitives, (s) => { s.setB1(true); s.setB0(true); s.setB0(false) })
    expect([r.getB0(), r.getB1(), r.getB2()]).toEqual([false, true, false])
  })

  test('enums are TypeScript enums with UPPER_SNAKE members', () => {
    expect(F.Mood.HAPPY).toBe(0)
    expect(F.Mood[2]).toBe('SLEEPY_HEAD')
    expect(F.Outer_Inner_Kind.FANCY).toBe(1)
  })
})

describe('defaults', () => {
  test('an empty struct reads as its schema defaults', () => {
    const r = roundTrip(F.Defaults, () => {})
    expect(r.getB()).toBe(true)
    expect([r.getI8(), r.getI16(), r.getI32(), r.getI64()]).toEqual([-7, -1234, 123456, -9000000000n])
    expect([r.getU8(), r.getU16(), r.getU32(), r.getU64()]).toEqual([200, 60000, 4000000000, 18000000000000000000n])
    expect([r.getF32(), r.getF64()]).toEqual([1.5, -2.25])
    expect(r.getMood()).toBe(F.Mood.SAD)
    expect(r.getText()).toBe('default text')
    expect(Array.from(r.getData().toUint8Array())).toEqual([0xca, 0xfe])
    expect([r.getPoint().getX(), r.getPoint().getY()]).toEqual([3, 4])
    expect(r.getInts().toArray()).toEqual([1, 2, 3])
  })

  test('explicit values, including zero and false, survive the XOR encoding', () => {
    const r = roundTrip(F.Defaults, (s) => {
      s.setB(false); s.setI8(0); s.setI64(0n); s.setU64(1n); s.setF32(0); s.setF64(3.5); s.setMood(F.Mood.HAPPY)
    })
    expect([r.getB(), r.getI8(), r.getI64(), r.getU64(), r.getF32(), r.getF64(), r.getMood()])
      .toEqual([false, 0, 0n, 1n, 0, 3.5, F.Mood.HAPPY])
    expect(r.getI16()).toBe(-1234) // untouched fields keep their defaults
    const wide = roundTrip(F.Defaults, (s) => { s.setI32(-5); s.setU32(4294967295) })
    expect([wide.getI32(), wide.getU32()]).toEqual([-5, 4294967295])
  })

  test('on the wire, a default value is stored as zero (XOR with the default)', () => {
    const m = new Message()
    const s = m.initRoot(F.Defaults)
    s.setI32(123456)
    s.setB(true)
    const again = new Message(m.toArrayBuffer(), false).getRoot(F.Primitives) // same data layout offsets differ; read raw words
    expect(again.getI32()).toBe(0) // Primitives.i32 is at byte 4, as Defaults.i32
    expect(again.getB0()).toBe(false) // bit 0, as Defaults.b
  })
})

describe('lists', () => {
  test('lists of primitives, bools, text, data, structs, enums, lists and voids', () => {
    const r = roundTrip(F.Lists, (s) => {
      const u8 = s.initU8s(3); u8.set(0, 1); u8.set(2, 255)
      const i64 = s.initI64s(2); i64.set(0, -1n); i64.set(1, 2n ** 62n)
      s.initF64s(1).set(0, 0.5)
      const b = s.initBools(9); b.set(0, true); b.set(8, true)
      const t = s.initTexts(2); t.set(0, 'a'); t.set(1, 'bc')
      s.initDatas(1).set(0, dataOf(s, [7, 8]))
      const pts = s.initPoints(2); pts.get(1).setX(5); pts.get(1).setY(-6)
      const moods = s.initMoods(2); moods.set(1, F.Mood.SAD)
      const nested = s.initNested(2); nested.set(1, int32List(s, [4, 5, 6]))
      s.initVoids(4)
      s.initColors(1).set(0, I.Color.BLUE)
    })
    expect(r.getU8s().toArray()).toEqual([1, 0, 255])
    expect(r.getI64s().toArray()).toEqual([-1n, 2n ** 62n])
    expect(r.getF64s().toArray()).toEqual([0.5])
    expect(r.getBools().toArray()).toEqual([true, false, false, false, false, false, false, false, true])
    expect(r.getTexts().toArray()).toEqual(['a', 'bc'])
    expect(Array.from(r.getDatas().get(0).toUint8Array())).toEqual([7, 8])
    expect(r.getPoints().map((p) => [p.getX(), p.getY()])).toEqual([[0, 0], [5, -6]])
    expect(r.getMoods().toArray()).toEqual([F.Mood.HAPPY, F.Mood.SAD])
    expect(r.getNested().get(0).getLength()).toBe(0)
    expect(r.getNested().get(1).toArray()).toEqual([4, 5, 6])
    expect(r.getVoids().getLength()).toBe(4)
    expect(r.getColors().toArray()).toEqual([I.Color.BLUE])
    expect(r.hasU8s() && !roundTrip(F.Lists, () => {}).hasU8s()).toBe(true)
  })
})

function dataOf(owner: Struct, bytes: number[]): import('capnp-ts').Data {
  // A Data value must live in the same message: build it in a scratch struct field.
  const tmp = new Message().initRoot(F.Primitives)
  void owner
  tmp.setData(new Uint8Array(bytes))
  return tmp.getData()
}
function int32List(owner: Struct, values: number[]): import('capnp-ts').List<number> {
  void owner
  const tmp = new Message().initRoot(F.Defaults)
  const l = tmp.initInts(values.length)
  values.forEach((v, i) => l.set(i, v))
  return l
}

describe('nested structs, AnyPointer, generics', () => {
  test('nested struct, list of nested structs, imported struct', () => {
    const r = roundTrip(F.Outer, (s) => {
      s.initInner().setLabel('in')
      s.getInner().setKind(F.Outer_Inner_Kind.FANCY)
      const l = s.initInners(2); l.get(0).setLabel('x')
      s.initPoint().setY(9)
    })
    expect(r.getInner().getLabel()).toBe('in')
    expect(r.getInner().getKind()).toBe(F.Outer_Inner_Kind.FANCY)
    expect(r.getInners().map((i) => i.getLabel())).toEqual(['x', ''])
    expect(r.getPoint().getY()).toBe(9)
    expect(r.hasAny()).toBe(false)
  })

  test('AnyPointer holds a struct of any type', () => {
    const r = roundTrip(F.Outer, (s) => { s.initAnyAs(I.Point).setX(77) })
    expect(r.hasAny()).toBe(true)
    expect(r.getAnyAs(I.Point).getX()).toBe(77)
  })

  test('a generic parameter is an AnyPointer', () => {
    const r = roundTrip(F.Holder, (s) => {
      const box = s.initBox()
      box.setCount(2)
      box.initValueAs(I.Point).setY(1)
    })
    expect(r.getBox().getCount()).toBe(2)
    expect(r.getBox().getValueAs(I.Point).getY()).toBe(1)
  })

  test('setX copies a struct from another message', () => {
    const src = new Message().initRoot(I.Point)
    src.setX(11)
    const r = roundTrip(F.Outer, (s) => s.setPoint(src))
    expect(r.getPoint().getX()).toBe(11)
  })
})

describe('unions and groups', () => {
  test('which(), isX(), getX() and setX() per member', () => {
    const circle = roundTrip(F.Shape, (s) => { s.setName('c'); s.setCircle(2) })
    expect(circle.which()).toBe(F.Shape_Which.CIRCLE)
    expect(circle.isCircle()).toBe(true)
    expect(circle.getCircle()).toBe(2)
    expect(circle.getName()).toBe('c')
    expect(() => circle.getSquare()).toThrow()

    const label = roundTrip(F.Shape, (s) => s.setLabel('L'))
    expect(label.which()).toBe(F.Shape_Which.LABEL)
    expect(label.getLabel()).toBe('L')

    const empty = roundTrip(F.Shape, (s) => { s.setCircle(1); s.setEmpty() })
    expect(empty.which()).toBe(F.Shape_Which.EMPTY)

    const origin = roundTrip(F.Shape, (s) => s.initOrigin().setX(-3))
    expect(origin.isOrigin() && origin.getOrigin().getX() === -3).toBe(true)
  })

  test('a group in a union, and a group holding a named union', () => {
    const r = roundTrip(F.Shape, (s) => {
      const rect = s.initRect(); rect.setWidth(2); rect.setHeight(3)
      const style = s.getStyle(); style.setColor(I.Color.GREEN); style.setFilled(true)
      style.getExtra().setNote('n')
    })
    expect(r.which()).toBe(F.Shape_Which.RECT)
    expect([r.getRect().getWidth(), r.getRect().getHeight()]).toEqual([2, 3])
    expect(r.getStyle().getColor()).toBe(I.Color.GREEN)
    expect(r.getStyle().getFilled()).toBe(true)
    expect(r.getStyle().getExtra().which()).toBe(F.Shape_style_extra_Which.NOTE)
    expect(r.getStyle().getExtra().getNote()).toBe('n')
    const s2 = roundTrip(F.Shape, (s) => s.getStyle().getExtra().setStroke(9))
    expect(s2.getStyle().getExtra().isStroke() && s2.getStyle().getExtra().getStroke() === 9).toBe(true)
  })
})

describe('constants', () => {
  test('primitive, text, struct and list constants', () => {
    expect(F.answer).toBe(42)
    expect(F.greeting).toBe('hello')
    expect(F.mask).toBe(0xfedcba9876543210n)
    expect(F.ratio).toBe(0.25)
    expect([F.origin.getX(), F.origin.getY()]).toEqual([1, -2])
    expect(F.primes.toArray()).toEqual([2, 3, 5, 7])
  })
})
