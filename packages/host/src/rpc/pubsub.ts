// PubSub, Topic and Subscription servers over the core pubsub. Topic handles are shared
// per (PubSub capability, name), so joining a name again costs no new core handle.

import { pubsub } from '@ww/schema'
import type { OverflowPolicy } from '../pubsub/mailbox.js'
import type { Message, PubSub, Topic } from '../pubsub/types.js'
import { denied, rpcError } from './errors.js'
import { guard } from './guard.js'
import { freeOnRelease, pumpBatches, revokerServer } from './common.js'
import type { Scope } from './scope.js'
import { retainClient } from '@ww/transport'

const MESSAGE_LIMIT = 1 << 20
const POLICIES: Record<number, OverflowPolicy> = {
  [pubsub.Overflow.BLOCK]: 'block',
  [pubsub.Overflow.DROP_OLDEST]: 'dropOldest',
  [pubsub.Overflow.DROP_NEWEST]: 'dropNewest',
}

export function pubSubServer(core: PubSub, scope: Scope): pubsub.PubSub$Server {
  const topics = new Map<string, pubsub.Topic$Server>()
  return new pubsub.PubSub.Server(guard(scope, 'pubsub', {
    join(p, r) {
      const name = p.getName()
      let t = topics.get(name)
      if (t === undefined) {
        const made = topicServer(core.join(name), scope)
        topics.set(name, made)
        // Released by the peer, it is gone: the next join makes a new one.
        freeOnRelease(made, () => { if (topics.get(name) === made) topics.delete(name) })
        t = made
      }
      r.setTopic(t)
    },
  }))
}

/** Copies a message out of the caller's frame: the one copy every subscriber then shares. */
function own(data: { toUint8Array(): Uint8Array }): Uint8Array {
  const view = data.toUint8Array()
  if (view.byteLength > MESSAGE_LIMIT) throw rpcError('ERR_LIMIT', `message of ${view.byteLength} bytes > ${MESSAGE_LIMIT}`)
  return view.slice()
}

/** A Topic capability; it owns `core` (released with its scope, or when the peer releases it). */
export function topicServer(core: Topic, scope: Scope): pubsub.Topic$Server {
  const free = scope.hold('topics', () => core.release())
  const what = `topic ${core.name}`
  return freeOnRelease(new pubsub.Topic.Server(guard(scope, what, {
    name(_p, r) { r.setName(core.name) },
    async publish(p) {
      if (!core.canPublish) throw denied(`publish on ${core.name}`)
      await core.publish(own(p.getMsg()))
    },
    async publishMany(p) {
      if (!core.canPublish) throw denied(`publish on ${core.name}`)
      const list = p.getMsgs()
      const msgs: Uint8Array[] = []
      for (let i = 0; i < list.getLength(); i++) msgs.push(own(list.get(i)))
      // One at a time, so a `block` subscriber's backpressure applies between messages.
      for (const m of msgs) {
        scope.check(what)
        await core.publish(m)
      }
    },
    subscribe(p, r) {
      if (!core.canSubscribe) throw denied(`subscribe to ${core.name}`)
      const handler = p.getHandler()
      const o = p.getOptions()
      const size = o.getBufferSize() === 0 ? 32 : o.getBufferSize()
      if (size > 65536) throw rpcError('ERR_INVALID_ARGUMENT', `bufferSize ${size} > 65536`)
      const policy = POLICIES[o.getOverflow()]
      if (policy === undefined) throw rpcError('ERR_INVALID_ARGUMENT', `unknown overflow ${o.getOverflow()}`)
      const maxBatch = o.getMaxBatch() === 0 ? 64 : o.getMaxBatch()
      r.setSubscription(subscription(core, scope, retainClient(handler), { capacity: size, policy }, maxBatch))
    },
    canPublish(_p, r) { r.setAllowed(core.canPublish) },
    canSubscribe(_p, r) { r.setAllowed(core.canSubscribe) },
    publishOnly(_p, r) {
      if (!core.canPublish) throw denied(`publishOnly of a topic that cannot publish (${core.name})`)
      const child = scope.child()
      r.setTopic(topicServer(core.publishOnly(), child))
      r.setRevoker(revokerServer(child))
    },
    subscribeOnly(_p, r) {
      if (!core.canSubscribe) throw denied(`subscribeOnly of a topic that cannot subscribe (${core.name})`)
      const child = scope.child()
      r.setTopic(topicServer(core.subscribeOnly(), child))
      r.setRevoker(revokerServer(child))
    },
  })), () => free())
}

function subscription(
  core: Topic, scope: Scope, handler: pubsub.Subscriber$Client,
  opts: { capacity: number; policy: OverflowPolicy }, maxBatch: number,
): pubsub.Subscription$Server {
  const sub = core.subscribe(opts)
  let delivered = 0
  let reported = 0
  let stopped = false
  const release = scope.hold('subscriptions', (reason) => {
    stopped = true
    sub.close()
    if (reason !== undefined) void handler.done((q) => q.setReason(`ERR_REVOKED: ${reason}`)).catch(() => {})
      .finally(() => handler.dispose())
    else handler.dispose()
  })
  const send = async (batch: Message[]): Promise<void> => {
    if (stopped) return
    const dropped = sub.stats().dropped
    await handler.deliver((q) => {
      const l = q.initMessages(batch.length)
      batch.forEach((m, i) => {
        const out = l.get(i)
        out.setData(m.data)
        // The core knows the publishing host, not the process: pid 0 (the host) until it does.
        out.initPublisher().setHost(m.from)
        out.setSeq(BigInt(m.seq))
      })
      q.setDropped(BigInt(dropped - reported))
    })
    reported = dropped
    delivered += batch.length
  }
  const running = pumpBatches(sub[Symbol.asyncIterator](), () => sub.stats().queued, maxBatch, send)
    .catch(() => { /* the subscriber threw or went away: the subscription ends, no done */ })
    .finally(() => release())
  // Released by the peer: unsubscribed (no done; the pump ends on its own).
  return freeOnRelease(new pubsub.Subscription.Server(guard(scope, `subscription to ${core.name}`, {
    async cancel() {
      release()
      await running
    },
    stats(_p, r) {
      const s = sub.stats()
      r.setDelivered(BigInt(delivered))
      r.setDropped(BigInt(s.dropped))
      r.setQueued(s.queued)
    },
  })), () => release())
}
