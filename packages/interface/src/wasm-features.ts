// The WebAssembly features a ww module may use: what Node 20 runs without flags. Every
// Binaryen pass of ww declares exactly these (proc's metering, transport's asyncify, the
// guest build), never Features.All: Node 20 rejects a module that declares a feature it
// lacks. One list, so the three cannot drift apart again.

/**
 * By Binaryen's names (`binaryen.Features`). BulkMemoryOpt and CallIndirectOverlong are
 * Binaryen's names for parts of bulk memory and reference types (Binaryen 119+ aborts on
 * AssemblyScript's memory.copy/fill without BulkMemoryOpt).
 */
export const NODE20_WASM_FEATURES = [
  'MutableGlobals', 'NontrappingFPToInt', 'SIMD128', 'BulkMemory', 'BulkMemoryOpt', 'SignExt', 'Multivalue', 'ReferenceTypes', 'CallIndirectOverlong',
] as const

/** NODE20_WASM_FEATURES as feature bits of the Binaryen given its `Features` (a name it lacks counts 0). */
export function binaryenFeatures(features: object): number {
  const bits = features as Readonly<Record<string, number | undefined>>
  return NODE20_WASM_FEATURES.reduce((acc, name) => acc | (bits[name] ?? 0), 0)
}
