// AssemblyScript side of test/as-stubs.test.ts: builds each scenario with the generated
// builders (`build`) and checks each scenario, as written by capnp-ts, with the generated
// readers (`check`). The same values are in the test's TypeScript half.
// Compiled next to the generated features.ts / imported.ts / kv.ts and an sdk.ts that
// re-exports the guest SDK.

import * as F from "./features";
import * as I from "./imported";
import * as K from "./kv";
import * as E from "./edge";
import { MessageBuilder, MessageReader, StructReader, CapContext, Cap, Session, NoCaps, IncomingCall } from "./sdk";

let lastLength: i32 = 0;
let firstFail: i32 = 0;

/** Record check `id` as failed unless `cond` (the first failure is reported). */
function ok(id: i32, cond: bool): void {
  if (!cond && firstFail == 0) firstFail = id;
}

function bytes(a: StaticArray<u8>): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i];
  return out;
}

function sameBytes(a: Uint8Array, b: StaticArray<u8>): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
  return true;
}

export function alloc(n: u32): usize { return heap.alloc(n); }
export function frameLength(): i32 { return lastLength; }

const NONE = new NoCaps();

export function build(which: i32): usize {
  const mb = new MessageBuilder();
  if (which == 0) {
    const s = new F.Primitives.Builder(mb.initRoot(F.Primitives.DATA_WORDS, F.Primitives.POINTER_COUNT), NONE);
    s.setB0(true); s.setB1(false); s.setB2(true);
    s.setI8(-128); s.setI16(-32768); s.setI32(-2147483648); s.setI64(i64.MIN_VALUE);
    s.setU8(255); s.setU16(65535); s.setU32(4294967295); s.setU64(u64.MAX_VALUE);
    s.setF32(1.5); s.setF64(-1e300);
    s.setText("héllo ✓"); s.setData(bytes([0, 1, 255])); s.setMood(F.Mood.SLEEPY_HEAD);
  } else if (which == 1) {
    mb.initRoot(F.Defaults.DATA_WORDS, F.Defaults.POINTER_COUNT);
  } else if (which == 2) {
    const s = new F.Defaults.Builder(mb.initRoot(F.Defaults.DATA_WORDS, F.Defaults.POINTER_COUNT), NONE);
    s.setB(false); s.setI8(0); s.setI16(7); s.setI32(0); s.setI64(1); s.setU8(0); s.setU16(1); s.setU32(0);
    s.setU64(0); s.setF32(0); s.setF64(0.5); s.setMood(F.Mood.HAPPY); s.setText(""); s.setData(new Uint8Array(0));
    const p = s.initPoint(); p.setX(-1);
    s.initInts(0);
  } else if (which == 3) {
    const s = new F.Lists.Builder(mb.initRoot(F.Lists.DATA_WORDS, F.Lists.POINTER_COUNT), NONE);
    const u8s = s.initU8s(3); u8s.set(0, 0); u8s.set(1, 7); u8s.set(2, 255);
    const i64s = s.initI64s(2); i64s.set(0, -1); i64s.set(1, 1 << 62);
    const f64s = s.initF64s(2); f64s.set(0, 0.5); f64s.set(1, -3);
    const bools = s.initBools(9); bools.set(0, true); bools.set(2, true); bools.set(3, true); bools.set(8, true);
    const texts = s.initTexts(3); texts.set(0, "a"); texts.set(1, ""); texts.set(2, "ü");
    const datas = s.initDatas(2); datas.set(0, bytes([1, 2]));
    const points = s.initPoints(2);
    points.get(0).setX(1); points.get(0).setY(2); points.get(1).setX(-3); points.get(1).setY(4);
    const moods = s.initMoods(3); moods.set(0, F.Mood.SAD); moods.set(1, F.Mood.HAPPY); moods.set(2, F.Mood.SLEEPY_HEAD);
    const nested = s.initNested(3);
    const n0 = nested.init(0, 3); n0.set(0, 1); n0.set(1, 2); n0.set(2, 3);
    nested.init(1, 0);
    nested.init(2, 1).set(0, -5);
    s.initVoids(4);
    const colors = s.initColors(2); colors.set(0, I.Color.BLUE); colors.set(1, I.Color.RED);
  } else if (which == 4) {
    const s = new F.Outer.Builder(mb.initRoot(F.Outer.DATA_WORDS, F.Outer.POINTER_COUNT), NONE);
    const inner = s.initInner(); inner.setLabel("in"); inner.setKind(F.Outer_Inner_Kind.FANCY);
    const inners = s.initInners(2);
    inners.get(0).setLabel("a"); inners.get(1).setLabel("b"); inners.get(1).setKind(F.Outer_Inner_Kind.FANCY);
    const any = new I.Point.Builder(s.initAnyStruct(I.Point.DATA_WORDS, I.Point.POINTER_COUNT), NONE);
    any.setX(7); any.setY(8);
    const p = s.initPoint(); p.setX(5); p.setY(-6);
  } else if (which >= 5 && which <= 9) {
    const s = new F.Shape.Builder(mb.initRoot(F.Shape.DATA_WORDS, F.Shape.POINTER_COUNT), NONE);
    const style = s.getStyle();
    if (which == 5) {
      s.setName("c"); s.setCircle(2.5);
      style.setColor(I.Color.GREEN); style.setFilled(true); style.getExtra().setStroke(3);
    } else if (which == 6) {
      // A circle first: selecting rect must zero the words the two share.
      s.setName("r"); s.setCircle(9.75);
      const rect = s.initRect(); rect.setHeight(2);
      style.getExtra().setNote("n");
    } else if (which == 7) {
      s.setLabel("lbl"); style.getExtra().setNone();
    } else if (which == 8) {
      const o = s.initOrigin(); o.setX(1); o.setY(-1);
    } else {
      s.setCircle(1); s.setEmpty();
    }
  } else if (which == 10) {
    const s = new F.Holder.Builder(mb.initRoot(F.Holder.DATA_WORDS, F.Holder.POINTER_COUNT), NONE);
    const box = s.initBox(); box.setCount(9); box.setValueText("boxed");
  } else if (which == 11) {
    const s = new K.Kv_get$Results.Builder(mb.initRoot(K.Kv_get$Results.DATA_WORDS, K.Kv_get$Results.POINTER_COUNT), NONE);
    s.setFound(true); s.setValue(bytes([0x76]));
  } else {
    abort("no such scenario");
  }
  const at = mb.finish();
  lastLength = mb.frameLength;
  return at;
}

