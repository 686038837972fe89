import { randomBytes } from 'node:crypto'
import { clusterRoot } from '../anchors/cluster-root.js'
import { AnchorTree } from '../anchors/tree.js'
import { BytecodeCache, type BytecodeCacheOptions } from '../cache/bytecode-cache.js'
import { createPubSub } from '../pubsub/pubsub.js'
import { createRegistry } from '../registry.js'
import { VERSION } from '../version.js'
import type { Cluster } from './types.js'
import { Membership } from './view.js'

export interface EmbeddedClusterOptions {
  /** Defaults to a random `embedded-…` id. */
  id?: string
  cache?: BytecodeCacheOptions
  onError?: (e: unknown) => void
}

/** A cluster of one host in this process: no network, nothing to configure. */
export function embeddedCluster(opts: EmbeddedClusterOptions = {}): Cluster {
  const id = opts.id ?? `embedded-${randomBytes(8).toString('hex')}`
  const started = Date.now()
  let load = 0
  const view = new Membership(() => ({ id, addresses: [], load, uptimeMs: Date.now() - started, version: VERSION }))
  const tree = new AnchorTree()
  const local = tree.root()
  const registry = createRegistry({ self: id })
  const pubsub = createPubSub({ self: id, ...(opts.onError ? { onError: opts.onError } : {}) })
  let closed = false
  const cluster: Cluster = {
    kind: 'embedded',
    id,
    addresses: () => [],
    view,
    pubsub,
    registry,
    cache: new BytecodeCache(opts.cache),
    anchors: clusterRoot({ self: id, view, local }),
    local,
    setLoad: (n) => { load = n },
    async close() {
      if (closed) return
      closed = true
      registry.close()
      view.close()
    },
    [Symbol.asyncDispose]: () => cluster.close(),
  }
  return cluster
}
