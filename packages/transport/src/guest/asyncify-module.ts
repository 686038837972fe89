// Instrument a module for asyncify with Binaryen (loaded on first use: it is large).
// Features are named, never "all": Node 20 rejects modules that declare features it lacks.

export interface AsyncifyModuleOptions {
  /** Imports that may suspend, as "module.name" (e.g. "ww.recv", "wasi_snapshot_preview1.poll_oneoff"). */
  imports: readonly string[]
  /** Binaryen feature bits (binaryen.Features); default: what Node 20 runs without flags. */
  features?: number
  /** Binaryen optimize level for the pass (0-3); default 2: asyncify's output shrinks a lot with it. */
  optimizeLevel?: number
}

import { binaryenFeatures } from '@ww/interface'
import { TransportError } from '../errors.js'

type Binaryen = typeof import('binaryen').default

let loading: Promise<Binaryen> | undefined
function load(): Promise<Binaryen> {
  return (loading ??= import('binaryen').then((m) => m.default))
}

/** The features Node 20 enables by default (@ww/interface's NODE20_WASM_FEATURES), as binaryen.Features bits. */
export function node20Features(b: Binaryen): number {
  return binaryenFeatures(b.Features)
}

/** `bytes` with Binaryen's asyncify pass applied; `imports` are the ones that may suspend. */
export async function asyncifyModule(bytes: Uint8Array, opts: AsyncifyModuleOptions): Promise<Uint8Array> {
  const b = await load()
  const features = opts.features ?? node20Features(b)
  const mod = b.readBinary(bytes)
  // Pass arguments and the optimize level are Binaryen globals: set, run, restore.
  const level = b.getOptimizeLevel()
  try {
    mod.setFeatures(features)
    b.setPassArgument('asyncify-imports', opts.imports.join(','))
    b.setOptimizeLevel(opts.optimizeLevel ?? 2)
    mod.runPasses(['asyncify'])
    if (!mod.validate()) throw new TransportError('ERR_ASYNCIFY', 'binaryen: asyncify produced an invalid module')
    return mod.emitBinary()
  } finally {
    b.setPassArgument('asyncify-imports', null)
    b.setOptimizeLevel(level)
    mod.dispose()
  }
}
