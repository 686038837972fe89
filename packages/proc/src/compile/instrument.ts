// From guest bytes to a compiled, instrumented module, paying Binaryen at most once per
// (content, instrumentation): kept in this process (the compiled module, shared by every
// scheduler and spawn) and, given a directory, on disk for any later process. The pass
// itself runs on a worker thread unless told otherwise.
//
// Two tiers where a first start would wait for Binaryen (1-3 s to load it, more to run):
// a first start gets the quick tier (meter/quick.ts, milliseconds, on this thread) and,
// where the module needs asyncify, Binaryen's asyncify pass alone at -O0 on that output
// (in a child process, loading Binaryen while the quick tier runs). Binaryen's whole
// build (fuel in registers, asyncify at -O2: about twice as fast) follows in the
// background once the module has run enough.

import { BadModuleError, ModuleTooLargeError } from '../errors.js'
import { ModuleCache } from '../internal/module-cache.js'
import { asyncifyOnly, meterModule, PASS_VERSION, type MeterInfo, type MeterOptions } from '../meter/pass.js'
import { meterQuick, QUICK_VERSION, type QuickMetered } from '../meter/quick.js'
import { DecodeError } from '../meter/wasm-bytes.js'
import { ModuleStore, sha256, type Instrumented } from './module-store.js'
import { asyncifyInChild, meterOffThread, startAsyncifyChild } from './off-thread.js'

export interface InstrumentOptions {
  /** The on-disk cache; undefined: this process only. */
  store?: ModuleStore | undefined
  /** Run the pass on a worker thread (default true). */
  offThread?: boolean
  /**
   * A first start takes the quick tier (meter/quick.ts: no Binaryen; Binaryen's asyncify
   * pass alone where the module needs it), Binaryen's whole build following in the
   * background (default true).
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
 * When a quick-tier module gets Binaryen's build: once its processes have used `fuel`
 * (a few hundred ms of guest work, where running twice as fast starts to pay back the
 * build's seconds of CPU), or after `ms`, whichever comes first. Processes on pool workers
 * count too (the workers report their fuel). A short-lived process (`ww run` of a small
 * program, `ww demo`) never pays for it: with 3 s, a loaded machine's `ww demo` did, 3×
 * the CPU. @internal Mutable for tests only.
 */
export const upgradeRule = { fuel: 300_000_000, ms: 30_000 }
type Upgrade = { fuel: number; start(why: 'fuel' | 'timer'): void }
const upgrades = new WeakMap<WebAssembly.Module, Upgrade>()
const upgradeWaiters = new WeakMap<WebAssembly.Module, Array<(why: 'fuel' | 'timer') => void>>()

/** Where a pool worker sends the fuel its processes of a module used (to the thread that compiled it). */
const observers = new WeakMap<WebAssembly.Module, (fuel: number) => void>()

/** Fuel a process of `module` used (the scheduler tells, per slice; the pool, for its workers): may start its upgrade. */
export function fuelUsedBy(module: WebAssembly.Module, fuel: number): void {
  observers.get(module)?.(fuel)
  const u = upgrades.get(module)
  if (u === undefined) return
  u.fuel += fuel
  if (u.fuel >= upgradeRule.fuel) u.start('fuel')
}

/** Calls `onFuel` with the fuel each slice of a process of `module` used on this thread (a pool worker's report). */
export function observeFuel(module: WebAssembly.Module, onFuel: (fuel: number) => void): void {
  observers.set(module, onFuel)
}

/** @internal Settles with why `module`'s upgrade started (tests). */
export function upgradeStarted(module: WebAssembly.Module): Promise<'fuel' | 'timer'> {
  return new Promise((resolve) => {
    const list = upgradeWaiters.get(module)
    if (list === undefined) upgradeWaiters.set(module, [resolve])
    else list.push(resolve)
  })
}

/** Calls `start` once, when `module` has run enough or waited long enough. */
function upgradeLater(module: WebAssembly.Module, start: () => void): void {
  let started = false
  const once = (why: 'fuel' | 'timer'): void => {
    if (started) return
    started = true
    clearTimeout(timer)
    upgrades.delete(module)
    start()
    for (const w of upgradeWaiters.get(module) ?? []) w(why)
    upgradeWaiters.delete(module)
  }
  const timer = setTimeout(() => once('timer'), upgradeRule.ms)
  timer.unref()
  upgrades.set(module, { fuel: 0, start: once })
}

/** Larger modules skip the quick tier: it runs on the caller's thread. */
const QUICK_MAX_BYTES = 8 * 1024 * 1024
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024

/**
 * The quick tier's build, compiled, or undefined where Binaryen must do it all (the module
 * uses what the tier does not rewrite, or — a defect of ours — its output does not compile
 * or Binaryen's asyncify refuses it). Bytes that are not a valid module are a BadModuleError.
 */
async function compileQuick(bytes: Uint8Array, opts: MeterOptions, cached: Instrumented | undefined, offThread: boolean): Promise<{ compiled: CompiledModule; entry: Instrumented } | undefined> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES
  if (bytes.byteLength > maxBytes) throw new ModuleTooLargeError(bytes.byteLength, maxBytes)
  if (bytes.byteLength > QUICK_MAX_BYTES) return undefined
  const invalid = (cause: unknown): BadModuleError | undefined =>
    WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>) ? undefined : new BadModuleError('not a valid WebAssembly module', { cause })
  let metered: QuickMetered
  try {
    // Binaryen loads in the child process while this thread rewrites the module.
    metered = cached ?? meterQuick(bytes, opts, offThread ? startAsyncifyChild : undefined)
  } catch (e) {
    if (e instanceof BadModuleError) throw e
    if (e instanceof DecodeError && e.unsupported) return undefined
    const bad = invalid(e)
    if (bad !== undefined) throw bad
    return undefined
  }
  let entry: Instrumented = metered
  if (metered.asyncify !== undefined) {
    try {
      entry = { bytes: await asyncified(metered, offThread), info: metered.info }
    } catch {
      return undefined // Binaryen's whole pass decides (and names what is wrong, if anything)
    }
  }
  try {
    return { compiled: { module: await WebAssembly.compile(entry.bytes as Uint8Array<ArrayBuffer>), meter: entry.info }, entry }
  } catch (e) {
    const bad = invalid(e)
    if (bad !== undefined) throw bad
    return undefined
  }
}

/**
 * Binaryen's asyncify pass alone, at -O0, on the quick tier's output (checked first: an
 * invalid output is our defect, and Binaryen must not be the one to find it).
 */
async function asyncified(metered: QuickMetered, offThread: boolean): Promise<Uint8Array> {
  if (!WebAssembly.validate(metered.bytes as Uint8Array<ArrayBuffer>)) throw new Error('the quick tier produced an invalid module')
  const imports = metered.asyncify!
  return offThread ? asyncifyInChild(metered.bytes, imports, FIRST) : asyncifyOnly(metered.bytes, imports, FIRST)
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
      const quick = await compileQuick(bytes, opts, cached, how.offThread !== false)
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
