// loadPlugin: the one loader every runtime uses. A module's export is called with the
// spec's options and must build a ProcessPlugin; anything else is a PluginError whose
// code says which (ERR_PLUGIN_LOAD: cannot import, or the factory threw; ERR_PLUGIN_SHAPE).
import { describePluginSpec, loadPlugin, PluginError, type PluginSpec } from './index.js'

const fixtures = new URL('./fixtures/plugins.mjs', import.meta.url).href
const at = (exportName?: string, options?: unknown): PluginSpec => ({ module: fixtures, ...(exportName ? { export: exportName } : {}), ...(options !== undefined ? { options } : {}) })
const ctx = { pid: 7, suspender: undefined as never }

test('the default export, called with the options, is the plugin; it carries its spec (for a worker to load it again)', async () => {
  const spec = at(undefined, { value: 5 })
  const p = await loadPlugin(spec)
  expect(p).toMatchObject({ name: 'good', provides: ['good'], spec })
  expect(typeof p.check).toBe('function')
  expect((p.create(ctx).imports!.good!.value as () => number)()).toBe(5)
})

test('a plugin that is a class instance keeps its methods and private fields', async () => {
  const p = await loadPlugin(at('asClass', { value: 9 }))
  expect(p).toMatchObject({ name: 'class', provides: ['class'] })
  expect((p.create(ctx).imports!.class!.value as () => number)()).toBe(9)
})

test.each([
  ['notAFunction', /exports no function notAFunction/],
  ['missing', /exports no function missing/],
  ['buildsNothing', /built no ProcessPlugin \(got undefined\)/],
  ['noCreate', /no create/],
  ['badProvides', /provides is not a list/],
])('export %s is no plugin: ERR_PLUGIN_SHAPE', async (name, message) => {
  const e = await loadPlugin(at(name)).catch((x: unknown) => x)
  expect(e).toBeInstanceOf(PluginError)
  expect(e).toMatchObject({ code: 'ERR_PLUGIN_SHAPE', message: expect.stringMatching(message) })
})

test('a module that cannot be imported, or a factory that refuses its options, is ERR_PLUGIN_LOAD with the cause', async () => {
  const missing = await loadPlugin({ module: new URL('./fixtures/no-such.mjs', import.meta.url).href }).catch((x: unknown) => x)
  expect(missing).toMatchObject({ name: 'PluginError', code: 'ERR_PLUGIN_LOAD' })
  const refused = await loadPlugin(at('refuses')).catch((x: unknown) => x) as PluginError
  expect(refused.code).toBe('ERR_PLUGIN_LOAD')
  expect(refused.cause).toBeInstanceOf(RangeError)
  expect(refused.message).toContain(describePluginSpec(at('refuses')))
})