function root(ptr: usize, len: u32): StructReader {
  const m = new MessageReader(ptr, len);
  return m.root();
}

export function check(which: i32, ptr: usize, len: u32): i32 {
  firstFail = 0;
  const r = root(ptr, len);
  if (which == 0) {
    const s = new F.Primitives.Reader(r, NONE);
    ok(1, s.getB0() && !s.getB1() && s.getB2());
    ok(2, s.getI8() == -128 && s.getI16() == -32768 && s.getI32() == -2147483648 && s.getI64() == i64.MIN_VALUE);
    ok(3, s.getU8() == 255 && s.getU16() == 65535 && s.getU32() == 4294967295 && s.getU64() == u64.MAX_VALUE);
    ok(4, s.getF32() == 1.5 && s.getF64() == -1e300);
    ok(5, s.getText() == "héllo ✓" && s.hasText());
    ok(6, sameBytes(s.getData(), [0, 1, 255]));
    ok(7, s.getMood() == F.Mood.SLEEPY_HEAD);
  } else if (which == 1) {
    const s = new F.Defaults.Reader(r, NONE);
    ok(1, s.getB() == true);
    ok(2, s.getI8() == -7 && s.getI16() == -1234 && s.getI32() == 123456 && s.getI64() == -9000000000);
    ok(3, s.getU8() == 200 && s.getU16() == 60000 && s.getU32() == 4000000000 && s.getU64() == 18000000000000000000);
    ok(4, s.getF32() == 1.5 && s.getF64() == -2.25);
    ok(5, s.getMood() == F.Mood.SAD);
    ok(6, s.getText() == "default text" && !s.hasText());
    ok(7, sameBytes(s.getData(), [0xca, 0xfe]));
    ok(8, s.getPoint().getX() == 3 && s.getPoint().getY() == 4 && !s.hasPoint());
    const ints = s.getInts();
    ok(9, ints.length == 3 && ints.get(0) == 1 && ints.get(1) == 2 && ints.get(2) == 3);
  } else if (which == 2) {
    const s = new F.Defaults.Reader(r, NONE);
    ok(1, s.getB() == false);
    ok(2, s.getI8() == 0 && s.getI16() == 7 && s.getI32() == 0 && s.getI64() == 1);
    ok(3, s.getU8() == 0 && s.getU16() == 1 && s.getU32() == 0 && s.getU64() == 0);
    ok(4, s.getF32() == 0 && s.getF64() == 0.5);
    ok(5, s.getMood() == F.Mood.HAPPY);
    ok(6, s.getText() == "" && s.hasText());
    ok(7, s.getData().length == 0 && s.hasData());
    ok(8, s.getPoint().getX() == -1 && s.getPoint().getY() == 0);
    ok(9, s.getInts().length == 0 && s.hasInts());
  } else if (which == 3) {
    const s = new F.Lists.Reader(r, NONE);
    const u8s = s.getU8s();
    ok(1, u8s.length == 3 && u8s.get(0) == 0 && u8s.get(1) == 7 && u8s.get(2) == 255);
    const i64s = s.getI64s();
    ok(2, i64s.length == 2 && i64s.get(0) == -1 && i64s.get(1) == 1 << 62);
    const f64s = s.getF64s();
    ok(3, f64s.length == 2 && f64s.get(0) == 0.5 && f64s.get(1) == -3);
    const bools = s.getBools().toArray();
    ok(4, bools.length == 9 && bools[0] && !bools[1] && bools[2] && bools[3] && !bools[4] && !bools[7] && bools[8]);
    const texts = s.getTexts();
    ok(5, texts.length == 3 && texts.get(0) == "a" && texts.get(1) == "" && texts.get(2) == "ü");
    const datas = s.getDatas();
    ok(6, datas.length == 2 && sameBytes(datas.get(0), [1, 2]) && datas.get(1).length == 0);
    const points = s.getPoints();
    ok(7, points.length == 2 && points.get(0).getX() == 1 && points.get(0).getY() == 2 && points.get(1).getX() == -3 && points.get(1).getY() == 4);
    const moods = s.getMoods();
    ok(8, moods.length == 3 && moods.get(0) == F.Mood.SAD && moods.get(1) == F.Mood.HAPPY && moods.get(2) == F.Mood.SLEEPY_HEAD);
    const nested = s.getNested();
    ok(9, nested.length == 3 && nested.get(0).length == 3 && nested.get(0).get(2) == 3 && nested.get(1).length == 0 && nested.get(2).get(0) == -5);
    ok(10, s.getVoids().length == 4);
    const colors = s.getColors();
    ok(11, colors.length == 2 && colors.get(0) == I.Color.BLUE && colors.get(1) == I.Color.RED);
  } else if (which == 4) {
    const s = new F.Outer.Reader(r, NONE);
    ok(1, s.getInner().getLabel() == "in" && s.getInner().getKind() == F.Outer_Inner_Kind.FANCY);
    const inners = s.getInners();
    ok(2, inners.length == 2 && inners.get(0).getLabel() == "a" && inners.get(0).getKind() == F.Outer_Inner_Kind.PLAIN
      && inners.get(1).getLabel() == "b" && inners.get(1).getKind() == F.Outer_Inner_Kind.FANCY);
    const any = new I.Point.Reader(s.getAnyStruct(), NONE);
    ok(3, s.hasAny() && any.getX() == 7 && any.getY() == 8);
    ok(4, s.getPoint().getX() == 5 && s.getPoint().getY() == -6);
  } else if (which >= 5 && which <= 9) {
    const s = new F.Shape.Reader(r, NONE);
    const style = s.getStyle();
    const extra = style.getExtra();
    if (which == 5) {
      ok(1, s.getName() == "c" && s.which() == F.Shape.W_circle && s.isCircle() && s.getCircle() == 2.5);
      ok(2, s.getSquare() == 0 && !s.isSquare()); // an inactive member reads as its default
      ok(3, style.getColor() == I.Color.GREEN && style.getFilled());
      ok(4, extra.isStroke() && extra.getStroke() == 3 && extra.which() == F.Shape.W_style_extra_stroke);
    } else if (which == 6) {
      ok(1, s.getName() == "r" && s.isRect() && !s.isCircle());
      ok(2, s.getRect().getWidth() == 0 && s.getRect().getHeight() == 2);
      ok(3, extra.isNote() && extra.getNote() == "n" && extra.getStroke() == 0);
    } else if (which == 7) {
      ok(1, s.isLabel() && s.getLabel() == "lbl" && s.getName() == "");
      ok(2, extra.isNone() && !extra.isNote() && extra.getNote() == "");
    } else if (which == 8) {
      ok(1, s.isOrigin() && s.getOrigin().getX() == 1 && s.getOrigin().getY() == -1);
    } else {
      ok(1, s.isEmpty() && s.which() == F.Shape.W_empty);
    }
  } else if (which == 10) {
    const s = new F.Holder.Reader(r, NONE);
    ok(1, s.hasBox() && s.getBox().getCount() == 9 && s.getBox().getValueText() == "boxed");
    ok(2, !s.hasNamed() && !s.hasEcho());
  } else if (which == 11) {
    const s = new K.Kv_get$Results.Reader(r, NONE);
    ok(1, s.getFound() && sameBytes(s.getValue(), [0x76]));
  } else {
    abort("no such scenario");
  }
  return firstFail;
}

