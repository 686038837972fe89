// Composition with @ww/transport: a real AssemblyScript guest (the @ww/guest SDK's
// echo-client, before asyncify) metered and asyncified by the scheduler, speaking Cap'n
// Proto RPC through its own memory with a GuestConnection that waits through the
// scheduler. The Echo server answers later (a timer), so the guest really parks.
import { GuestConnection, jspiAvailable } from '@ww/transport'
import type { testing } from '@ww/schema'
import { newEcho } from '@ww/schema/testing'
import { guestBytes } from '@ww/guest'
import { describeStatus, Scheduler, type ProcessExtension } from '../src/index.js'
import * as G from '../src/bench/guests.js'

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1))

const echoServer = (calls: string[]): testing.Echo$Server => newEcho({ calls, later: true })

function transport(calls: string[]): (ctx: { pid: number; suspender: import('@ww/transport').Suspender }) => ProcessExtension {
  return (ctx) => {
    const conn = new GuestConnection({ processId: ctx.pid, bootstrap: echoServer(calls), suspension: ctx.suspender })
    return {
      imports: { ...conn.imports(), env: { abort: () => { throw new Error('guest abort') } } },
      attach: (inst) => conn.attach(inst),
      onExit: (st) => { if (st.kind === 'exited') conn.close(); else conn.kill(new Error(describeStatus(st))) },
      stats: () => ({ counters: { rpcCalls: conn.rpc.stats.callsIn + conn.rpc.stats.callsOut } }),
    }
  }
}

test('an SDK guest calls Host-side capabilities over RPC while a runaway neighbour is preempted', async () => {
  await using s = new Scheduler()
  const mod = await s.compile(await guestBytes('echo-client', { asyncify: false }), { suspendingImports: ['ww.recv'] })
  expect(mod.meter.asyncified).toBe(!jspiAvailable()) // 'auto': JSPI where the engine has it
  // A fuel budget (the scheduler's clock), not a 3 s deadline that a loaded machine can spend
  // before the guests are done: far more than the slices it gets beside them, so it can only
  // have ended first by holding the thread.
  const spin = s.spawn(await s.compile(await G.wat(G.SPIN)), { fuel: 5_000_000_000 })
  const calls: string[][] = [[], []]
  const guests = calls.map((c) => s.spawn(mod, { extend: transport(c) }))
  const statuses = await Promise.all(guests.map((g) => g.wait()))
  expect(statuses).toEqual([{ kind: 'exited', code: 0 }, { kind: 'exited', code: 0 }])
  for (const c of calls) expect(c).toEqual(['ping', 'ping', 'ping', 'echo', 'counter', 'add', 'add', 'add', 'ping'])
  expect(guests[0]!.info().slices).toBeGreaterThan(1) // it parked in ww.recv and was resumed
  expect(guests[0]!.info().extension!.rpcCalls).toBeGreaterThanOrEqual(9) // the extension's counters, in ps
  expect(spin.state).toBe('running')
  await spin.kill()
})

test('a guest killed while it waits for an RPC answer ends as killed; its connection closes', async () => {
  await using s = new Scheduler()
  const mod = await s.compile(await guestBytes('echo-client', { asyncify: false }), { suspendingImports: ['ww.recv'] })
  const calls: string[] = []
  const g = s.spawn(mod, { extend: transport(calls) })
  while (g.state !== 'waiting' && g.state !== 'exited') await tick()
  expect(await g.kill()).toEqual({ kind: 'killed', by: { kind: 'host' } })
  await tick()
  expect(calls.length).toBeLessThan(9)
})
