// How a process ended. The shape is @ww/host's ExitStatus (the Executor contract), with
// extra detail the host's type allows: who killed, a stable code for traps.

import type { ExitStatus as HostExitStatus } from '@ww/host'

export type Pid = number

/** Who ended a killed process. */
export type KilledBy =
  | { readonly kind: 'host' }
  | { readonly kind: 'parent'; readonly pid: Pid }
  | { readonly kind: 'link'; readonly pid: Pid }
  | { readonly kind: 'supervisor'; readonly pid: Pid }

/** Which limit ended the process. `fuel` is the CPU budget, `time` the wall deadline. */
export type LimitKind = 'fuel' | 'time' | 'memory' | 'mailbox'

export type ExitStatus =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'trapped'; readonly reason: string; readonly code?: string }
  | { readonly kind: 'killed'; readonly by: KilledBy }
  | { readonly kind: 'limit'; readonly which: LimitKind | (string & {}); readonly detail?: string }

// Compile-time proof that every status we produce is one the host's Executor accepts.
const _assignable = (s: ExitStatus): HostExitStatus => s
void _assignable

/** True for a normal end (exit code 0): links and supervisors treat the rest as crashes. */
export function isNormal(s: ExitStatus): boolean {
  return s.kind === 'exited' && s.code === 0
}

/** One line a person reads: `exited(0)`, `limit(time: …)`, `killed(by parent 3)`. */
export function describeStatus(s: ExitStatus): string {
  switch (s.kind) {
    case 'exited': return `exited(${s.code})`
    case 'trapped': return `trapped(${s.code ? s.code + ': ' : ''}${s.reason})`
    case 'killed': return `killed(by ${s.by.kind}${'pid' in s.by ? ' ' + s.by.pid : ''})`
    case 'limit': return `limit(${s.which}${s.detail ? ': ' + s.detail : ''})`
  }
}