/** A cap table of our own: capability fields and list elements go in and come back out. */
class Table extends CapContext {
  caps: Array<Cap> = new Array<Cap>();
  cap(index: i32): Cap { return this.caps[index]; }
  addCap(cap: Cap): i32 { this.caps.push(cap); return this.caps.length - 1; }
}

/** Capability fields and lists through a CapContext; 0 when every check holds. */
export function checkCaps(): i32 {
  firstFail = 0;
  const session = new Session();
  const a = new Cap(session);
  const b = new Cap(session);
  const t = new Table();
  const mb = new MessageBuilder();
  const h = new F.Holder.Builder(mb.initRoot(F.Holder.DATA_WORDS, F.Holder.POINTER_COUNT), t);
  h.setEcho(new F.EchoClient(a));
  h.setNamedCap(b);
  const ptr = mb.finish();
  const r = new F.Holder.Reader(root(ptr, mb.frameLength), t);
  ok(1, t.caps.length == 2 && r.getEcho().cap == a && r.getNamed().cap == b);
  ok(2, r.hasEcho() && r.hasNamed());
  // A results struct of an interface method: the generated reader types it by its interface.
  const mb2 = new MessageBuilder();
  const sub = new K.Kv_sub$Results.Builder(mb2.initRoot(K.Kv_sub$Results.DATA_WORDS, K.Kv_sub$Results.POINTER_COUNT), t);
  sub.setKv(new K.KvClient(b));
  const subR = new K.Kv_sub$Results.Reader(root(mb2.finish(), mb2.frameLength), t);
  ok(3, subR.getKv().cap == b && t.caps.length == 3);
  return firstFail;
}

