import { RefCount } from '../caps.js'
import { CapDeniedError, InvalidArgumentError, ReleasedError } from '../errors.js'
import { bounded, type CallOptions } from '../util/abort.js'
import { Mailbox, RESOLVED } from './mailbox.js'
import type {
  HostId, Message, PubSub, PubSubNetwork, PubSubStats, SubscribeOptions, Subscription, Topic,
} from './types.js'

const TOPIC_NAME = /^[\x21-\x7e]{1,200}$/

export interface PubSubInit {
  self: HostId
  /** Carries messages to and from other hosts; absent for an embedded host. */
  network?: PubSubNetwork
  onError?: (e: unknown) => void
}

/** Topic state shared by every handle and subscription of one topic on this host. */
class TopicState {
  readonly name: string
  readonly subs = new Set<Mailbox<Message>>()
  // Snapshot array for the hot path, rebuilt on (rare) subscribe/unsubscribe.
  subsArr: Array<Mailbox<Message>> = []
  seq = 0
  readonly refs: RefCount
  constructor(name: string, free: () => void) {
    this.name = name
    this.refs = new RefCount(free)
  }
}

/**
 * Pubsub for one host: in-process fan-out to local subscribers (the whole story on an
 * embedded host) plus, when a network is given, the same messages to and from other hosts.
 * Local subscribers get local messages directly — never through the network — so ordering
 * per publisher holds and the local path stays cheap.
 */
export function createPubSub(init: PubSubInit): PubSub {
  const { self, network } = init
  const onError = init.onError ?? (() => {})
  const topics = new Map<string, TopicState>()
  /** The last seq this host published with, per topic no longer joined here (one number per topic ever published on). */
  const lastSeq = new Map<string, number>()
  let published = 0
  let received = 0
  let subscriptions = 0

  function state(name: string): TopicState {
    let t = topics.get(name)
    if (t) return t
    const fresh = new TopicState(name, () => {
      topics.delete(name)
      if (fresh.seq > 0) lastSeq.set(name, fresh.seq)
      network?.leave(name)
    })
    // This host's sequence on a topic goes on across the topic's lives here: other hosts
    // order and de-duplicate by (host, seq), so restarting at 1 when a publisher that came
    // and went (`ww pub`) left the topic unused made them drop every later message as seen.
    fresh.seq = lastSeq.get(name) ?? 0
    topics.set(name, fresh)
    network?.join(name, (from, seq, data) => {
      received++
      fanOut(fresh, { topic: name, from, seq, data })
    })
    return fresh
  }

  function fanOut(t: TopicState, m: Message): Promise<void> {
    const subs = t.subsArr
    if (subs.length === 1) return subs[0]!.offer(m) ?? RESOLVED
    let waits: Array<Promise<void>> | undefined
    for (let i = 0; i < subs.length; i++) {
      const w = subs[i]!.offer(m)
      if (w) (waits ??= []).push(w)
    }
    return waits ? Promise.all(waits).then(() => {}) : RESOLVED
  }

  function handle(t: TopicState, canPublish: boolean, canSubscribe: boolean): Topic {
    t.refs.retain()
    let released = false
    const check = (): void => { if (released) throw new ReleasedError(`topic ${t.name}`) }
    const topic: Topic = {
      name: t.name,
      canPublish,
      canSubscribe,
      publish(data: Uint8Array): Promise<void> {
        if (released) return Promise.reject(new ReleasedError(`topic ${t.name}`))
        if (!canPublish) return Promise.reject(new CapDeniedError(`publish on ${t.name}`))
        if (!(data instanceof Uint8Array)) return Promise.reject(new InvalidArgumentError('data must be a Uint8Array'))
        // Over this host's flood limit: refused whole (not delivered here either), its seq unused.
        if (network?.admit) try { network.admit(t.name, data.byteLength) } catch (e) { return Promise.reject(e) }
        const seq = ++t.seq
        published++
        network?.publish(t.name, seq, data)
        return t.subsArr.length === 0 ? RESOLVED : fanOut(t, { topic: t.name, from: self, seq, data })
      },
      subscribe(opts: SubscribeOptions = {}): Subscription {
        check()
        if (!canSubscribe) throw new CapDeniedError(`subscribe to ${t.name}`)
        return subscribe(t, opts)
      },
      peers: () => network?.peers(t.name) ?? [],
      waitForPeers(n: number, opts?: CallOptions): Promise<void> {
        check()
        const enough = (): boolean => (network?.peers(t.name).length ?? 0) >= n
        if (enough()) return Promise.resolve()
        let off = (): void => {}
        let poll: ReturnType<typeof setInterval> | undefined
        const p = new Promise<void>((resolve) => {
          const check = (): void => { if (enough()) resolve() }
          off = network?.onPeersChange(t.name, check) ?? off
          // A peer also becomes reachable when its stream opens, which has no event here.
          poll = setInterval(check, 20)
        })
        return bounded(p, `${n} peers on ${t.name}`, opts).finally(() => { off(); clearInterval(poll) })
      },
      publishOnly: () => { check(); return handle(t, canPublish, false) },
      subscribeOnly: () => { check(); return handle(t, false, canSubscribe) },
      release(): void {
        if (released) return
        released = true
        t.refs.release()
      },
      [Symbol.dispose]() { topic.release() },
    }
    return topic
  }

  function subscribe(t: TopicState, opts: SubscribeOptions): Subscription {
    const box = new Mailbox<Message>(opts, onError)
    if (opts.handler) box.handle(opts.handler)
    t.refs.retain()
    t.subs.add(box)
    t.subsArr = [...t.subs]
    subscriptions++
    let closed = false
    const sub: Subscription = {
      topic: t.name,
      stats: () => box.stats(),
      close(): void {
        if (closed) return
        closed = true
        box.close()
        t.subs.delete(box)
        t.subsArr = [...t.subs]
        subscriptions--
        t.refs.release()
      },
      [Symbol.asyncIterator]: () => {
        const it = box[Symbol.asyncIterator]()
        return { next: () => it.next(), return: () => { sub.close(); return Promise.resolve({ value: undefined, done: true }) } }
      },
      [Symbol.dispose]() { sub.close() },
    }
    return sub
  }

  return {
    join(name: string): Topic {
      if (typeof name !== 'string' || !TOPIC_NAME.test(name)) {
        throw new InvalidArgumentError(`topic name must be 1-200 printable ASCII characters, got ${JSON.stringify(name)}`)
      }
      return handle(state(name), true, true)
    },
    stats: (): PubSubStats => ({ topics: topics.size, subscriptions, published, received }),
  }
}
