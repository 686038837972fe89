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

/**
 * Asyncify at -O0 takes a tenth of the time of -O2 (the demo guest: ≈0.3 s vs ≈2.7 s)
 * and its code runs ≈1.25× slower: a first start takes the quick build, and the -O2 one
 * is built behind it on a background worker, for later spawns in this process and the disk
 * cache. A process that exits first drops it (that worker never keeps a process alive).
 */
const QUICK = 0
const FINAL = 2

export function compileInstrumented(bytes: Uint8Array, opts: MeterOptions, how: InstrumentOptions = {}): Promise<CompiledModule> {
  const id = sha256(bytes)
  return compiled.getById(id, variantOf(opts), async () => {
    const store = how.store
    const build = (o: MeterOptions, background = false): Promise<Instrumented> =>
      how.offThread === false ? meterModule(bytes, o) : meterOffThread(bytes, o, background)
    const tiered = opts.asyncify !== undefined && opts.optimizeLevel === undefined
    let entry: Instrumented | undefined
    if (!tiered) {
      entry = await store?.get(id, variantOf(opts))
      if (entry === undefined) {
        entry = await build(opts)
        await store?.put(id, variantOf(opts), entry)
      }
    } else {
      const quick = { ...opts, optimizeLevel: QUICK }
      const final = { ...opts, optimizeLevel: FINAL }
      entry = await store?.get(id, variantOf(final))
      if (entry === undefined) {
        entry = await store?.get(id, variantOf(quick))
        if (entry === undefined) {
          entry = await build(quick)
          await store?.put(id, variantOf(quick), entry)
        }
        // Only asyncify's output differs between the two. Later spawns in this process get
        // the better build too.
        if (entry.info.asyncified && !entry.info.preinstrumented) {
          build(final, true).then(async (e) => {
            await store?.put(id, variantOf(final), e)
            const module = await WebAssembly.compile(e.bytes as Uint8Array<ArrayBuffer>)
            compiled.replace(id, variantOf(opts), Promise.resolve({ module, meter: e.info }))
          }).catch(() => undefined)
        }
      }
    }
    const module = await WebAssembly.compile(entry.bytes as Uint8Array<ArrayBuffer>)
    return { module, meter: entry.info }
  })
}
