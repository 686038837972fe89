// A private cluster against a foreign peer: a plain js-libp2p node made here (not a ww
// host: createLibp2p with tcp, noise, yamux, and @libp2p/pnet when it holds the key)
// (and identify and gossipsub) dialling a ww host that runs as its own OS process with a swarm key and an allow-list.
// Without the key it cannot connect; with the key but not on the list it is refused; on
// the list with read-only rights its Peer.exec is ERR_CAP_DENIED and its anchor writes
// fail, while a peer listed with every right can do both (so the denials are the rights).
import '../src/cluster/polyfill.js'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { peer } from '@ww/schema'
import { RemoteError } from '@ww/transport'
import { createLibp2p, type Libp2p } from 'libp2p'
import { generateSwarmKey } from '../src/cluster/trust.js'
import { tinyModule } from '../src/exec/tiny-runtime.js'
import { connectLibp2pStream } from '../src/peer/rpc-stream.js'
import { encodeBatch } from '../src/pubsub/batch.js'
import { HostProc } from './host-proc.js'

const enc = new TextEncoder()
const dir = mkdtempSync(join(tmpdir(), 'ww-trust-'))
const keyFile = join(dir, 'swarm.key')
const swarmKey = generateSwarmKey()
let host: HostProc
let readOnly: PrivateKey, full: PrivateKey, stranger: PrivateKey, reader: PrivateKey, publisher: PrivateKey
const nodes: Libp2p[] = []

/** A plain js-libp2p node: no ww code, the key only if given. */
async function foreign(privateKey: PrivateKey, psk?: string): Promise<Libp2p<{ pubsub: GossipSub }>> {
  const n = await createLibp2p({
    privateKey,
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(psk !== undefined ? { connectionProtector: preSharedKey({ psk: enc.encode(psk) }) } : {}),
    services: { identify: identify(), pubsub: gossipsub({ emitSelf: false, allowPublishToZeroTopicPeers: true, globalSignaturePolicy: 'StrictSign' }) },
  })
  nodes.push(n)
  return n
}

/** 'ok', or the remote error's code and reason. */
const outcome = async (p: PromiseLike<unknown>): Promise<string> => {
  try { await p; return 'ok' } catch (e) { return e instanceof RemoteError ? `${e.remoteCode} ${e.reason}` : String(e) }
}

beforeAll(async () => {
  writeFileSync(keyFile, swarmKey, { mode: 0o600 })
  chmodSync(keyFile, 0o600)
  const keys = await Promise.all(Array.from({ length: 5 }, () => generateKeyPair('Ed25519')))
  ;[readOnly, full, stranger, reader, publisher] = keys as [PrivateKey, PrivateKey, PrivateKey, PrivateKey, PrivateKey]
  host = await HostProc.start([
    '--swarm-key', keyFile,
    '--allow', `${peerIdFromPrivateKey(readOnly).toString()}=read`,
    '--allow', peerIdFromPrivateKey(full).toString(),
    '--allow', `${peerIdFromPrivateKey(reader).toString()}=read`,
    '--allow', `${peerIdFromPrivateKey(publisher).toString()}=pubsub:publish`,
  ])
})

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()))
  await host?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const hostAddr = () => multiaddr(host.addrs[0]!)

// libp2p refuses more than 5 inbound connections per second from one address (its
// connection manager's inboundConnectionThreshold), and every node here dials from
// 127.0.0.1: dials are paced under that, so a refusal is never the rate limiter's.
const dialTimes: number[] = []
async function paced<T>(dial: () => Promise<T>): Promise<T> {
  for (;;) {
    const recent = dialTimes.filter((t) => Date.now() - t < 1100)
    if (recent.length < 4) break
    await new Promise((r) => setTimeout(r, 1100 - (Date.now() - recent[0]!)))
  }
  dialTimes.push(Date.now())
  return dial()
}

// A failure below should say whether the host itself went away (it must not).
beforeEach(() => { expect({ exitCode: host.child.exitCode, signal: host.child.signalCode }).toEqual({ exitCode: null, signal: null }) })

test('without the swarm key a peer cannot connect', async () => {
  const n = await foreign(full) // on the allow-list: only the key is missing
  await expect(paced(() => n.dial(hostAddr(), { signal: AbortSignal.timeout(10_000) }))).rejects.toThrow()
  expect(n.getConnections()).toHaveLength(0)
  expect(await host.call('connected')).not.toContain(n.peerId.toString())
})

test('with another swarm key a peer cannot connect', async () => {
  const n = await foreign(full, generateSwarmKey())
  await expect(paced(() => n.dial(hostAddr(), { signal: AbortSignal.timeout(10_000) }))).rejects.toThrow()
  expect(n.getConnections()).toHaveLength(0)
})

