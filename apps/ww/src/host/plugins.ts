// `--plugin MODULE[#EXPORT][=JSON]`: a plugin (PLUGINS.md) named on the command line,
// loaded before anything starts, so a module that is missing or is no plugin stops the
// command with its PluginError (exit 2) instead of failing each process later.
import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { loadPlugin, type PluginSpec, type ProcessPlugin } from '@ww/interface'
import { UsageError } from '../command.js'

export const PLUGIN_FORM = 'MODULE[#EXPORT][=JSON]: a file path (./my-plugin.js) or package name, the export (default `default`), and JSON options for its factory'

/**
 * The spec `--plugin` names. A path (./x.js, /abs/x.js) becomes a file URL from `cwd`,
 * so a worker thread imports the same file; anything else (a package name, a URL) is
 * given to `import()` as written.
 */
export function parsePluginArg(text: string, cwd: string): PluginSpec {
  const hash = text.indexOf('#')
  const where = hash === -1 ? text : text.slice(0, hash)
  const after = hash === -1 ? '' : text.slice(hash + 1)
  const eq = after.indexOf('=')
  const name = eq === -1 ? after : after.slice(0, eq)
  if (where === '') throw new UsageError(`--plugin '${text}' names no module`, `the form is ${PLUGIN_FORM}`)
  let options: unknown
  if (eq !== -1) {
    try {
      options = JSON.parse(after.slice(eq + 1))
    } catch (e) {
      throw new UsageError(`--plugin '${text}': its options are not JSON (${(e as Error).message})`, `the form is ${PLUGIN_FORM}`)
    }
  }
  const path = where.startsWith('.') || isAbsolute(where)
  return {
    module: path ? pathToFileURL(resolve(cwd, where)).href : where,
    ...(name !== '' ? { export: name } : {}),
    ...(options !== undefined ? { options } : {}),
  }
}

/** Loads every `--plugin` (PluginError on the first that fails: ERR_PLUGIN_LOAD, ERR_PLUGIN_SHAPE). */
export async function loadPluginArgs(args: readonly string[], cwd: string): Promise<ProcessPlugin[]> {
  const plugins: ProcessPlugin[] = []
  for (const a of args) plugins.push(await loadPlugin(parsePluginArg(a, cwd)))
  return plugins
}
