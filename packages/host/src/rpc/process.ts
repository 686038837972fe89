// The Process server (process.capnp): one process as its spawner holds it — pid, wait,
// kill, monitor, info — over a core ProcessHandle (a local process, or a child on another
// host whose entry here forwards to it). Plus the ProcessInfo writer that Executor and
// Debug share (the ExitStatus codec is exit-status.ts).

import { process as proc } from '@ww/schema'
import { cidBytes } from './cache.js'
import { handleServer } from './common.js'
import { guard } from './guard.js'
import type { Scope } from './scope.js'
import type { ProcessIdentity } from './host.js'
import type { ProcessHandle, ProcessSnapshot } from '../exec/types.js'
import type { ProcessStats } from './debug.js'
import { ConnectionClosedError, retainClient } from '@ww/transport'
import { setInterfaceClient, type Client } from 'capnp-ts'
import { forwardingServer } from './forward.js'
import { rpcError } from './errors.js'
import { writeExitStatus, writeRef } from './exit-status.js'

export { readExitStatus, writeExitStatus, writeRef } from './exit-status.js'

const STATE: Record<ProcessSnapshot['state'], proc.ProcessState> = {
  starting: proc.ProcessState.STARTING, running: proc.ProcessState.RUNNING, exited: proc.ProcessState.EXITED,
}

export function writeProcessInfo(out: proc.ProcessInfo, s: ProcessSnapshot, stats?: ProcessStats): void {
  writeRef(out.initSelf(), s.host, s.pid)
  writeRef(out.initParent(), s.parent.host, s.parent.pid)
  out.setName(s.name)
  if (s.cid !== undefined) out.setCid(cidBytes(s.cid))
  out.setState(STATE[s.state])
  out.setStartedAtMs(BigInt(s.startedAtMs))
  if (s.status) writeExitStatus(out.initStatus(), s.status)
  if (stats) writeStats(out, stats)
}

const u64 = (v: number | bigint): bigint => (typeof v === 'bigint' ? (v < 0n ? 0n : v) : BigInt(Number.isFinite(v) ? Math.max(0, Math.floor(v)) : 0))

function writeStats(out: proc.ProcessInfo, t: ProcessStats): void {
  if (t.cpuTimeNs !== undefined) out.setCpuTimeNs(u64(t.cpuTimeNs))
  if (t.memoryBytes !== undefined) out.setMemoryBytes(u64(t.memoryBytes))
  if (t.messagesIn !== undefined) out.setMessagesIn(u64(t.messagesIn))
  if (t.messagesOut !== undefined) out.setMessagesOut(u64(t.messagesOut))
  if (t.fuel !== undefined) out.setFuel(u64(t.fuel))
  if (t.worker !== undefined && Number.isInteger(t.worker) && t.worker >= 0 && t.worker <= 0x7fffffff) out.setWorker(t.worker)
  // Only functions actually refused (the schema's promise), by name for a stable order.
  const denied = Object.entries(t.denials ?? {}).filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  if (denied.length === 0) return
  const l = out.initDenials(denied.length)
  denied.forEach(([name, n], i) => { const d = l.get(i); d.setSyscall(name); d.setCount(u64(n)) })
}

/** Each snapshot as a ProcessInfo, with the runtime's `stats` for it where given. */
export function writeProcessList(
  out: (n: number) => { get(i: number): proc.ProcessInfo },
  list: ProcessSnapshot[],
  stats?: (s: ProcessSnapshot) => ProcessStats | undefined,
): void {
  const l = out(list.length)
  list.forEach((s, i) => writeProcessInfo(l.get(i), s, stats?.(s)))
}

/**
 * The Process capability over `handle`. `holder` is the identity of the spawner it was
 * handed to (the `by` of a kill through it). Lives in `scope`: revoked with the Host.
 */
export function processServer(handle: ProcessHandle, holder: ProcessIdentity, scope: Scope): proc.Process$Server {
  return new proc.Process.Server(guard(scope, 'process', {
    pid(_p, r) {
      const s = handle.info()
      writeRef(r.initSelf(), s.host, s.pid)
    },
    async wait(_p, r) {
      writeExitStatus(r.initStatus(), await handle.wait(), holder)
    },
    async kill() {
      await handle.kill()
    },
    monitor(p, r) {
      const handler = retainClient(p.getHandler())
      let stopped = false
      const release = scope.hold('watches', () => { stopped = true; handler.dispose() })
      void handle.wait().then(async (status) => {
        if (stopped) return
        const s = handle.info()
        await handler.exited((q) => {
          writeRef(q.initProcess(), s.host, s.pid)
          writeExitStatus(q.initStatus(), status, holder)
        })
      }).catch(() => { /* the handler went away: nothing more to tell */ }).finally(() => release())
      r.setHandle(handleServer(async () => { release() }, () => release()))
    },
    info(_p, r) {
      writeProcessInfo(r.initInfo(), handle.info())
    },
    bootstrap(_p, r) {
      // Answered at once and pipelined: the forwarder asks the process on the first call
      // (queuing calls until it answers), so a spawner calls its child's service in the
      // same round trip as the exec. Each answer is its own reference, released alone.
      let offered: Promise<Client> | undefined
      const fwd = forwardingServer(() => (offered ??= handle.bootstrap()), {
        check: () => scope.check('process'),
        mapError: (e) => (e instanceof ConnectionClosedError ? rpcError('ERR_CLOSED', `process ${handle.pid} has ended`) : e),
        released: () => { void offered?.then((c) => c.dispose(), () => {}) },
      })
      setInterfaceClient(0, fwd, r)
    },
  }))
}
