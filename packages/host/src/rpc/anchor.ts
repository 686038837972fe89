// The Anchor server over a core Anchor handle. Read-only servers hold read-only core
// handles, so the core refuses writes too; walks inherit the scope (revoked together).

import { anchor } from '@ww/schema'
import { Struct, getInterfaceClient, setInterfaceClient, type Client } from 'capnp-ts'
import type { Anchor, AnchorEvent, AnchorInput } from '../anchors/types.js'
import { denied, rpcError } from './errors.js'
import { guard } from './guard.js'
import { freeOnRelease, handleServer, pumpBatches, retainLocal, revokerServer } from './common.js'
import type { Scope } from './scope.js'
import { retainClient } from '@ww/transport'

const LS_PAGE = 256
const BATCH = 64
const VALUE_LIMIT = 64 * 1024

/** A capability stored in a node: the core calls release() when it is replaced or cleared. */
class StoredCap {
  readonly #letGo: () => void
  constructor(readonly client: Client) { this.#letGo = retainLocal(client) }
  release(): void { this.#letGo(); this.client.dispose() }
}

/**
 * The core input for a Value, read in place. Bytes are not copied here: the core's store
 * copies them once, synchronously, before the call returns to the transport.
 */
function inputOf(v: anchor.Value): AnchorInput | undefined {
  switch (v.which()) {
    case anchor.Value_Which.NONE: return undefined
    case anchor.Value_Which.DATA: {
      const bytes = v.getData().toUint8Array()
      if (bytes.byteLength > VALUE_LIMIT) throw rpcError('ERR_LIMIT', `value of ${bytes.byteLength} bytes > ${VALUE_LIMIT}`)
      return bytes
    }
    case anchor.Value_Which.CAP: return { cap: new StoredCap(retainClient(getInterfaceClient(0, v))) }
    default: throw rpcError('ERR_INVALID_ARGUMENT', `unknown value kind ${String(v.which())}`)
  }
}

/** Capabilities stay on the host that holds them: one cannot be stored on another host. */
function refuseCap(input: AnchorInput | undefined): void {
  if (input === undefined || input instanceof Uint8Array) return
  ;(input.cap as StoredCap).release()
  throw rpcError('ERR_INVALID_ARGUMENT', 'a capability cannot be stored on another host')
}

export interface AnchorServerInit {
  core: Anchor
  scope: Scope
  /** Shown by path(): the absolute path of the core handle's root ('' for "/"). */
  prefix?: string
}

/** An Anchor capability; it owns `core` (released with its scope, or when the peer releases it). */
export function anchorServer(init: AnchorServerInit): anchor.Anchor$Server {
  const { core, scope } = init
  const prefix = init.prefix ?? ''
  const free = scope.hold('anchors', () => core.release())
  const absolute = '/' + [prefix, core.path].filter((s) => s !== '').join('/')
  const version = (): number => {
    if (core.version === undefined) throw rpcError('ERR_HOST_UNREACHABLE', `versions of ${absolute} are not available here`)
    return core.version()
  }
  // Store synchronously (the core copies bytes before returning its promise), then read the
  // version this write produced before anything else can write.
  const write = (input: AnchorInput | undefined): { done: Promise<void>; version: number } => {
    if (!core.writable) throw denied(`set on read-only anchor ${absolute}`)
    const done = input === undefined ? core.clear() : core.store(input)
    return { done, version: version() }
  }
  return freeOnRelease(new anchor.Anchor.Server(guard(scope, `anchor ${absolute}`, {
    path(_p, r) { r.setPath(absolute) },
    async ls(p, r) {
      const after = p.getCursor()
      const limit = p.getLimit() === 0 ? LS_PAGE : p.getLimit()
      const names = (await core.ls()).filter((n) => n > after)
      const page = names.slice(0, limit)
      const list = r.initChildren(page.length)
      for (let i = 0; i < page.length; i++) {
        const child = core.walk(page[i]!)
        try {
          const c = list.get(i)
          c.setName(page[i]!)
          c.setHasValue((await child.load()) !== undefined)
          c.setHasChildren((await child.ls()).length > 0)
        } finally {
          child.release()
        }
      }
      if (names.length > page.length) r.setNext(page[page.length - 1]!)
    },
    walk(p, r) {
      const path = p.getPath()
      r.setAnchor(anchorServer({ core: core.walk(path), scope, prefix }))
    },
    async get(_p, r) {
      let v: number
      let value
      if (core.version === undefined && core.loadVersioned) ({ value, version: v } = await core.loadVersioned())
      else { v = version(); value = await core.load() }
      const out = r.initValue()
      if (value === undefined) out.setNone()
      else if (value.kind === 'bytes') out.setData(value.bytes)
      else {
        Struct.setUint16(0, anchor.Value_Which.CAP, out) // the union tag; the bindings have no cap setter
        setInterfaceClient(0, (value.cap as StoredCap).client, out)
      }
      r.setVersion(BigInt(v))
    },
    async set(p, r) {
      const input = inputOf(p.getValue())
      if (core.version === undefined && core.storeVersioned) {
        // A node on another host: the version comes back from there (bytes copied before the await).
        if (!core.writable) throw denied(`set on read-only anchor ${absolute}`)
        refuseCap(input)
        r.setVersion(BigInt(await core.storeVersioned(input)))
        return
      }
      const w = write(input)
      r.setVersion(BigInt(w.version))
      await w.done
    },
    async compareAndSet(p, r) {
      const input = inputOf(p.getValue())
      const expected = p.getExpected()
      if (!core.writable) throw denied(`compareAndSet on read-only anchor ${absolute}`)
      if (core.version === undefined && core.compareAndSet) {
        refuseCap(input)
        const got = await core.compareAndSet(Number(expected), input)
        r.setSwapped(got.swapped)
        r.setVersion(BigInt(got.version))
        return
      }
      const now = version()
      if (BigInt(now) !== expected) {
        if (input !== undefined && typeof input === 'object' && 'cap' in input) (input.cap as StoredCap).release()
        r.setSwapped(false)
        r.setVersion(BigInt(now))
        return
      }
      const w = write(input)
      r.setSwapped(true)
      r.setVersion(BigInt(w.version))
      await w.done
    },
    watch(p, r) {
      const watcher = retainClient(p.getWatcher())
      const subtree = p.getSubtree()
      const withValues = p.getWithValues()
      const w = core.watch()
      let stopped = false
      const release = scope.hold('watches', (reason) => {
        stopped = true
        w.close()
        if (reason !== undefined) void watcher.done((q) => q.setReason(`ERR_REVOKED: ${reason}`)).catch(() => {})
          .finally(() => watcher.dispose())
        else watcher.dispose()
      })
      const send = async (events: AnchorEvent[]): Promise<void> => {
        const mine = subtree ? events : events.filter((e) => e.path === '')
        if (stopped || mine.length === 0) return
        await watcher.changed((q) => {
          const l = q.initChanges(mine.length)
          mine.forEach((e, i) => {
            const c = l.get(i)
            c.setPath(e.path)
            c.setKind(e.kind === 'set' ? anchor.ChangeKind.SET : anchor.ChangeKind.CLEARED)
            c.setVersion(BigInt(e.version ?? 0))
            if (withValues && e.value?.kind === 'bytes') c.setValue(e.value.bytes)
          })
        })
      }
      const running = pumpBatches(w[Symbol.asyncIterator](), () => w.stats().queued, BATCH, send)
        .catch(() => { /* the watcher threw or went away: the watch ends, no done */ })
        .finally(() => release())
      r.setHandle(handleServer(async () => { release(); await running }, () => release()))
    },
    readOnly(_p, r) {
      const child = scope.child()
      r.setAnchor(anchorServer({ core: core.readOnly(), scope: child, prefix }))
      r.setRevoker(revokerServer(child))
    },
    writable(_p, r) { r.setWritable(core.writable) },
  })), () => free())
}
