// js-libp2p 3.x calls Promise.withResolvers (Node >= 22). On Node 20 this one shim is
// all it needs; it is installed here, imported before libp2p, and nowhere else.
const P = Promise as unknown as { withResolvers?: unknown }
if (typeof P.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(this: PromiseConstructor) {
      let resolve!: (v: T | PromiseLike<T>) => void
      let reject!: (e: unknown) => void
      const promise = new this<T>((a, b) => { resolve = a; reject = b })
      return { promise, resolve, reject }
    },
  })
}
export {}
