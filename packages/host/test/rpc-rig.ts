// Shared by the rpc*.test.ts suites: a JS client bootstraps the Host capability of an
// embedded cluster through an RpcConnection pair (frames encoded and decoded in place).
import { host as capHost } from '@ww/schema'
import { createPair, RemoteError, type RpcConnection } from '@ww/transport'
import { hostCapability, type Cluster, type HostCapability, type HostCapabilityOptions } from '../src/index.js'
export const enc = new TextEncoder()
export const dec = new TextDecoder()
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

export interface Rig { c: Cluster; hc: HostCapability; client: RpcConnection; server: RpcConnection; host: capHost.Host$Client }

export function rig(c: Cluster, opts: Partial<HostCapabilityOptions> = {}): Rig {
  const hc = hostCapability(c, { processId: 7, rights: { root: true }, ...opts })
  const [client, server] = createPair({ frames: true, b: { bootstrap: hc.server } })
  return { c, hc, client, server, host: client.bootstrap(capHost.Host) }
}

/** The `ERR_…` code of a rejected call. */
export async function codeOf(p: PromiseLike<unknown>): Promise<string | undefined> {
  try { await p } catch (e) { return e instanceof RemoteError ? e.remoteCode ?? e.reason : String(e) }
  return 'resolved'
}

