// From guest bytes to a compiled, instrumented module, paying Binaryen at most once per
// (content, instrumentation): kept in this process (the compiled module, shared by every
// scheduler and spawn) and, given a directory, on disk for any later process. The pass
// itself runs on a worker thread unless told otherwise.

import { ModuleCache } from '../internal/module-cache.js'
import { meterModule, PASS_VERSION, type MeterInfo, type MeterOptions } from '../meter/pass.js'
import { ModuleStore, sha256, type Instrumented } from './module-store.js'
import { meterOffThread } from './off-thread.js'

export interface InstrumentOptions {
  /** The on-disk cache; undefined: this process only. */
  store?: ModuleStore | undefined
  /** Run the pass on a worker thread (default true). */
  offThread?: boolean
}

export interface CompiledModule {
  readonly module: WebAssembly.Module
  readonly meter: MeterInfo
}

const compiled = new ModuleCache<CompiledModule>(256)
const stores = new Map<string, ModuleStore>()

/** The store under `root` for this instrumentation version (one object per directory). */
export function moduleStore(root: string): ModuleStore {
  let s = stores.get(root)
  if (s === undefined) stores.set(root, (s = new ModuleStore(root, PASS_VERSION)))
  return s
}

/** What, besides the bytes, decides the pass's output. */
function variantOf(opts: MeterOptions): string {
  const a = opts.asyncify === undefined ? null : [...opts.asyncify.imports].sort()
  return JSON.stringify([PASS_VERSION, a, opts.unroll ?? true, opts.optimizeLevel ?? 2, opts.asyncifyDataPages ?? 1, opts.maxBytes ?? null])
}

export function compileInstrumented(bytes: Uint8Array, opts: MeterOptions, how: InstrumentOptions = {}): Promise<CompiledModule> {
  const id = sha256(bytes)
  const variant = variantOf(opts)
  return compiled.getById(id, variant, async () => {
    const store = how.store
    let entry: Instrumented | undefined = await store?.get(id, variant)
    if (entry === undefined) {
      // A copy to the worker: the caller keeps its buffer.
      entry = how.offThread === false ? await meterModule(bytes, opts) : await meterOffThread(bytes, opts)
      await store?.put(id, variant, entry)
    }
    const module = await WebAssembly.compile(entry.bytes as Uint8Array<ArrayBuffer>)
    return { module, meter: entry.info }
  })
}
