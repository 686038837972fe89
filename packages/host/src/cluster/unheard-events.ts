// Events nobody listens to, not built: libp2p's message streams (@libp2p/utils) announce
// 'idle' after every send with safeDispatchEvent (main-event), which builds a CustomEvent
// and dispatches it through Node's EventTarget whether or not anything listens. A
// host-to-host round trip measured 7 such 'idle' events (the TCP connection, noise's
// secured connection, the yamux stream) and no listener for any of them.
//
// Skipping the dispatch when main-event's own listener count is 0 changes nothing a
// listener could see: a listener added later is counted and gets the events from then on.
// This reaches past libp2p's interfaces (an own property on the stream object, shadowing the
// inherited method), only on objects that have both methods, once per object.

type Emitter = { listenerCount(type: string): number; safeDispatchEvent(type: string, detail?: unknown): boolean }

const skipping = new WeakSet<object>()

/** `target`'s safeDispatchEvent skips events of a type nobody listens to (when it has main-event's methods). */
export function skipUnheardEvents(target: object): void {
  const t = target as Partial<Emitter>
  if (skipping.has(target) || typeof t.listenerCount !== 'function' || typeof t.safeDispatchEvent !== 'function') return
  const dispatch = t.safeDispatchEvent
  Object.defineProperty(target, 'safeDispatchEvent', {
    configurable: true,
    writable: true,
    value: function safeDispatchEvent(this: Emitter, type: string, detail?: unknown): boolean {
      // dispatchEvent's answer with no listener: not cancelled.
      return this.listenerCount(type) === 0 ? true : dispatch.call(this, type, detail)
    },
  })
  skipping.add(target)
}
