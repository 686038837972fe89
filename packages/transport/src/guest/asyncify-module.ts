// Instrument a module for asyncify with Binaryen (loaded on first use: it is large).
// Features are named, never "all": Node 20 rejects modules that declare features it lacks.
// Binaryen is an optional peer: @ww/proc (which instruments every guest) brings it; a user
// of the transport alone who runs instrumented guests, or JSPI, never downloads its 100 MB.

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
  return (loading ??= import('binaryen').then((m) => m.default, (e: unknown) => {
    loading = undefined
    const missing = (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND'
    throw new TransportError('ERR_ASYNCIFY', missing
      ? 'this guest must be asyncified to wait, which needs Binaryen: `npm i binaryen@132` beside @ww/transport (or use @ww/proc, which brings it; or an asyncified guest; or Node 24, whose JSPI needs no instrumentation)'
      : `binaryen could not be loaded: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
  }))
}

/** `bytes` with Binaryen's asyncify pass applied; `imports` are the ones that may suspend. */
export async function asyncifyModule(bytes: Uint8Array, opts: AsyncifyModuleOptions): Promise<Uint8Array> {
  const b = await load()
  const features = opts.features ?? binaryenFeatures(b.Features)
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