// Compiled, not run here: the client and server surface of the generated stubs (the
// session side is tested by the guest SDK's own tests), so a stub that does not
// type-check against the SDK fails this test.
export function surface(kv: K.KvClient, echo: F.LoudEchoClient, call: IncomingCall): i32 {
  const put = kv.sub("a/").kv().sub("b/").kv().put("k", new Uint8Array(1));
  if (!put.wait()) return 1;
  const req = kv.getRequest();
  req.params.setKey("k");
  const got = req.send();
  const keys = kv.keys();
  if (!got.wait() || !keys.wait()) return 2;
  let v = <i32>put.results().getVersion() + got.results().getValue().length + keys.results().getKeys().length;
  put.dispose(); got.dispose(); keys.dispose();
  // Inherited methods (Echo's, Imp.Named's) on a LoudEcho, pipelining through a struct result.
  const total = echo.counter(5).counter().add(1);
  const shape = echo.shapeRequest();
  shape.params.initShape().setCircle(1);
  const h = echo.holder();
  v += echo.name().wait() ? 1 : 0;
  v += h.echo().ping().wait() ? 1 : 0;
  v += h.named().name().wait() ? 1 : 0;
  v += shape.send().wait() && total.wait() ? <i32>total.results().getTotal() : 0;
  v += echo.shout("x").wait() ? 1 : 0;
  const store = new Store();
  const loud = new Loud();
  return v + (store.dispatch(K.Kv.ID, K.Kv.M_keys, call) ? 1 : 0) + (loud.dispatch(I.Named.ID, I.Named.M_name, call) ? 1 : 0);
}

