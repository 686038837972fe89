// Loading a plugin from its module: the one way every runtime does it (the in-thread
// scheduler, each worker of a pool, `ww host --plugin`), so a plugin behaves the same
// wherever it is loaded, and a module that is not a plugin fails the same way everywhere.

import { WwError } from './errors.js'
import type { PluginSpec, ProcessPlugin } from './plugin.js'

export type PluginErrorCode =
  /** The module could not be imported, or its factory threw (bad options). */
  | 'ERR_PLUGIN_LOAD'
  /** The module's export is not a PluginFactory, or what it built is not a ProcessPlugin. */
  | 'ERR_PLUGIN_SHAPE'
  /** A plugin that is a live object of one thread (no `spec`) was given to a worker. */
  | 'ERR_PLUGIN_THREAD'

export class PluginError extends WwError<PluginErrorCode> {}

/** `module#export`, as errors and listings name a spec. */
export function describePluginSpec(spec: PluginSpec): string {
  return `${spec.module}#${spec.export ?? 'default'}`
}

/**
 * Imports `spec.module` (once per thread: `import()` caches it), calls its export with
 * `spec.options` and checks that the result is a ProcessPlugin. The plugin carries `spec`,
 * so that a worker pool can load the same one on its threads. Throws PluginError:
 * ERR_PLUGIN_LOAD (the import failed, or the factory threw), ERR_PLUGIN_SHAPE (the export
 * is not a function, or built no plugin).
 */
export async function loadPlugin(spec: PluginSpec): Promise<ProcessPlugin> {
  const where = describePluginSpec(spec)
  let mod: Record<string, unknown>
  try {
    mod = await import(spec.module) as Record<string, unknown>
  } catch (e) {
    throw new PluginError('ERR_PLUGIN_LOAD', `cannot load plugin ${where}: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
  }
  const factory = mod[spec.export ?? 'default']
  if (typeof factory !== 'function') {
    throw new PluginError('ERR_PLUGIN_SHAPE', `plugin ${where}: the module exports no function ${spec.export ?? 'default'} (a PluginFactory: options => ProcessPlugin)`)
  }
  let built: unknown
  try {
    built = (factory as (options: unknown) => unknown)(spec.options)
  } catch (e) {
    throw new PluginError('ERR_PLUGIN_LOAD', `plugin ${where} refused its options: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
  }
  const wrong = shapeProblem(built)
  if (wrong !== undefined) throw new PluginError('ERR_PLUGIN_SHAPE', `plugin ${where}: its factory built no ProcessPlugin (${wrong})`)
  // Delegating, not spreading: a plugin may be a class instance (methods on its prototype, #fields).
  const b = built as ProcessPlugin
  const check = b.check
  return {
    name: b.name, provides: b.provides, spec,
    ...(b.suspendingImports ? { suspendingImports: b.suspendingImports } : {}),
    ...(check ? { check: (s) => check.call(b, s) } : {}),
    create: (ctx) => b.create(ctx),
  }
}

/** What is wrong with `p` as a ProcessPlugin, or undefined. */
function shapeProblem(p: unknown): string | undefined {
  if (typeof p !== 'object' || p === null) return `got ${p === null ? 'null' : typeof p}`
  const o = p as Record<string, unknown>
  if (typeof o.name !== 'string' || o.name === '') return 'no name'
  if (!isStrings(o.provides)) return 'provides is not a list of import module names'
  if (o.suspendingImports !== undefined && !isStrings(o.suspendingImports)) return 'suspendingImports is not a list of names'
  if (typeof o.create !== 'function') return 'no create(ctx)'
  if (o.check !== undefined && typeof o.check !== 'function') return 'check is not a function'
  return undefined
}

function isStrings(v: unknown): v is readonly string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string')
}
