// `ww host --join` keeps dialling the hosts it joins through until they answer, within its
// bound (tools/cluster-faults README, finding 19): a fleet started at once on a loaded machine
// meets hosts not yet listening. Before, a host gave up after 15 s.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadIdentity, peerIdOf } from '@ww/host'
import { JoinTimeoutError, startHost, type RunningHost } from '../src/host/node.js'

const dirs: string[] = []
const hosts: RunningHost[] = []
afterAll(async () => {
  for (const h of hosts) await h.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})
const home = (): string => { const d = mkdtempSync(join(tmpdir(), 'ww-join-')); dirs.push(d); return d }

/** A TCP port free on loopback now (nothing listens there until a host is started on it). */
const freePort = (): Promise<number> => new Promise((resolve, reject) => {
  const s = createServer()
  s.once('error', reject)
  s.listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => resolve(typeof a === 'object' && a ? a.port : 0)) })
})

test('a host joining through one that starts 17 s later joins (past the old 15 s bound)', async () => {
  const seedHome = home()
  const key = await loadIdentity(join(seedHome, 'identity.key'), { create: true })
  const port = await freePort()
  const addr = `/ip4/127.0.0.1/tcp/${port}/p2p/${peerIdOf(key)}`
  const progress: string[] = []
  const joining = startHost({ home: home(), join: [addr], onProgress: (l) => progress.push(l) })
  joining.then((h) => hosts.push(h), () => {})
  await new Promise((r) => setTimeout(r, 17_000)) // nothing listens at addr meanwhile
  const seed = await startHost({ home: seedHome, listen: [`/ip4/127.0.0.1/tcp/${port}`], privateKey: key })
  hosts.push(seed)
  const joiner = await joining
  expect(joiner.cluster.view.get(seed.cluster.id)).toBeDefined()
  expect(progress.at(-1)).toMatch(/^joined: the cluster has 2 host\(s\)$/)
}, 120_000)

test('past the bound: JoinTimeoutError names the address, how often it was tried and the last failure', async () => {
  const key = await loadIdentity(join(home(), 'identity.key'), { create: true })
  const addr = `/ip4/127.0.0.1/tcp/${await freePort()}/p2p/${peerIdOf(key)}`
  const err = await startHost({ home: home(), join: [addr], joinTimeoutMs: 3000 }).then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(JoinTimeoutError)
  const e = err as JoinTimeoutError
  expect(e.code).toBe('ERR_HOST_START')
  expect(e.tried).toHaveLength(1)
  expect(e.tried[0]).toMatchObject({ address: addr, connected: false })
  expect(e.tried[0]!.attempts).toBeGreaterThan(1) // dialled again after the first refusal
  expect(e.tried[0]!.lastError).toEqual(expect.any(String))
  expect(e.message).toContain(addr)
}, 60_000)
