// From guest bytes to a compiled, instrumented module, paying Binaryen at most once per
// (content, instrumentation): kept in this process (the compiled module, shared by every
// scheduler and spawn) and, given a directory, on disk for any later process. The pass
// itself runs on a worker thread unless told otherwise.
//
// Two tiers where a first start would wait for Binaryen (1-3 s to load it, more to run):
// a module that needs no asyncify gets the quick tier (meter/quick.ts, milliseconds, on
// this thread) and Binaryen's build, which runs about twice as fast, follows in the
// background; a module that needs asyncify gets asyncify at -O0 first, then -O2.

import { BadModuleError, ModuleTooLargeError } from '../errors.js'
import { ModuleCache } from '../internal/module-cache.js'
import { meterModule, PASS_VERSION, type MeterInfo, type MeterOptions } from '../meter/pass.js'
import { meterQuick, QUICK_VERSION } from '../meter/quick.js'
import { DecodeError } from '../meter/wasm-bytes.js'
import { ModuleStore, sha256, type Instrumented } from './module-store.js'
import { meterOffThread } from './off-thread.js'

export interface InstrumentOptions {
  /** The on-disk cache; undefined: this process only. */
  store?: ModuleStore | undefined
  /** Run the pass on a worker thread (default true). */
  offThread?: boolean
  /**
   * A first start takes the quick tier (meter/quick.ts: no Binaryen, no asyncify) where the
   * module needs no asyncify, while Binaryen's build is made in the background (default true).
   */
  quick?: boolean
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
 * and its code runs ≈1.25× slower: a first start takes the -O0 build, and the -O2 one
 * is built behind it on a background worker, for later spawns in this process and the disk
 * cache. A process that exits first drops it (that worker never keeps a process alive).
 */
const FIRST = 0
const FINAL = 2

/**
 * When a quick-tier module gets Binaryen's build: once its processes have used this much
 * fuel (a few hundred ms of guest work, where running twice as fast starts to pay back
 * the build's seconds of CPU), or after UPGRADE_AFTER_MS, whichever comes first (pool
 * workers do not report fuel here). A short-lived process (`ww run` of a small program,
 * `ww demo`) never pays for it: with 3 s, a loaded machine's `ww demo` did, 3× the CPU.
 */
const UPGRADE_AFTER_FUEL = 300_000_000
const UPGRADE_AFTER_MS = 30_000
const upgrades = new WeakMap<WebAssembly.Module, { fuel: number; start(): void }>()

/** Fuel a process of `module` used (the scheduler tells, per slice): may start its upgrade. */
export function fuelUsedBy(module: WebAssembly.Module, fuel: number): void {
  const u = upgrades.get(module)
  if (u === undefined) return
  u.fuel += fuel
  if (u.fuel >= UPGRADE_AFTER_FUEL) u.start()
}

/** Calls `start` once, when `module` has run enough or waited long enough. */
function upgradeLater(module: WebAssembly.Module, start: () => void): void {
  let started = false
  const once = (): void => {
    if (started) return
    started = true
    clearTimeout(timer)
    upgrades.delete(module)
    start()
  }
  const timer = setTimeout(once, UPGRADE_AFTER_MS)
  timer.unref()
  upgrades.set(module, { fuel: 0, start: once })
}

/** Larger modules skip the quick tier: it runs on the caller's thread. */
const QUICK_MAX_BYTES = 8 * 1024 * 1024
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024

/**
 * The quick tier's build, compiled, or undefined where Binaryen must do it (the module
 * needs asyncify, uses what the tier does not rewrite, or — a defect of ours — its output
 * does not compile). Bytes that are not a valid module are a BadModuleError.
 */
async function compileQuick(bytes: Uint8Array, opts: MeterOptions, cached: Instrumented | undefined): Promise<{ compiled: CompiledModule; entry: Instrumented } | undefined> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES
  if (bytes.byteLength > maxBytes) throw new ModuleTooLargeError(bytes.byteLength, maxBytes)
  if (bytes.byteLength > QUICK_MAX_BYTES) return undefined
  const invalid = (cause: unknown): BadModuleError | undefined =>
    WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>) ? undefined : new BadModuleError('not a valid WebAssembly module', { cause })
  let entry: Instrumented
  try {
    entry = cached ?? meterQuick(bytes, opts)
  } catch (e) {
    if (e instanceof BadModuleError) throw e
    if (e instanceof DecodeError && e.unsupported) return undefined
    const bad = invalid(e)
    if (bad !== undefined) throw bad
    return undefined
  }
  try {
    return { compiled: { module: await WebAssembly.compile(entry.bytes as Uint8Array<ArrayBuffer>), meter: entry.info }, entry }
  } catch (e) {
    const bad = invalid(e)
    if (bad !== undefined) throw bad
    return undefined
  }
}

export function compileInstrumented(bytes: Uint8Array, opts: MeterOptions, how: InstrumentOptions = {}): Promise<CompiledModule> {
  const id = sha256(bytes)
  return compiled.getById(id, variantOf(opts), async () => {
    const store = how.store
    const build = (o: MeterOptions, background = false): Promise<Instrumented> =>
      how.offThread === false ? meterModule(bytes, o) : meterOffThread(bytes, o, background)
    const tiered = opts.asyncify !== undefined && opts.optimizeLevel === undefined
    // The build later spawns and the disk cache keep: Binaryen's, asyncify at -O2 if any.
    const best = tiered ? { ...opts, optimizeLevel: FINAL } : opts
    const upgrade = (o: MeterOptions): void => {
      build(o, true).then(async (e) => {
        await store?.put(id, variantOf(o), e)
        const module = await WebAssembly.compile(e.bytes as Uint8Array<ArrayBuffer>)
        compiled.replace(id, variantOf(opts), Promise.resolve({ module, meter: e.info }))
      }).catch(() => undefined)
    }
    let entry = await store?.get(id, variantOf(best))
    if (entry === undefined && how.quick !== false) {
      const key = JSON.stringify([QUICK_VERSION, variantOf(opts)])
      const cached = await store?.get(id, key)
      const quick = await compileQuick(bytes, opts, cached)
      if (quick !== undefined) {
        if (cached === undefined) await store?.put(id, key, quick.entry)
        upgradeLater(quick.compiled.module, () => upgrade(best))
        return quick.compiled
      }
    }
    if (entry === undefined && !tiered) {
      entry = await build(opts)
      await store?.put(id, variantOf(opts), entry)
    } else if (entry === undefined) {
      const first = { ...opts, optimizeLevel: FIRST }
      entry = await store?.get(id, variantOf(first))
      if (entry === undefined) {
        entry = await build(first)
        await store?.put(id, variantOf(first), entry)
      }
      // Only asyncify's output differs between the two. Later spawns in this process get
      // the better build too.
      if (entry.info.asyncified && !entry.info.preinstrumented) upgrade(best)
    }
    const module = await WebAssembly.compile(entry.bytes as Uint8Array<ArrayBuffer>)
    return { module, meter: entry.info }
  })
}
