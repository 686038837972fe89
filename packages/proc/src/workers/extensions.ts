// The plugins a spawn names, loaded inside the worker that runs it. Functions and live
// objects cannot cross threads, so a spawner sends each plugin's PluginSpec (its module
// and cloneable options) and the worker loads it exactly as the spawner's thread did
// (@ww/interface's loadPlugin: the module imported once per thread, its factory called
// with the options of this spawn).

import { loadPlugin, type PluginSpec, type ProcessPlugin } from '@ww/interface'

export function loadExtensions(specs: readonly PluginSpec[]): Promise<ProcessPlugin[]> {
  return Promise.all(specs.map(loadPlugin))
}