test('with the key but not on the allow-list a peer is refused', async () => {
  const n = await foreign(stranger, swarmKey)
  // The dialler may see its side upgraded before the host's gater ends it: either way it ends.
  const conn = await paced(() => n.dial(hostAddr(), { signal: AbortSignal.timeout(10_000) })).catch(() => undefined)
  await until(() => n.getConnections().length === 0)
  expect(conn?.status ?? 'never opened').not.toBe('open')
  // And the host-to-host protocol is out of reach.
  // (the dial, the stream or the call fails, whichever the host's refusal reaches first)
  expect(await peerOf(n).then((l) => l.p.ping()).then(() => 'reached', () => 'refused')).toBe('refused')
  expect(await host.call('connected')).not.toContain(n.peerId.toString())
})

/** The Peer bootstrap of the host, from `n` over /ww/rpc/1.0.0. */
async function peerOf(n: Libp2p): Promise<{ p: peer.Peer$Client; close(): void }> {
  const stream = await paced(() => n.dialProtocol(hostAddr(), '/ww/rpc/1.0.0', { signal: AbortSignal.timeout(10_000) }))
  const conn = connectLibp2pStream(stream, { name: 'foreign' })
  return { p: conn.bootstrap(peer.Peer), close: () => conn.close() }
}

const exec = (p: peer.Peer$Client, self: string) => p.exec((q) => {
  // The parent names the caller itself: the only reason left to refuse is the caller's rights.
  const parent = q.initParent()
  parent.setHost(self)
  parent.setPid(1n)
  q.initBytecode().setInline(tinyModule({ exit: 0 }))
}).getProcess().pid()

test('with the key and read-only rights: Peer.exec is ERR_CAP_DENIED and anchor writes fail; reads work', async () => {
  const n = await foreign(readOnly, swarmKey)
  const { p, close } = await peerOf(n)
  try {
    await p.ping()
    expect(await outcome(exec(p, n.peerId.toString()))).toMatch(/^ERR_CAP_DENIED .*lacks the right exec/)
    const root = p.anchors().getRoot()
    expect(await outcome(root.walk((q) => q.setPath('from-foreign')).getAnchor().set((q) => q.initValue().setData(enc.encode('x'))))).toMatch(/^ERR_CAP_DENIED .*read-only/)
    expect((await root.writable()).getWritable()).toBe(false)
    expect(await host.call('anchorLoad', { path: 'from-foreign' })).toBeNull()
    // Reading is what read-only rights are for.
    await host.call('anchorStore', { path: 'public', value: 'hello' })
    const got = await root.walk((q) => q.setPath('public')).getAnchor().get()
    expect(new TextDecoder().decode(got.getValue().getData().toUint8Array())).toBe('hello')
  } finally {
    close()
  }
})

test('with the key and every right: the same calls succeed', async () => {
  const n = await foreign(full, swarmKey)
  const { p, close } = await peerOf(n)
  try {
    expect(await outcome(exec(p, n.peerId.toString()))).toBe('ok')
    const root = p.anchors().getRoot()
    await root.walk((q) => q.setPath('from-full')).getAnchor().set((q) => q.initValue().setData(enc.encode('y')))
    expect(await host.call('anchorLoad', { path: 'from-full' })).toBe('y')
  } finally {
    close()
  }
})

test('gossipsub: a read-only peer\'s messages on a topic are dropped by the validator, a publisher\'s delivered', async () => {
  await host.call('subscribe', { topic: 'news' })
  const topic = '/ww/topic/news'
  const ro = await foreign(reader, swarmKey)
  const fu = await foreign(publisher, swarmKey)
  for (const n of [ro, fu]) {
    n.services.pubsub.subscribe(topic)
    await paced(() => n.dial(hostAddr(), { signal: AbortSignal.timeout(10_000) }))
  }
  // Each sends once the host is among its topic's peers (else gossipsub sends to no one).
  const hostId = host.id
  for (const n of [ro, fu]) {
    await until(() => n.services.pubsub.getSubscribers(topic).some((s) => s.toString() === hostId))
  }
  const before = await host.call<number>('dropped')
  await ro.services.pubsub.publish(topic, encodeBatch([{ seq: 1, data: enc.encode('from read-only') }]))
  await until(async () => (await host.call<number>('dropped')) > before)
  await fu.services.pubsub.publish(topic, encodeBatch([{ seq: 1, data: enc.encode('from a publisher') }]))
  await host.waitFor((e) => e.ev === 'msg' && e.from === fu.peerId.toString(), 'the publisher\'s message')
  expect(host.events.filter((e) => e.ev === 'msg' && e.from === ro.peerId.toString())).toEqual([])
})

async function until(cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}
