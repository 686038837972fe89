// The origin side of remote spawn: Peer.exec on another host's link, for a process of
// this host. exec, pid and wait are pipelined — the spawn costs one round trip and the wait
// is already on its way; it stays pending as long as the process runs, bounded by the link
// (it fails when the link goes: `hostLost`), never by a timer.

import { process as procSchema, type peer, type process as proc } from '@ww/schema'
import { callRaw } from '../rpc/forward.js'
import type { ExitStatus, Pid, RemoteProcess, SpawnRequest } from '../exec/types.js'
import { cidBytes } from '../rpc/cache.js'
import { handedOn, writeDelegated } from '../rpc/delegate.js'
import { writeChildOptions } from '../rpc/executor.js'
import { readExitStatus, writeRef } from '../rpc/process.js'
import type { CallOptions } from '../util/abort.js'
import type { PeerLink } from './rpc.js'

export interface RemoteSpawnOptions extends CallOptions {
  /** Bound on Process.kill there. */
  killTimeoutMs: number
  onError: (e: unknown) => void
}

export async function remoteSpawn(
  link: PeerLink, parent: { host: string; pid: Pid }, req: SpawnRequest, opts: RemoteSpawnOptions,
): Promise<RemoteProcess> {
  const host = link.host
  // What this host only imports goes through forwarders (released when that host lets go).
  const delegated = req.caps?.length || req.child?.overrides ? handedOn(req.caps ?? [], req.child?.overrides) : undefined
  // Custody: the request is written from `req` (already copied by the tree) in one go.
  const fill = (q: peer.Peer_exec$Params): void => {
    writeRef(q.initParent(), parent.host, parent.pid)
    const b = q.initBytecode()
    if (req.bytecode) b.setInline(req.bytecode)
    else b.setCid(cidBytes(req.cid!))
    if (req.name || req.child || delegated) {
      const o = q.initOptions()
      if (req.name) o.setName(req.name)
      if (req.child) writeChildOptions(o, req.child)
      // Carried over the peer link: that host's calls on them reach them here.
      if (delegated) writeDelegated(o, delegated.caps, delegated.overrides)
    }
  }
  let remote!: proc.Process$Client
  let exited!: Promise<ExitStatus>
  let pid: number
  try {
    pid = await link.call('Peer.exec', (p) => {
      remote = p.exec(fill).getProcess()
      exited = link.call('Process.wait', () => remote.wait(), { signal: new AbortController().signal })
        .then((a): ExitStatus => readExitStatus(a.getStatus()), (): ExitStatus => ({ kind: 'hostLost', host }))
        .finally(() => remote.dispose())
      return remote.pid().then((a) => Number(a.getSelf().getPid()))
    }, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}) })
  } catch (e) {
    // Timed out or aborted here, the process may still have started there: end it.
    if (remote !== undefined) void remote.kill().then(() => {}, () => {})
    throw e
  }
  return {
    host, pid, exited,
    kill: () => { void link.call('Process.kill', () => remote.kill(), { timeoutMs: opts.killTimeoutMs }).catch(opts.onError) },
    // Its Process there answers with a forwarder to the child: calls on it cross the link.
    bootstrap: () => callRaw(remote.client, procSchema.Process.methods.bootstrap as never, () => {}).cap(0),
  }
}
