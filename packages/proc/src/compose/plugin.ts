// The extension point of a guest process: a plugin adds imports (and whatever stands
// behind them: a capability, a policy) to every process it is given to. The restricted
// WASI and the Host capability over the zero-copy transport are plugins like any other;
// a new capability plugs in the same way, without touching the scheduler or spawnGuest.

import { BadModuleError } from '../errors.js'
import type { ExitStatus, ExtensionStats, ProcessContext, ProcessExtension, ProcessPlugin, SpawnCheck } from '@ww/interface'
import type { ProcessLimits } from '../scheduler.js'

export type { ProcessPlugin }

/** Modules every metered process imports from the scheduler itself. */
export const SCHEDULER_IMPORTS: readonly string[] = ['ww_meter', 'ww_proc']

/** Refuses two plugins that fill the same import module, or one the scheduler fills. */
export function checkPlugins(plugins: readonly ProcessPlugin[]): void {
  const owner = new Map<string, string>(SCHEDULER_IMPORTS.map((m) => [m, 'the scheduler']))
  for (const p of plugins) {
    for (const m of p.provides) {
      const other = owner.get(m)
      if (other !== undefined) throw new BadModuleError(`plugin ${p.name} and ${other} both provide the import module ${m}`)
      owner.set(m, `plugin ${p.name}`)
    }
  }
}

/**
 * The plugins' policies, run on the spawner's thread before a process exists (in-thread
 * and pooled spawns alike): the first throw refuses the spawn with that error.
 */
export function checkSpawn(plugins: readonly ProcessPlugin[], module: WebAssembly.Module, opts: ProcessLimits & { name?: string; entry?: string }): void {
  const checks = plugins.filter((p) => p.check !== undefined)
  if (checks.length === 0) return
  const { name, entry, memoryPages, fuel, deadlineMs, mailbox } = opts
  const request: SpawnCheck = {
    ...(name !== undefined ? { name } : {}), ...(entry !== undefined ? { entry } : {}),
    ...(memoryPages !== undefined ? { memoryPages } : {}), ...(fuel !== undefined ? { fuel } : {}),
    ...(deadlineMs !== undefined ? { deadlineMs } : {}), ...(mailbox !== undefined ? { mailbox } : {}),
    imports: [...new Set(WebAssembly.Module.imports(module).map((i) => i.module))],
  }
  for (const p of checks) p.check!(request)
}

/**
 * One extension made of the plugins' parts: imports merged (two parts may share an
 * import module, e.g. `env`, but not fill the same import: that throws BadModuleError),
 * attached in order, cleaned up in reverse order (a part built later may use an earlier
 * one), counters summed, hibernatable when every part says it can. If a plugin's create throws, or two parts collide, the parts
 * already built are cleaned up before it rethrows. Also how a pool worker combines the
 * extensions it builds for a process.
 */
export function combineParts(plugins: readonly ProcessPlugin[], ctx: ProcessContext, built: (plugin: ProcessPlugin, part: ProcessExtension) => void = () => undefined): ProcessExtension {
  const parts: ProcessExtension[] = []
  const imports: Record<string, WebAssembly.ModuleImports> = {}
  try {
    const filledBy = new Map<string, string>()
    for (const p of plugins) {
      const part = p.create(ctx)
      parts.push(part)
      built(p, part)
      for (const [mod, fields] of Object.entries(part.imports ?? {})) {
        for (const field of Object.keys(fields)) {
          const other = filledBy.get(`${mod}.${field}`)
          if (other !== undefined) throw new BadModuleError(`${p.name} and ${other} both fill the import ${mod}.${field}`)
          filledBy.set(`${mod}.${field}`, p.name)
        }
        imports[mod] = { ...imports[mod], ...fields }
      }
    }
  } catch (e) {
    const status: ExitStatus = { kind: 'trapped', code: 'ERR_PLUGIN', reason: `a plugin failed to start: ${e instanceof Error ? e.message : String(e)}` }
    for (const part of parts.reverse()) safely(() => part.onExit?.(status))
    throw e
  }
  return {
    imports,
    attach: (inst) => { for (const part of parts) part.attach?.(inst) },
    onExit: (status) => { for (let i = parts.length - 1; i >= 0; i--) safely(() => parts[i]!.onExit?.(status)) },
    exitStatus: (e) => {
      for (const part of parts) {
        const s = part.exitStatus?.(e)
        if (s) return s
      }
      return undefined
    },
    stats: () => sumStats(parts.map((part) => part.stats?.()).filter((s): s is ExtensionStats => s !== undefined)),
    canHibernate: () => parts.every((part) => part.canHibernate?.() === true),
    onHibernate: () => { for (const part of parts) part.onHibernate?.() },
    onRestore: (inst) => { for (const part of parts) part.onRestore?.(inst) },
  }
}

function sumStats(all: ExtensionStats[]): ExtensionStats {
  let framesIn = 0
  let framesOut = 0
  const denials: Record<string, number> = {}
  const counters: Record<string, number> = {}
  for (const s of all) {
    framesIn += s.framesIn ?? 0
    framesOut += s.framesOut ?? 0
    for (const [k, n] of Object.entries(s.denials ?? {})) denials[k] = (denials[k] ?? 0) + n
    for (const [k, n] of Object.entries(s.counters ?? {})) counters[k] = (counters[k] ?? 0) + n
  }
  return { framesIn, framesOut, denials, ...(Object.keys(counters).length > 0 ? { counters } : {}) }
}

function safely(f: () => void): void {
  try { f() } catch { /* one part's cleanup must not stop the others' */ }
}
