// The ExitStatus codec: @ww/interface's ExitStatus ⇄ process.capnp's, field by field.
// Its own module (and the `@ww/host/exit-status` entry) so that a client — the CLI reading
// a status off the wire — loads the schema, not the host and its libp2p stack.

import { process as proc, type common } from '@ww/schema'
import { trapField, trapKindOfCode, type LimitKind, type TrapKind } from '@ww/interface'
import type { ExitStatus, KillReason } from '../exec/types.js'
import type { ProcessIdentity } from './host.js'

// Each field of the union has its own field on the wire: nothing is read back from text.
const KILL: Record<KillReason, proc.KillReason> = {
  requested: proc.KillReason.REQUESTED,
  parentExited: proc.KillReason.PARENT_EXITED,
  hostShutdown: proc.KillReason.HOST_SHUTDOWN,
  revoked: proc.KillReason.REVOKED,
}
const LIMIT: Record<LimitKind, proc.Limit> = {
  memory: proc.Limit.MEMORY, fuel: proc.Limit.CPU, time: proc.Limit.WALL_TIME, frames: proc.Limit.FRAMES,
  mailbox: proc.Limit.MAILBOX, scratch: proc.Limit.SCRATCH, output: proc.Limit.OUTPUT, restarts: proc.Limit.RESTARTS,
}
const TRAP: Record<TrapKind, proc.TrapKind> = {
  unreachable: proc.TrapKind.UNREACHABLE, memoryOutOfBounds: proc.TrapKind.MEMORY_OUT_OF_BOUNDS,
  tableOutOfBounds: proc.TrapKind.TABLE_OUT_OF_BOUNDS, indirectCallMismatch: proc.TrapKind.INDIRECT_CALL_MISMATCH,
  divideByZero: proc.TrapKind.DIVIDE_BY_ZERO, integerOverflow: proc.TrapKind.INTEGER_OVERFLOW,
  invalidConversion: proc.TrapKind.INVALID_CONVERSION, stackOverflow: proc.TrapKind.STACK_OVERFLOW,
  nullReference: proc.TrapKind.NULL_REFERENCE, badFrame: proc.TrapKind.BAD_FRAME, other: proc.TrapKind.OTHER,
}
const inverse = <K extends string>(m: Record<K, number>): Map<number, K> => new Map((Object.entries(m) as Array<[K, number]>).map(([k, v]) => [v, k]))
const KILL_OF = inverse(KILL)
const LIMIT_OF = inverse(LIMIT)
const TRAP_OF = inverse(TRAP)

export function writeRef(out: common.ProcessRef, host: string, pid: number | bigint): void {
  out.setHost(host)
  out.setPid(BigInt(pid))
}

/**
 * Core ExitStatus → process.capnp ExitStatus. `by` is who asked for a `requested` kill
 * (the Process capability's holder); without it, the status's own `process` killer.
 */
export function writeExitStatus(out: proc.ExitStatus, s: ExitStatus, by?: ProcessIdentity): void {
  switch (s.kind) {
    case 'exited': out.setExited(s.code >>> 0); return
    case 'trapped': {
      const t = out.initTrapped()
      t.setKind(TRAP[s.trap ?? trapKindOfCode(s.code)])
      t.setMessage(s.reason)
      if (s.code) t.setCode(s.code)
      return
    }
    case 'killed': {
      const k = out.initKilled()
      const reason = s.reason ?? 'requested'
      k.setReason(KILL[reason])
      const killer = by ?? (s.by?.kind === 'process' ? s.by : undefined)
      if (reason === 'requested' && killer) writeRef(k.initBy(), killer.host, killer.pid)
      return
    }
    case 'limit': {
      const l = out.initLimitExceeded()
      l.setWhich(LIMIT[s.which])
      if (s.detail) l.setDetail(s.detail)
      return
    }
    case 'hostLost': out.setHostLost(s.host); return
    case 'failedToStart': out.setFailedToStart(s.reason); return
  }
}

/** process.capnp ExitStatus → core ExitStatus (for a status that came from another host). */
export function readExitStatus(s: proc.ExitStatus): ExitStatus {
  switch (s.which()) {
    case proc.ExitStatus_Which.EXITED: return { kind: 'exited', code: s.getExited() }
    case proc.ExitStatus_Which.TRAPPED: {
      const t = s.getTrapped()
      const code = t.getCode()
      return { kind: 'trapped', reason: t.getMessage(), ...trapField(TRAP_OF.get(t.getKind()) ?? 'other'), ...(code ? { code } : {}) }
    }
    case proc.ExitStatus_Which.KILLED: {
      const k = s.getKilled()
      const reason = KILL_OF.get(k.getReason())
      const by = k.hasBy() ? k.getBy() : undefined
      return {
        kind: 'killed', ...(reason ? { reason } : {}),
        ...(by && by.getHost() ? { by: { kind: 'process', host: by.getHost(), pid: Number(by.getPid()) } } : {}),
      }
    }
    case proc.ExitStatus_Which.LIMIT_EXCEEDED: {
      const l = s.getLimitExceeded()
      const detail = l.getDetail()
      return { kind: 'limit', which: LIMIT_OF.get(l.getWhich()) ?? 'fuel', ...(detail ? { detail } : {}) }
    }
    case proc.ExitStatus_Which.HOST_LOST: return { kind: 'hostLost', host: s.getHostLost() }
    case proc.ExitStatus_Which.FAILED_TO_START: return { kind: 'failedToStart', reason: s.getFailedToStart() }
    default: return { kind: 'trapped', reason: `unknown exit status ${String(s.which())}` }
  }
}
