// A Runtime for the exec-caps tests: its processes are JS functions (chosen by
// ExecOptions.name) that bootstrap their own Host — childHostCapability, as `ww host` builds
// it for guests — over their own RpcConnection pair: real frames, no stand-ins.
import { host as capHost } from '@ww/schema'
import { createPair } from '@ww/transport'
import { childHostCapability, type Cluster, type ExitStatus, type Runtime, type StartSpec } from '../src/index.js'

/** What a JS child does with the Host it bootstrapped; its result is the exit code. */
export type Body = (host: capHost.Host$Client, spec: StartSpec) => Promise<number>

/** A Runtime whose processes are JS functions (by ExecOptions.name) talking to their own Host over RPC. */
export function jsRuntime(cluster: Cluster, bodies: Record<string, Body>): Runtime {
  return {
    async start(spec) {
      const body = bodies[spec.name ?? '']
      if (body === undefined) throw new Error(`no body named '${spec.name ?? ''}'`)
      const hc = childHostCapability(cluster, spec)
      const [guest, served] = createPair({ frames: true, a: { name: `pid ${spec.pid}` }, b: { name: `host of pid ${spec.pid}`, bootstrap: hc.server } })
      let kill!: () => void
      const killed = new Promise<ExitStatus>((r) => { kill = () => r({ kind: 'killed' }) })
      const ran = body(guest.bootstrap(capHost.Host), spec).then(
        (code): ExitStatus => ({ kind: 'exited', code }),
        (e: unknown): ExitStatus => ({ kind: 'trapped', reason: String(e) }),
      )
      const exited = Promise.race([ran, killed]).finally(() => { guest.close(); served.close(); hc.close('process exited') })
      return { exited, kill }
    },
  }
}

