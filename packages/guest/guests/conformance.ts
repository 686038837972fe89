// Test guest for @ww/guest's own tests, driven by a scripted JS peer:
// - ww_main: a fixed RPC sequence (bootstrap, pipelined calls with transforms, a params
//   struct with every field kind and a capability, an exception, release) whose frames
//   the test decodes with capnp-ts and `capnp decode`;
// - alloc / read_frame: the reader against hostile frames.
export * from "../assembly/exports";
import { recv } from "../assembly/abi";
import { Session, MessageReader, MessageBuilder, copyPointer, ListBuilder, ElementSize } from "../assembly/index";
import { Echo, Counter, Echo_counter$Params, Echo_counter$Results, Counter_add$Params, Counter_add$Results } from "../assembly/gen/testing";

export function alloc(n: i32): usize {
  return heap.alloc(<usize>n);
}

/**
 * Read the frame at [ptr, ptr+len) as an rpc Message and visit every pointer in it (by
 * deep-copying it); returns the ReadError (0 = none). `traversal` < 0: the default.
 */
export function read_frame(ptr: usize, len: i32, traversal: i64): i32 {
  const r = new MessageReader(ptr, <u32>len, traversal);
  if (!r.ok) return r.error;
  r.root(); // the root of a message must be a struct
  if (!r.ok) return r.error;
  const out = new MessageBuilder(256);
  const root = out.initRoot(0, 1);
  copyPointer(r, 0, 0, out, root.pointerAt(0));
  return r.error;
}

/** Root struct data word 0 of the frame, via the reader (schema evolution checks). */
export function read_root_u64(ptr: usize, len: i32, byteOff: u32): u64 {
  return new MessageReader(ptr, <u32>len).root().u64(byteOff);
}

export const KIND_ID: u64 = 0x1234_5678_9abc_def0;

export function ww_main(): i32 {
  const rpc = new Session(64); // small: the peer's frames exercise -needed
  const boot = rpc.bootstrap();
  const c = rpc.call(boot, Echo.ID, Echo.M_counter, Echo_counter$Params.DATA_WORDS, Echo_counter$Params.POINTER_COUNT);
  c.params.setU64(Echo_counter$Params.F_start, 7);
  const a = c.send();
  const counter = a.cap(Echo_counter$Results.P_counter);

  // Every field kind, in a params struct of 6 data words and 7 pointers.
  const k = rpc.call(counter, KIND_ID, 3, 6, 7);
  const p = k.params;
  p.setU8(0, 0xab);
  p.setBool(8, true);
  p.setBool(15, true);
  p.setU16(2, 0xbeef);
  p.setU32(4, 0xdeadbeef);
  p.setU64(8, 0x0123456789abcdef);
  p.setI8(16, -5);
  p.setI16(18, -300);
  p.setI32(20, -70000);
  p.setI64(24, -1234567890123);
  p.setF32(32, 1.5);
  p.setF64(40, -2.25);
  p.setText(0, "héllo ww");
  const data = new Uint8Array(5);
  for (let i = 0; i < 5; i++) data[i] = <u8>(i + 1);
  p.setData(1, data);
  const u16s = p.initList(2, ElementSize.TwoBytes, 4);
  u16s.setU16(0, 1); u16s.setU16(1, 2); u16s.setU16(2, 3); u16s.setU16(3, 65535);
  const structs: ListBuilder = p.initStructList(3, 2, 1, 1);
  for (let i: u32 = 0; i < 2; i++) {
    const s = structs.struct(i);
    s.setU32(0, i * 10);
    s.setText(0, "e" + i.toString());
  }
  k.setCap(p, 4, boot);
  const bools = p.initList(5, ElementSize.Bit, 10);
  bools.setBool(0, true); bools.setBool(2, true); bools.setBool(9, true);
  const u64s = p.initList(6, ElementSize.EightBytes, 2);
  u64s.setU64(0, 0xffffffffffffffff); u64s.setU64(1, 42);
  const b = k.send();

  // The peer answers bootstrap, counter (a cap) and the kinds call (an exception).
  if (b.wait()) return 10;
  if (b.error == null || b.error!.reason != "boom" || b.error!.type != 1) return 11;
  if (!a.wait()) return 12;
  // The answer arrived: this call targets the imported capability directly.
  const add = rpc.call(counter, Counter.ID, Counter.M_add, Counter_add$Params.DATA_WORDS, Counter_add$Params.POINTER_COUNT);
  add.params.setU64(Counter_add$Params.F_n, 5);
  const s = add.send();
  if (!s.wait()) return 13;
  if (s.results.u64(Counter_add$Results.F_total) != 12) return 14;
  s.dispose();
  counter.release();
  a.dispose();
  if (rpc.importCount != 1) return 15;
  return 0;
}

/**
 * Measurement hook: `n` calls of ww.recv that the host answers at once (no suspension),
 * to price asyncify's instrumentation on the non-suspending path.
 */
export function recv_loop(n: i32): i32 {
  const buf = heap.alloc(64);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += recv(buf, 64);
  heap.free(buf);
  return sum;
}
