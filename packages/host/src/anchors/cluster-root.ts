import { CapDeniedError, HostUnreachableError, NotFoundError } from '../errors.js'
import { Mailbox } from '../pubsub/mailbox.js'
import type { HostId } from '../pubsub/types.js'
import type { ClusterView } from '../cluster/view.js'
import type { AnchorForwarder } from '../cluster/types.js'
import { parsePath } from './path.js'
import type { Anchor, AnchorWatch } from './types.js'

/**
 * The cluster-wide root: one child per live host, named by its id. Nothing is stored
 * here; the first path segment picks the host, the rest is that host's business.
 */
export function clusterRoot(init: {
  self: HostId
  view: ClusterView
  local: Anchor
  forward?: AnchorForwarder
}): Anchor {
  const { self, view, local, forward } = init
  const denied = (): Promise<never> => Promise.reject(new CapDeniedError('the cluster root holds hosts, not values'))
  const root: Anchor = {
    path: '',
    writable: false,
    ls: async () => view.hosts().map((h) => h.id).sort(),
    walk(path: string): Anchor {
      const names = parsePath(path)
      if (names.length === 0) return root
      const [host, ...rest] = names as [string, ...string[]]
      if (host === self) return local.walk(rest.join('/'))
      if (!view.get(host)) return unreachable(path, new NotFoundError(`host ${host}`))
      if (!forward) return unreachable(path, new HostUnreachableError(host, { cause: 'no host-to-host RPC configured' }))
      return forward(host, rest.join('/'))
    },
    load: async () => undefined,
    store: denied,
    clear: denied,
    watch: (): AnchorWatch => emptyWatch(),
    readOnly: () => root,
    release: () => {},
    [Symbol.dispose]: () => {},
  }
  return root
}

/** A handle whose every call fails with `err` (a host that is gone or out of reach). */
function unreachable(path: string, err: Error): Anchor {
  const fail = (): Promise<never> => Promise.reject(err)
  const a: Anchor = {
    path, writable: false,
    ls: fail, load: fail, store: fail, clear: fail,
    walk: () => a,
    watch: () => { throw err },
    readOnly: () => a,
    release: () => {},
    [Symbol.dispose]: () => {},
  }
  return a
}

function emptyWatch(): AnchorWatch {
  const box = new Mailbox<never>({ capacity: 1 })
  const w: AnchorWatch = {
    stats: () => box.stats(),
    close: () => box.close(),
    [Symbol.asyncIterator]: () => box[Symbol.asyncIterator](),
    [Symbol.dispose]: () => box.close(),
  }
  return w
}
