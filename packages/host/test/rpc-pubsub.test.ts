// PubSub over RPC: join, publish, subscribe with batched, flow-controlled delivery.
import { Message, type Data } from 'capnp-ts'
import { pubsub as capPubsub } from '@ww/schema'
import { embeddedCluster, type Cluster, type Message as CoreMessage } from '../src/index.js'
import { codeOf, dec, enc, rig, tick, type Rig } from './rpc-rig.js'

/** A Subscriber that records batches; `gate` (when set) holds each deliver until opened. */
function recorder(): { server: capPubsub.Subscriber$Server; got: string[]; batches: number[]; dropped: bigint[]; done: string[]; hold: (on: boolean) => void } {
  const got: string[] = []
  const batches: number[] = []
  const dropped: bigint[] = []
  const done: string[] = []
  let gate: Promise<void> | undefined
  let open: (() => void) | undefined
  const server = new capPubsub.Subscriber.Server({
    async deliver(p) {
      const l = p.getMessages()
      batches.push(l.getLength())
      dropped.push(p.getDropped())
      for (let i = 0; i < l.getLength(); i++) got.push(`${l.get(i).getSeq()}:${dec.decode(l.get(i).getData().toUint8Array())}`)
      if (gate !== undefined) await gate
    },
    done(p) { done.push(p.getReason()) },
  })
  const hold = (on: boolean): void => {
    if (on) gate = new Promise((r) => { open = r })
    else { gate = undefined; open?.() }
  }
  return { server, got, batches, dropped, done, hold }
}

async function until(f: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !f(); i++) await tick()
}