class Store extends K.KvServer {
  get(p: K.Kv_get$Params.Reader, r: K.Kv_get$Results.Builder, call: IncomingCall): void {
    r.setFound(p.getKey() == "k");
  }
  put(p: K.Kv_put$Params.Reader, r: K.Kv_put$Results.Builder, call: IncomingCall): void {
    r.setVersion(<u64>p.getValue().length);
  }
  keys(p: K.Kv_keys$Params.Reader, r: K.Kv_keys$Results.Builder, call: IncomingCall): void {
    r.initKeys(1).set(0, "k");
  }
  sub(p: K.Kv_sub$Params.Reader, r: K.Kv_sub$Results.Builder, call: IncomingCall): void {
    call.fail("ERR_UNSUPPORTED: " + p.getPrefix());
  }
}

class Loud extends F.LoudEchoServer {
  shout(p: F.LoudEcho_shout$Params.Reader, r: F.LoudEcho_shout$Results.Builder, call: IncomingCall): void { r.setText(p.getText().toUpperCase()); }
  ping(p: F.Echo_ping$Params.Reader, r: F.Echo_ping$Results.Builder, call: IncomingCall): void {}
  echo(p: F.Echo_echo$Params.Reader, r: F.Echo_echo$Results.Builder, call: IncomingCall): void { r.setPayload(p.getPayload()); r.setTag(p.getTag()); }
  counter(p: F.Echo_counter$Params.Reader, r: F.Echo_counter$Results.Builder, call: IncomingCall): void { r.setFirst(p.getStart()); }
  shape(p: F.Echo_shape$Params.Reader, r: F.Echo_shape$Results.Builder, call: IncomingCall): void { r.setArea(p.getShape().getCircle()); }
  holder(p: F.Echo_holder$Params.Reader, r: F.Holder.Builder, call: IncomingCall): void { r.initBox().setCount(1); }
  named(p: F.Echo_named$Params.Reader, r: F.Echo_named$Results.Builder, call: IncomingCall): void {}
  name(p: I.Named_name$Params.Reader, r: I.Named_name$Results.Builder, call: IncomingCall): void { r.setName("loud"); }
}

