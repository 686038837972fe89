// The View server: the cluster's membership, read from the core ClusterView.

import { cluster } from '@ww/schema'
import type { ClusterView, HostInfo, MembershipEvent } from '../cluster/view.js'
import { rpcError } from './errors.js'
import { guard } from './guard.js'
import { handleServer, pumpBatches } from './common.js'
import { leaveReason, writeHostInfo } from './info.js'
import type { Scope } from './scope.js'
import { retainClient } from '@ww/transport'

const PAGE = 100
const MAX_PAGE = 1000
const BATCH = 64

type Match = (h: HostInfo) => boolean

function selectorOf(s: cluster.Selector): Match {
  switch (s.which()) {
    case cluster.Selector_Which.ALL: return () => true
    case cluster.Selector_Which.ID_PREFIX: { const p = s.getIdPrefix(); return (h) => h.id.startsWith(p) }
    // Core hosts carry no labels yet, so a meta selector matches none.
    case cluster.Selector_Which.META: return () => false
    default: throw rpcError('ERR_INVALID_ARGUMENT', `unknown selector ${String(s.which())}`)
  }
}

const byId = (a: HostInfo, b: HostInfo): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

export function viewServer(view: ClusterView, scope: Scope): cluster.View$Server {
  const isSelf = (h: HostInfo): boolean => h.id === view.self
  return new cluster.View.Server(guard(scope, 'view', {
    list(p, r) {
      const match = selectorOf(p.getSelector())
      // The cursor is the id of the last host returned: stable across membership changes.
      const after = p.hasCursor() ? new TextDecoder().decode(p.getCursor().toUint8Array()) : ''
      const limit = Math.min(p.getLimit() === 0 ? PAGE : p.getLimit(), MAX_PAGE)
      const hosts = view.hosts().filter((h) => match(h) && h.id > after).sort(byId)
      const page = hosts.slice(0, limit)
      const list = r.initHosts(page.length)
      page.forEach((h, i) => writeHostInfo(list.get(i), h, isSelf(h)))
      if (hosts.length > page.length) r.setNext(new TextEncoder().encode(page[page.length - 1]!.id))
    },
    lookup(p, r) {
      const h = view.get(p.getId())
      r.setFound(h !== undefined)
      if (h !== undefined) writeHostInfo(r.initHost(), h, isSelf(h))
    },
    self(_p, r) {
      const h = view.get(view.self)!
      writeHostInfo(r.initHost(), h, true)
    },
    async iter(p, r) {
      const match = selectorOf(p.getSelector())
      const handler = p.getHandler()
      const hosts = view.hosts().filter(match).sort(byId)
      try {
        for (let i = 0; i < hosts.length; i += BATCH) {
          scope.check('view')
          const batch = hosts.slice(i, i + BATCH)
          await handler.hosts((q) => {
            const l = q.initBatch(batch.length)
            batch.forEach((h, j) => writeHostInfo(l.get(j), h, isSelf(h)))
          })
        }
      } finally {
        handler.dispose()
      }
      r.setCount(hosts.length)
    },
    watch(p, r) {
      const handler = retainClient(p.getHandler())
      const replay = p.getReplay() ? view.hosts().sort(byId) : []
      const w = view.watch()
      let seq = 0n
      let dropped = 0
      let stopped = false
      const release = scope.hold('watches', (reason) => {
        stopped = true
        w.close()
        // Revocation (not our own cancel): tell the handler why, as its last call.
        if (reason !== undefined) void handler.done((q) => q.setReason(`ERR_REVOKED: ${reason}`)).catch(() => {})
          .finally(() => handler.dispose())
        else handler.dispose()
      })
      const send = async (events: MembershipEvent[]): Promise<void> => {
        if (stopped) return
        // Events the core queue dropped while we were busy still take their numbers (a gap).
        const d = w.stats().dropped
        seq += BigInt(d - dropped)
        dropped = d
        const atMs = BigInt(Date.now())
        await handler.events((q) => {
          const l = q.initBatch(events.length)
          events.forEach((e, i) => {
            const out = l.get(i)
            out.setSeq(++seq)
            out.setAtMs(atMs)
            if (e.type === 'join') writeHostInfo(out.initJoined(), e.host, isSelf(e.host))
            else {
              const left = out.initLeft()
              left.setId(e.host.id)
              left.setReason(leaveReason(e.reason))
            }
          })
        })
      }
      const it = w[Symbol.asyncIterator]()
      const running = (async () => {
        if (replay.length > 0) await send(replay.map((host) => ({ type: 'join', host }) as const))
        await pumpBatches(it, () => w.stats().queued, BATCH, send)
      })().catch(() => { /* the handler threw or went away: the stream ends, no done */ })
        .finally(() => release())
      r.setHandle(handleServer(async () => { release(); await running }, () => release()))
    },
  }))
}
