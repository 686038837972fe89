// Per-process parts built inside a worker. Functions and live objects cannot cross
// threads, so a spawner names a module and gives cloneable options; the worker imports
// the module (once) and calls its factory for each process, with the process's context.

import { ProcError } from '../errors.js'
import type { ProcessContext, ProcessExtension } from '../scheduler.js'
import type { ExtensionSpec } from './protocol.js'

/** What an extension module exports (as `default`, or the name its spec gives). */
export type WorkerExtensionFactory = (options: unknown, ctx: ProcessContext) => ProcessExtension

const loaded = new Map<string, Promise<Record<string, unknown>>>()

/** The factories of `specs`, their modules imported once per worker. */
export async function loadExtensions(specs: readonly ExtensionSpec[]): Promise<Array<(ctx: ProcessContext) => ProcessExtension>> {
  return Promise.all(specs.map(async (spec) => {
    let mod = loaded.get(spec.module)
    if (mod === undefined) {
      mod = import(spec.module) as Promise<Record<string, unknown>>
      loaded.set(spec.module, mod)
      mod.catch(() => loaded.delete(spec.module))
    }
    const name = spec.export ?? 'default'
    const factory = (await mod)[name]
    if (typeof factory !== 'function') throw new ProcError('ERR_BAD_MODULE', `extension module ${spec.module} exports no function ${name}`)
    return (ctx: ProcessContext) => (factory as WorkerExtensionFactory)(spec.options, ctx)
  }))
}

/** One extension from several parts: imports merged by module, attached in order, cleaned up in reverse. */
export function combine(parts: readonly ProcessExtension[]): ProcessExtension {
  const imports: Record<string, WebAssembly.ModuleImports> = {}
  for (const part of parts) {
    for (const [mod, fields] of Object.entries(part.imports ?? {})) imports[mod] = { ...imports[mod], ...fields }
  }
  return {
    imports,
    attach: (inst) => { for (const part of parts) part.attach?.(inst) },
    onExit: (status) => {
      for (let i = parts.length - 1; i >= 0; i--) {
        try { parts[i]!.onExit?.(status) } catch { /* one part's cleanup must not stop the others' */ }
      }
    },
    stats: () => {
      const sum: Record<string, number> = {}
      for (const part of parts) {
        for (const [k, v] of Object.entries(part.stats?.() ?? {})) if (typeof v === 'number') sum[k] = (sum[k] ?? 0) + v
      }
      return sum
    },
  }
}
