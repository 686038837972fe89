// The in-thread composition → worker composition bridge: what carries over unchanged, and
// what a worker cannot be handed (a live stdin of the host's thread) refused by name.
import { DEFAULT_POLICY, MemoryListener } from '@ww/wasi-restricted'
import { restrictedWasi } from '@ww/proc'
import { HostWorkersError, poolGuestParts, type GuestParts } from './processes.js'

test('policy, sinks, limits and name reach the worker composition as they are', () => {
  const stdout = { write: () => true, writable: () => Promise.resolve() }
  const g: GuestParts = { policy: DEFAULT_POLICY, stdout, stderr: stdout, memoryPages: 32, fuel: 1e9, deadlineMs: 5000, name: 'n', entry: '_start', trapExits: true }
  const p = poolGuestParts(g)
  expect(p).toEqual(g)
  expect(p.stdout).toBe(stdout)
})

test('a live stdin is refused with ERR_NOT_ON_WORKERS, naming it; sockets (served to the worker) and plugins carry over', () => {
  const stdin = { read: () => Promise.resolve(new Uint8Array()) } as unknown as NonNullable<GuestParts['stdin']>
  const attempt = (): unknown => poolGuestParts({ stdin })
  expect(attempt).toThrow(HostWorkersError)
  expect(attempt).toThrow(/cannot be handed stdin; start it without --workers/)
  try { attempt() } catch (e) { expect((e as HostWorkersError).code).toBe('ERR_NOT_ON_WORKERS') }
  // Sockets go as they are: spawnPoolGuest serves them to the worker over ports.
  const sockets = [new MemoryListener()]
  expect(poolGuestParts({ sockets }).sockets).toBe(sockets)
  // A plugin goes as it is: spawnPoolGuest sends its spec, and refuses one without (ERR_PLUGIN_THREAD).
  const plugins = [restrictedWasi()]
  expect(poolGuestParts({ plugins }).plugins).toBe(plugins)
})
