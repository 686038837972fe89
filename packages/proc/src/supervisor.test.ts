import { Scheduler, Supervisor, type ProcModule } from './index.js'
import * as G from './bench/guests.js'
import { until } from '../test/until.js'

let s: Scheduler
let trap: ProcModule
let waiter: ProcModule
beforeAll(async () => {
  s = new Scheduler()
  trap = await s.compile(await G.wat(G.TRAP))
  waiter = await s.compile(await G.wat(G.EXIT_WITH_FIRST_BYTE))
})
afterAll(() => s.close())

test('a crashed child is restarted one-for-one; its sibling keeps running', async () => {
  let crashes = 0
  const sup = new Supervisor(s, {
    maxRestarts: 100, withinMs: 1000,
    children: [
      // Crashes twice, then runs (waits for a message) from the third start on.
      { id: 'flaky', start: (parent) => s.spawn(crashes++ < 2 ? trap : waiter, { parent }) },
      { id: 'steady', start: (parent) => s.spawn(waiter, { parent }) },
    ],
  })
  const steady = sup.child('steady')!
  await until(() => sup.child('flaky')?.state === 'waiting') // its third start, the one that runs
  expect(sup.restarts).toBe(2)
  expect(sup.child('steady')).toBe(steady)
  const flaky = sup.child('flaky')!
  expect(flaky.state).toBe('waiting')
  expect(flaky.parent).toBe(sup.pid)
  await sup.close()
  expect(await sup.wait()).toEqual({ kind: 'exited', code: 0 })
  expect(await flaky.wait()).toEqual({ kind: 'killed', by: { kind: 'parent', pid: sup.pid } })
  expect(await steady.wait()).toMatchObject({ kind: 'killed' })
})

test('past the restart intensity the supervisor exits with limit(restarts), taking its children', async () => {
  const sup = new Supervisor(s, {
    maxRestarts: 3, withinMs: 10_000,
    children: [
      { id: 'crasher', start: (parent) => s.spawn(trap, { parent }) },
      { id: 'bystander', start: (parent) => s.spawn(waiter, { parent }) },
    ],
  })
  const bystander = sup.child('bystander')!
  expect(await sup.wait()).toMatchObject({ kind: 'limit', which: 'restarts' })
  expect(sup.restarts).toBe(3)
  expect(await bystander.wait()).toEqual({ kind: 'killed', by: { kind: 'parent', pid: sup.pid } })
})

test('transient children that exit normally are not restarted; temporary ones never', async () => {
  let starts = 0
  const sup = new Supervisor(s, {
    children: [
      { id: 'once', restart: 'transient', start: (parent) => { starts++; const h = s.spawn(waiter, { parent }); h.trySend(new Uint8Array([0])); return h } },
      { id: 'temp', restart: 'temporary', start: (parent) => { starts++; return s.spawn(trap, { parent }) } },
    ],
  })
  const once = sup.child('once')!, temp = sup.child('temp')!
  await Promise.all([once.wait(), temp.wait()])
  // Both 'down' messages handled: each child is forgotten, or replaced had it been restarted.
  await until(() => sup.child('once') !== once && sup.child('temp') !== temp)
  expect(sup.child('once')).toBeUndefined()
  expect(sup.child('temp')).toBeUndefined()
  expect(starts).toBe(2)
  expect(sup.restarts).toBe(0)
  expect(sup.self.state).toBe('running')
  await sup.close()
})