describe('PubSub over RPC', () => {
  let c: Cluster
  let r: Rig
  beforeEach(() => { c = embeddedCluster({ id: 'host-a' }); r = rig(c) })
  afterEach(async () => { r.client.close(); r.hc.close(); await c.close() })

  test('publish reaches a JS core subscriber and an RPC subscriber, in order', async () => {
    const seen: string[] = []
    const coreSub = c.pubsub.join('news').subscribe({ capacity: 64, handler: (m: CoreMessage) => { seen.push(dec.decode(m.data)) } })
    const topic = r.host.pubSub().getPubSub().join((p) => p.setName('news')).getTopic()
    expect((await topic.name()).getName()).toBe('news')
    const rec = recorder()
    const sub = (await topic.subscribe((p) => { p.setHandler(rec.server); p.initOptions().setBufferSize(64) })).getSubscription()
    for (let i = 1; i <= 5; i++) await topic.publish((p) => p.setMsg(enc.encode(`m${i}`)))
    await topic.publishMany((p) => { const l = p.initMsgs(2); l.set(0, toData('m6')); l.set(1, toData('m7')) })
    await until(() => rec.got.length === 7 && seen.length === 7)
    expect(seen).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'])
    expect(rec.got).toEqual(['1:m1', '2:m2', '3:m3', '4:m4', '5:m5', '6:m6', '7:m7'])
    const st = await sub.stats()
    expect([st.getDelivered(), st.getDropped(), st.getQueued()]).toEqual([7n, 0n, 0])
    coreSub.close()
  })

  test('flow control: one deliver outstanding; what queued meanwhile comes as one batch', async () => {
    const topic = r.host.pubSub().getPubSub().join((p) => p.setName('t')).getTopic()
    const rec = recorder()
    rec.hold(true)
    await topic.subscribe((p) => { p.setHandler(rec.server); const o = p.initOptions(); o.setBufferSize(32); o.setMaxBatch(4) })
    await topic.publish((p) => p.setMsg(enc.encode('a')))
    await until(() => rec.batches.length === 1)
    for (const m of ['b', 'c', 'd', 'e', 'f']) await topic.publish((p) => p.setMsg(enc.encode(m)))
    await tick(); await tick()
    expect(rec.batches).toEqual([1]) // the first deliver has not returned: nothing more was sent
    rec.hold(false)
    await until(() => rec.got.length === 6)
    expect(rec.batches).toEqual([1, 4, 1])
    expect(rec.got.map((s) => s.split(':')[1])).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
  })

  test('dropNewest counts drops and reports them in deliver(…, dropped)', async () => {
    const topic = r.host.pubSub().getPubSub().join((p) => p.setName('lossy')).getTopic()
    const rec = recorder()
    rec.hold(true)
    await topic.subscribe((p) => { p.setHandler(rec.server); const o = p.initOptions(); o.setBufferSize(2); o.setOverflow(capPubsub.Overflow.DROP_NEWEST) })
    await topic.publish((p) => p.setMsg(enc.encode('0')))
    await until(() => rec.batches.length === 1)
    for (let i = 1; i <= 5; i++) await topic.publish((p) => p.setMsg(enc.encode(String(i))))
    rec.hold(false)
    await until(() => rec.got.length === 3)
    expect(rec.got).toEqual(['1:0', '2:1', '3:2'])
    expect(rec.dropped).toEqual([0n, 3n])
  })

  test('cancel stops delivery and frees the core subscription', async () => {
    const topic = r.host.pubSub().getPubSub().join((p) => p.setName('c')).getTopic()
    const rec = recorder()
    const sub = (await topic.subscribe((p) => p.setHandler(rec.server))).getSubscription()
    expect(c.pubsub.stats().subscriptions).toBe(1)
    expect(r.hc.live().subscriptions).toBe(1)
    await topic.publish((p) => p.setMsg(enc.encode('before')))
    await until(() => rec.got.length === 1)
    await sub.cancel()
    await sub.cancel() // idempotent
    expect(c.pubsub.stats().subscriptions).toBe(0)
    expect(r.hc.live().subscriptions).toBe(0)
    await topic.publish((p) => p.setMsg(enc.encode('after')))
    await tick(); await tick()
    expect(rec.got).toEqual(['1:before'])
    expect(rec.done).toEqual([])
  })

  test('a subscriber that throws ends its subscription (no done)', async () => {
    const topic = r.host.pubSub().getPubSub().join((p) => p.setName('x')).getTopic()
    let calls = 0
    const bad = new capPubsub.Subscriber.Server({ deliver() { calls++; throw new Error('nope') }, done() { throw new Error('done must not be called') } })
    await topic.subscribe((p) => p.setHandler(bad))
    await topic.publish((p) => p.setMsg(enc.encode('1')))
    await until(() => c.pubsub.stats().subscriptions === 0)
    await topic.publish((p) => p.setMsg(enc.encode('2')))
    await tick(); await tick()
    expect(calls).toBe(1)
    expect(r.hc.live().subscriptions).toBe(0)
  })

  test('publishOnly / subscribeOnly: denied methods, no widening, revocation ends streams with done', async () => {
    const topic = r.host.pubSub().getPubSub().join((p) => p.setName('att')).getTopic()
    const po = await topic.publishOnly()
    const pub = po.getTopic()
    expect((await pub.canPublish()).getAllowed()).toBe(true)
    expect((await pub.canSubscribe()).getAllowed()).toBe(false)
    expect(await codeOf(pub.subscribe((p) => p.setHandler(recorder().server)))).toBe('ERR_CAP_DENIED')
    expect(await codeOf(pub.subscribeOnly())).toBe('ERR_CAP_DENIED')
    const so = await topic.subscribeOnly()
    const subOnly = so.getTopic()
    expect(await codeOf(subOnly.publish((p) => p.setMsg(enc.encode('x'))))).toBe('ERR_CAP_DENIED')
    expect(await codeOf(subOnly.publishOnly())).toBe('ERR_CAP_DENIED')
    const rec = recorder()
    await subOnly.subscribe((p) => p.setHandler(rec.server))
    await pub.publish((p) => p.setMsg(enc.encode('via publish-only')))
    await until(() => rec.got.length === 1)
    expect(rec.got).toEqual(['1:via publish-only'])
    await so.getRevoker().revoke((p) => p.setReason('enough'))
    await until(() => rec.done.length === 1)
    expect(rec.done).toEqual(['ERR_REVOKED: enough'])
    expect(await codeOf(subOnly.name())).toBe('ERR_REVOKED')
    expect(c.pubsub.stats().subscriptions).toBe(0)
    // The publish-only sibling and the original are untouched.
    await pub.publish((p) => p.setMsg(enc.encode('still')))
    expect((await topic.canSubscribe()).getAllowed()).toBe(true)
  })

  test('a topic name the core refuses is ERR_INVALID_ARGUMENT; an oversized message ERR_LIMIT', async () => {
    const ps = r.host.pubSub().getPubSub()
    expect(await codeOf(ps.join((p) => p.setName('')))).toBe('ERR_INVALID_ARGUMENT')
    const t = ps.join((p) => p.setName('big')).getTopic()
    expect(await codeOf(t.publish((p) => p.setMsg(new Uint8Array((1 << 20) + 1))))).toBe('ERR_LIMIT')
  })
})

/** Data to put in a List(Data): built in a scratch message, copied by the list's set. */
function toData(s: string): Data {
  const tmp = new Message().initRoot(capPubsub.Topic_publish$Params)
  tmp.setMsg(enc.encode(s))
  return tmp.getMsg()
}
