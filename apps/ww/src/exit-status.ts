// A process's end as the wire says it (process.capnp ExitStatus), read for humans and
// scripts, and the shell status a CLI command mirrors it with (schemas/README.md).
import { process as capProcess } from '@ww/schema'

export type Exit =
  | { kind: 'exited'; code: number }
  | { kind: 'trapped'; trap: string; message: string }
  | { kind: 'killed'; reason: string; by?: string }
  | { kind: 'limit'; which: string; detail: string }
  | { kind: 'hostLost'; host: string }
  | { kind: 'failedToStart'; reason: string }

const name = (e: object, v: number): string => Object.entries(e).find(([, x]) => x === v)?.[0]?.toLowerCase().replace(/_(\w)/g, (_m, c: string) => c.toUpperCase()) ?? String(v)

export function readExit(s: capProcess.ExitStatus): Exit {
  const W = capProcess.ExitStatus_Which
  switch (s.which()) {
    case W.EXITED: return { kind: 'exited', code: s.getExited() }
    case W.TRAPPED: return { kind: 'trapped', trap: name(capProcess.TrapKind, s.getTrapped().getKind()), message: s.getTrapped().getMessage() }
    case W.KILLED: {
      const by = s.getKilled().getBy()
      return { kind: 'killed', reason: name(capProcess.KillReason, s.getKilled().getReason()), ...(by.getHost() ? { by: `${by.getHost()}/${by.getPid()}` } : {}) }
    }
    case W.LIMIT_EXCEEDED: return { kind: 'limit', which: name(capProcess.Limit, s.getLimitExceeded().getWhich()), detail: s.getLimitExceeded().getDetail() }
    case W.HOST_LOST: return { kind: 'hostLost', host: s.getHostLost() }
    case W.FAILED_TO_START: return { kind: 'failedToStart', reason: s.getFailedToStart() }
    default: return { kind: 'failedToStart', reason: `unknown exit status ${String(s.which())}` }
  }
}

export function describeExit(e: Exit): string {
  switch (e.kind) {
    case 'exited': return `exited ${e.code}`
    case 'trapped': return `trapped (${e.trap}): ${e.message}`
    case 'killed': return `killed (${e.reason})`
    case 'limit': return `over its ${e.which} limit${e.detail ? `: ${e.detail}` : ''}`
    case 'hostLost': return `lost with its host ${e.host}`
    case 'failedToStart': return `failed to start: ${e.reason}`
  }
}

/** 0–255 exit code; 134 trap, 137 killed or over a limit, 126 could not start, 1 host lost. */
export function shellStatus(e: Exit): number {
  switch (e.kind) {
    case 'exited': return e.code >= 0 && e.code <= 255 ? e.code : 255
    case 'trapped': return 134
    case 'killed': case 'limit': return 137
    case 'failedToStart': return 126
    case 'hostLost': return 1
  }
}
