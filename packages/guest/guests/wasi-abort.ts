// WASI test guest: prints one line, then aborts on purpose (an index out of range). The
// shim's abort writes "abort: …" to stderr and exits 255. scripts/build.mjs leaves that
// abort out of asyncify's instrumentation (so bounds checks elsewhere do not instrument
// whole guests); test/abort.test.ts shows the process still ends with 255, message
// included — and without it, not hung, when its stderr is full.
export * from "../assembly/exports";

const slots = new StaticArray<i32>(4);

export function ww_main(): i32 {
  console.log("about to abort");
  let i = 0;
  while (i < 8) i += 3; // 9: past the end, not a constant the compiler could flag
  return slots[i];
}
