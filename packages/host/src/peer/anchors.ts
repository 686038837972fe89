// Anchors of other hosts, through the cluster root: the AnchorForwarder the libp2p
// cluster uses for `anchors.walk("<host>/<path>")` when <host> is not this one. Every
// call goes to that host's Peer.anchors() over its link (reads, writes, watches); a host
// that is gone or out of reach fails with ERR_HOST_UNREACHABLE, and a watch on it ends.

import { anchor as capAnchor } from '@ww/schema'
import { InvalidArgumentError } from '../errors.js'
import type { AnchorForwarder } from '../cluster/types.js'
import type { Anchor, AnchorEvent, AnchorInput, AnchorValue, AnchorWatch, WatchOptions } from '../anchors/types.js'
import { parsePath } from '../anchors/path.js'
import { Mailbox } from '../pubsub/mailbox.js'
import { freeOnRelease } from '../rpc/common.js'
import type { CallOptions } from '../util/abort.js'
import type { PeerLink } from './rpc.js'

/** What the forwarder needs of the host-to-host layer. */
export interface LinkSource {
  dialPeer(host: string, opts?: CallOptions): Promise<PeerLink>
}

// One remote root capability per link (walks on it are pipelined).
const roots = new WeakMap<PeerLink, capAnchor.Anchor$Client>()
const rootOf = (link: PeerLink): capAnchor.Anchor$Client => {
  let r = roots.get(link)
  if (!r) roots.set(link, r = link.anchors())
  return r
}

export function anchorForwarder(links: LinkSource): AnchorForwarder {
  return (host, path) => remoteAnchor(links, host, parsePath(path).join('/'), true)
}

/** Copies a value once and returns how to write it into a request; a capability cannot travel from here. */
function valueWriter(value: AnchorInput | undefined): ((v: capAnchor.Value) => void) | Error {
  if (value === undefined) return (v) => v.setNone()
  if (!(value instanceof Uint8Array)) return new InvalidArgumentError('a capability cannot be stored on another host from here')
  const bytes = value.slice()
  return (v) => v.setData(bytes)
}

function remoteAnchor(links: LinkSource, host: string, path: string, writable: boolean): Anchor {
  // Runs `fn` on the remote node, bounded by the link (timeout / AbortSignal / host leaving).
  const on = async <T>(what: string, fn: (a: capAnchor.Anchor$Client) => PromiseLike<T>, opts?: CallOptions): Promise<T> => {
    const link = await links.dialPeer(host, opts)
    return link.call(`Anchor.${what} ${host}/${path}`, () => {
      const root = rootOf(link)
      return fn(path === '' ? root : root.walk((q) => q.setPath(path)).getAnchor())
    }, opts)
  }
  const readOnlyDenied = (): Promise<never> => Promise.reject(new InvalidArgumentError(`anchor ${host}/${path} is read-only here`))
  const a: Anchor = {
    path: path === '' ? host : `${host}/${path}`,
    writable,
    async ls(opts) {
      const names: string[] = []
      let cursor = ''
      for (;;) {
        const page = await on('ls', (n) => n.ls((q) => { q.setCursor(cursor); q.setLimit(0) }), opts)
        for (const c of page.getChildren().toArray()) names.push(c.getName())
        if (!page.hasNext() || page.getNext() === '') return names
        cursor = page.getNext()
      }
    },
    walk(sub) {
      const rest = parsePath(sub)
      return rest.length === 0 ? remoteAnchor(links, host, path, writable) : remoteAnchor(links, host, [path, ...rest].filter((s) => s !== '').join('/'), writable)
    },
    async load(opts): Promise<AnchorValue | undefined> {
      return (await a.loadVersioned!(opts)).value
    },
    async loadVersioned(opts) {
      const got = await on('get', (n) => n.get(), opts)
      const v = got.getValue()
      const version = Number(got.getVersion())
      if (v.isData()) return { value: { kind: 'bytes', bytes: v.getData().toUint8Array().slice() }, version }
      if (v.isCap()) return { value: { kind: 'cap', cap: { host, path: a.path } }, version } // the capability stays on its host
      return { value: undefined, version }
    },
    store(value: AnchorInput, opts) {
      return a.storeVersioned!(value, opts).then(() => {})
    },
    clear(opts) {
      return a.storeVersioned!(undefined, opts).then(() => {})
    },
    storeVersioned(value, opts) {
      if (!writable) return readOnlyDenied()
      const fill = valueWriter(value) // custody: bytes copied now, the call is sent after an await
      if (fill instanceof Error) return Promise.reject(fill)
      return on('set', (n) => n.set((q) => fill(q.initValue())), opts).then((r) => Number(r.getVersion()))
    },
    compareAndSet(expected, value, opts) {
      if (!writable) return readOnlyDenied()
      const fill = valueWriter(value)
      if (fill instanceof Error) return Promise.reject(fill)
      return on('compareAndSet', (n) => n.compareAndSet((q) => { q.setExpected(BigInt(expected)); fill(q.initValue()) }), opts)
        .then((r) => ({ swapped: r.getSwapped(), version: Number(r.getVersion()) }))
    },
    watch(opts: WatchOptions = {}): AnchorWatch {
      const box = new Mailbox<AnchorEvent>({ policy: 'dropOldest', capacity: 256, ...opts })
      if (opts.handler) box.handle(opts.handler)
      let handle: { cancel(): PromiseLike<unknown>; dispose(): void } | undefined
      let closed = false
      let ready!: () => void
      const established = new Promise<void>((r) => { ready = r })
      const watcher = freeOnRelease(new capAnchor.Watcher.Server({
        async changed(p) {
          // Read every change before the first await: the params are valid only until then.
          const events = p.getChanges().toArray().map((c): AnchorEvent => ({
            path: c.getPath(),
            kind: c.getKind() === capAnchor.ChangeKind.SET ? 'set' : 'clear',
            version: Number(c.getVersion()),
            ...(c.hasValue() ? { value: { kind: 'bytes' as const, bytes: c.getValue().toUint8Array().slice() } } : {}),
          }))
          // Under `block`, the remote's next batch waits for room here (one call outstanding).
          for (const ev of events) await box.offer(ev)
        },
        done() { w.close() },
      }), () => w.close()) // the connection closed or the remote let go: the watch ends
      const w: AnchorWatch = {
        stats: () => box.stats(),
        close: () => {
          if (closed) return
          closed = true
          box.close()
          if (handle) { void Promise.resolve(handle.cancel()).catch(() => {}).finally(() => handle?.dispose()) }
        },
        [Symbol.asyncIterator]: () => box[Symbol.asyncIterator](),
        [Symbol.dispose]: () => w.close(),
        ready: established,
      }
      void on('watch', (n) => n.watch((q) => { q.setWatcher(watcher); q.setSubtree(true); q.setWithValues(true) }))
        .then((r) => {
          handle = r.getHandle()
          ready()
          if (closed) w.close()
        }, () => { ready(); w.close() }) // unreachable host: the watch ends at once
      return w
    },
    readOnly: () => remoteAnchor(links, host, path, false),
    release: () => {},
    [Symbol.dispose]: () => {},
  }
  return a
}
