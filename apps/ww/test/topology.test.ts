// Two `ww host` OS processes in one js-libp2p cluster, each with its web view: the topology
// each view shows (both hosts, their link with the round trip each end measured on
// libp2p's ping protocol), a monitor made on A of a process on B listed in both views,
// and the link going down when B stops. Every step waits for a state, never a clock.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { process as capProcess } from '@ww/schema'
import { connectHost } from '../src/client.js'
import type { MonitorRow } from '../src/host/status.js'
import type { Topology } from '../src/ui/topology.js'
import { removeHome, startHost, writeGuests, type HostChild } from './hosts.js'

const HANG = 120_000

interface Snapshot { self: string; topology: Topology; hosts: Array<{ id: string; monitors: MonitorRow[] }> }

let a: HostChild, b: HostChild
let idA: string, idB: string, urlA: string, urlB: string

const snapshot = async (url: string): Promise<Snapshot> => await (await fetch(`${url}api/snapshot`)).json() as Snapshot
/** Polls `url`'s snapshot until `pred` holds (a short pause between polls: the hosts publish once a second). */
async function until(url: string, pred: (s: Snapshot) => boolean): Promise<Snapshot> {
  for (;;) {
    const s = await snapshot(url)
    if (pred(s)) return s
    await new Promise((r) => setTimeout(r, 100))
  }
}
const linkAB = (s: Snapshot) => s.topology.links.find((l) => [l.a, l.b].sort().join() === [idA, idB].sort().join())
const measured = (s: Snapshot): boolean => { const l = linkAB(s); return l !== undefined && l.up && l.rttAB !== null && l.rttBA !== null }

beforeAll(async () => {
  a = startHost(['--listen', '/ip4/127.0.0.1/tcp/0', '--ttl', '60s', '--ui'])
  const ra = await a.ready()
  idA = String(ra.id)
  urlA = String(ra.ui)
  b = startHost(['--join', (ra.addresses as string[])[0]!, '--ttl', '60s', '--ui'])
  const rb = await b.ready()
  idB = String(rb.id)
  urlB = String(rb.ui)
  await a.next((e) => e.event === 'join' && e.host === idB, 'B joined A')
  await writeGuests(a.home)
}, HANG)

afterAll(async () => {
  for (const h of [b, a]) if (h) { await h.stop(); removeHome(h) }
})

test('each host\'s view shows both hosts and their link, with the round trip each end measured', async () => {
  for (const [url, self, other] of [[urlA, idA, idB], [urlB, idB, idA]] as const) {
    const s = await until(url, measured)
    expect(s.topology.hosts).toEqual(expect.arrayContaining([{ id: self, reach: 'self' }, { id: other, reach: 'up' }]))
    expect(s.topology.hosts).toHaveLength(2)
    const l = linkAB(s)!
    // Each end's measurement is there (an unmeasured one is null); its size is not asserted.
    expect([l.rttAB, l.rttBA]).toEqual([expect.any(Number), expect.any(Number)])
  }
}, HANG)

test('a monitor A\'s operator holds on a process running on B is listed in both hosts\' views until it fires', async () => {
  await using s = await connectHost(undefined, { WW_HOME: a.home })
  const spin = readFileSync(join(a.home, 'spin.wasm'))
  const proc = s.host.executor().getExecutor().exec((p) => {
    p.initBytecode().setInline(spin)
    const o = p.initOptions()
    o.setName('watched')
    o.setWhere(idB)
  }).getProcess()
  const ref = (await proc.pid()).getSelf()
  expect(ref.getHost()).toBe(idB)
  const watched = `${idB}/${ref.getPid()}`
  let fired!: () => void
  const exited = new Promise<void>((r) => { fired = r })
  await proc.monitor((q) => q.setHandler(new capProcess.ExitHandler.Server({ exited() { fired() } })))
  const listed = (snap: Snapshot): boolean => snap.hosts.some((h) => h.monitors.some((m) => m.by === `${idA}/0` && m.of === watched))
  await until(urlA, listed)
  await until(urlB, listed)
  await proc.kill()
  await exited
  await until(urlA, (snap) => !listed(snap))
}, HANG)

test('a host that stops: the other\'s view marks the link down and the host unreachable', async () => {
  await until(urlA, measured)
  expect(await b.stop()).toBe(0)
  const s = await until(urlA, (snap) => linkAB(snap)?.up === false)
  expect(s.topology.hosts).toEqual([{ id: idA, reach: 'self' }, { id: idB, reach: 'unreachable' }])
  // Why, as A saw it: the connection closed, or (when that raced a ping) the echo failed.
  expect(linkAB(s)!.error).toMatch(/^(disconnected|no echo: .+)$/)
}, HANG)