/** Lists three deep, lists of struct lists, of Text lists and of capabilities, built and read back. */
export function checkDeep(): i32 {
  firstFail = 0;
  const session = new Session();
  const t = new Table();
  const mb = new MessageBuilder();
  const d = new E.Deep.Builder(mb.initRoot(E.Deep.DATA_WORDS, E.Deep.POINTER_COUNT), t);
  const l3 = d.initL3(2);
  const mid = l3.init(1, 2);
  const leaf = mid.init(1, 3); leaf.set(0, 10); leaf.set(2, -30);
  const lp = d.initLp(1).init(0, 2);
  lp.get(1).setX(42);
  const texts = d.initTexts(1).init(0, 2);
  texts.set(1, "deep");
  const a = new Cap(session);
  const odds = d.initOdds(2);
  odds.set(1, new E.OddClient(a));
  const r = new E.Deep.Reader(root(mb.finish(), mb.frameLength), t);
  const rl3 = r.getL3();
  ok(1, rl3.length == 2 && rl3.get(0).length == 0 && rl3.get(1).length == 2 && rl3.get(1).get(0).length == 0);
  const rleaf = rl3.get(1).get(1);
  ok(2, rleaf.length == 3 && rleaf.get(0) == 10 && rleaf.get(1) == 0 && rleaf.get(2) == -30);
  const rlp = r.getLp();
  ok(3, rlp.length == 1 && rlp.get(0).length == 2 && rlp.get(0).get(0).getX() == 0 && rlp.get(0).get(1).getX() == 42);
  ok(4, r.getTexts().get(0).get(1) == "deep" && r.getTexts().get(0).get(0) == "");
  ok(5, r.getOdds().length == 2 && r.getOdds().get(1).cap == a && t.caps.length == 1);
  return firstFail;
}

// Names AssemblyScript reserves or the generated classes use get a `$` suffix.
export function oddSurface(odd: E.OddClient, call: IncomingCall): i32 {
  const a = odd.static$("d", 1);
  const w = a.wait$().cap$();
  const x = a.dispose$().dispatchRequest();
  x.params.initOdds(1).set(0, a.results$());
  const odds = x.send();
  if (!w.wait() || !odds.wait()) return 1;
  return odds.results().getOdds().length + (new OddImpl().dispatch(E.Odd.ID, E.Odd.M_cap, call) ? 1 : 0);
}

class OddImpl extends E.OddServer {
  static$(p: E.Odd_static$Params.Reader, r: E.Odd_static$Results.Builder, call: IncomingCall): void {
    if (p.getDefault() == "" || p.getType() == 0) call.fail("ERR_EMPTY");
  }
  cap(p: E.Odd_cap$Params.Reader, r: E.Odd_cap$Results.Builder, call: IncomingCall): void {}
  dispatch$(p: E.Odd_dispatch$Params.Reader, r: E.Odd_dispatch$Results.Builder, call: IncomingCall): void {
    const n = p.getOdds().length;
    const out = r.initOdds(n);
    for (let i: u32 = 0; i < n; i++) out.set(i, p.getOdds().get(i));
  }
}

/** Union members with defaults: the active one reads as set, the others as their defaults. */
export function checkUnionDefaults(): i32 {
  firstFail = 0;
  const mb = new MessageBuilder();
  const t = new E.Tagged.Builder(mb.initRoot(E.Tagged.DATA_WORDS, E.Tagged.POINTER_COUNT), NONE);
  t.setB(-1.25);
  const r = new E.Tagged.Reader(root(mb.finish(), mb.frameLength), NONE);
  ok(1, r.isB() && r.getB() == -1.25);
  ok(2, r.getA() == -5 && r.getC() == "c" && r.getD() == true && r.getE() == 0xfedcba9876543210);
  const mb2 = new MessageBuilder();
  const t2 = new E.Tagged.Builder(mb2.initRoot(E.Tagged.DATA_WORDS, E.Tagged.POINTER_COUNT), NONE);
  t2.setA(0);
  const r2 = new E.Tagged.Reader(root(mb2.finish(), mb2.frameLength), NONE);
  ok(3, r2.isA() && r2.getA() == 0 && r2.getB() == 2.5 && r2.getE() == 0xfedcba9876543210);
  return firstFail;
}
