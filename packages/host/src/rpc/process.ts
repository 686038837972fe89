// The Process server (process.capnp): one process as its spawner holds it — pid, wait,
// kill, monitor, info — over a core ProcessHandle (a local process, or a child on another
// host whose entry here forwards to it). Plus the ExitStatus / ProcessInfo writers that
// Executor and Debug share.

import { process as proc, type common } from '@ww/schema'
import { cidBytes } from './cache.js'
import { handleServer } from './common.js'
import { guard } from './guard.js'
import type { Scope } from './scope.js'
import type { ProcessIdentity } from './host.js'
import type { ExitStatus, ProcessHandle, ProcessSnapshot } from '../exec/types.js'
import type { ProcessStats } from './debug.js'
import { ConnectionClosedError, retainClient } from '@ww/transport'
import { setInterfaceClient, type Client } from 'capnp-ts'
import { forwardingServer } from './forward.js'
import { rpcError } from './errors.js'

const KILL: Record<string, proc.KillReason> = {
  requested: proc.KillReason.REQUESTED,
  parentExited: proc.KillReason.PARENT_EXITED,
  hostShutdown: proc.KillReason.HOST_SHUTDOWN,
  revoked: proc.KillReason.REVOKED,
}
const LIMIT: Record<string, proc.Limit> = {
  memory: proc.Limit.MEMORY, fuel: proc.Limit.CPU, cpu: proc.Limit.CPU, time: proc.Limit.WALL_TIME,
  wallTime: proc.Limit.WALL_TIME, frames: proc.Limit.FRAMES, mailbox: proc.Limit.MAILBOX, scratch: proc.Limit.SCRATCH,
  output: proc.Limit.OUTPUT,
}
// The engines' trap messages (V8 "RuntimeError: …"), matched loosely onto TrapKind.
const TRAPS: Array<[RegExp, proc.TrapKind]> = [
  [/unreachable/i, proc.TrapKind.UNREACHABLE],
  [/memory access out of bounds/i, proc.TrapKind.MEMORY_OUT_OF_BOUNDS],
  [/table index is out of bounds/i, proc.TrapKind.TABLE_OUT_OF_BOUNDS],
  [/signature mismatch|null function or function signature/i, proc.TrapKind.INDIRECT_CALL_MISMATCH],
  [/divide by zero|remainder by zero/i, proc.TrapKind.DIVIDE_BY_ZERO],
  [/integer overflow|unrepresentable/i, proc.TrapKind.INTEGER_OVERFLOW],
  [/float unrepresentable|invalid conversion/i, proc.TrapKind.INVALID_CONVERSION],
  [/call stack|stack overflow/i, proc.TrapKind.STACK_OVERFLOW],
  [/ERR_BAD_FRAME|ERR_LIMIT|bad frame/i, proc.TrapKind.BAD_FRAME],
]
const FAILED_TO_START = 'failed to start: '

export function writeRef(out: common.ProcessRef, host: string, pid: number | bigint): void {
  out.setHost(host)
  out.setPid(BigInt(pid))
}

/** Core ExitStatus → process.capnp ExitStatus. `by` is who asked for a `requested` kill. */
export function writeExitStatus(out: proc.ExitStatus, s: ExitStatus, by?: ProcessIdentity): void {
  switch (s.kind) {
    case 'exited': out.setExited(s.code >>> 0); return
    case 'trapped': {
      if (s.reason.startsWith(FAILED_TO_START)) { out.setFailedToStart(s.reason.slice(FAILED_TO_START.length)); return }
      const t = out.initTrapped()
      t.setKind(TRAPS.find(([re]) => re.test(s.reason))?.[1] ?? proc.TrapKind.OTHER)
      t.setMessage(s.reason)
      return
    }
    case 'killed': {
      const k = out.initKilled()
      const reason = s.reason ?? 'requested'
      k.setReason(KILL[reason] ?? proc.KillReason.REQUESTED)
      if (reason === 'requested' && by) writeRef(k.initBy(), by.host, by.pid)
      return
    }
    case 'limit': {
      const l = out.initLimitExceeded()
      l.setWhich(LIMIT[s.which] ?? proc.Limit.CPU)
      l.setDetail(s.which)
      return
    }
    case 'hostLost': out.setHostLost(s.host); return
  }
}

/** process.capnp ExitStatus → core ExitStatus (for a status that came from another host). */
export function readExitStatus(s: proc.ExitStatus): ExitStatus {
  switch (s.which()) {
    case proc.ExitStatus_Which.EXITED: return { kind: 'exited', code: s.getExited() }
    case proc.ExitStatus_Which.TRAPPED: return { kind: 'trapped', reason: s.getTrapped().getMessage() }
    case proc.ExitStatus_Which.KILLED: {
      const r = s.getKilled().getReason()
      const reason = (Object.keys(KILL) as Array<keyof typeof KILL>).find((k) => KILL[k] === r)
      return { kind: 'killed', ...(reason ? { reason: reason as 'requested' } : {}) }
    }
    case proc.ExitStatus_Which.LIMIT_EXCEEDED: return { kind: 'limit', which: s.getLimitExceeded().getDetail() || 'cpu' }
    case proc.ExitStatus_Which.HOST_LOST: return { kind: 'hostLost', host: s.getHostLost() }
    case proc.ExitStatus_Which.FAILED_TO_START: return { kind: 'trapped', reason: FAILED_TO_START + s.getFailedToStart() }
    default: return { kind: 'trapped', reason: `unknown exit status ${String(s.which())}` }
  }
}

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
