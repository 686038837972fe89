// Per-process parts built inside a worker. Functions and live objects cannot cross
// threads, so a spawner names a module and gives cloneable options; the worker imports
// the module (once) and calls its factory for each process, with the process's context.

import { ProcError } from '../errors.js'
import type { ProcessContext, ProcessExtension } from '../scheduler.js'
import type { ProcessPlugin } from '../compose/plugin.js'
import type { ExtensionSpec } from './protocol.js'

/** What an extension module exports (as `default`, or the name its spec gives). */
export type WorkerExtensionFactory = (options: unknown, ctx: ProcessContext) => ProcessExtension

const loaded = new Map<string, Promise<Record<string, unknown>>>()

/**
 * The plugins `specs` name, their modules imported once per worker. What they fill is
 * known only once built, so `provides` is empty: combineParts refuses two parts that
 * fill the same import.
 */
export async function loadExtensions(specs: readonly ExtensionSpec[]): Promise<ProcessPlugin[]> {
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
    return { name: `extension ${spec.module}`, provides: [], create: (ctx: ProcessContext) => (factory as WorkerExtensionFactory)(spec.options, ctx) }
  }))
}
