// The one feature list: its bits are the OR of the names a Binaryen knows, and a name the
// Binaryen lacks (an older one) counts 0 rather than poisoning the set with NaN.
import { binaryenFeatures, NODE20_WASM_FEATURES } from './index.js'

test('the bits of every listed feature this Binaryen knows, and none of what it does not list', () => {
  const features = Object.fromEntries(NODE20_WASM_FEATURES.map((n, i) => [n, 1 << i]))
  expect(binaryenFeatures({ ...features, GC: 1 << 20, All: 0x7fffffff })).toBe((1 << NODE20_WASM_FEATURES.length) - 1)
  const { CallIndirectOverlong: _, ...older } = features
  expect(binaryenFeatures(older)).toBe((1 << NODE20_WASM_FEATURES.length) - 1 - features.CallIndirectOverlong!)
})

test('never exception handling, GC, threads or memory64 (Node 20 runs none of them without flags)', () => {
  for (const n of ['ExceptionHandling', 'GC', 'Atomics', 'Memory64', 'TailCall', 'All']) expect(NODE20_WASM_FEATURES).not.toContain(n)
})
