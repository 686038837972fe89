// How a process ended: one union for the scheduler, the host's process tree, the wire
// (schemas/process.capnp ExitStatus, written field by field) and the CLI.

export type Pid = number

/** Why a process trapped (process.capnp TrapKind). */
export type TrapKind =
  | 'unreachable' | 'memoryOutOfBounds' | 'tableOutOfBounds' | 'indirectCallMismatch' | 'divideByZero'
  | 'integerOverflow' | 'invalidConversion' | 'stackOverflow' | 'nullReference'
  /** It broke the guest ABI: a malformed frame, a pointer outside its memory, a frame over the size limit. */
  | 'badFrame'
  | 'other'

/** Why a process was killed (process.capnp KillReason). */
export type KillReason = 'requested' | 'parentExited' | 'hostShutdown' | 'revoked'

/** Who ended a killed process. */
export type KilledBy =
  /** The host or its embedder (a kill through the handle, the scheduler closing). */
  | { readonly kind: 'host' }
  /** Its parent ended. */
  | { readonly kind: 'parent'; readonly pid: Pid }
  /** A process linked to it crashed. */
  | { readonly kind: 'link'; readonly pid: Pid }
  | { readonly kind: 'supervisor'; readonly pid: Pid }
  /** The process of the cluster whose kill started it, as the wire names it (pid 0: that host's embedder). */
  | { readonly kind: 'process'; readonly host: string; readonly pid: Pid }

/** Which limit ended a process. `fuel` is the CPU budget, `time` the wall-clock deadline. */
export type LimitKind = 'memory' | 'fuel' | 'time' | 'mailbox' | 'scratch' | 'output' | 'frames' | 'restarts'

/** How a process ended. Traps and limits are not exit codes. */
export type ExitStatus =
  | { readonly kind: 'exited'; readonly code: number }
  /**
   * A WebAssembly trap or a broken guest ABI. `code` is the stable `ERR_…` code of what
   * ended it (ERR_GUEST_TRAP, ERR_GUEST_ABI, ERR_GUEST_MEMORY…), when known. `trap` absent:
   * the kind its code implies (`trapKindOfCode`), else `other`.
   */
  | { readonly kind: 'trapped'; readonly reason: string; readonly trap?: TrapKind; readonly code?: string }
  /** `reason` as the process tree knows it, `by` as the scheduler does; either may be absent. */
  | { readonly kind: 'killed'; readonly reason?: KillReason; readonly by?: KilledBy }
  | { readonly kind: 'limit'; readonly which: LimitKind; readonly detail?: string }
  /** The host it ran on left before reporting its end: its fate is unknown, it counts as dead. */
  | { readonly kind: 'hostLost'; readonly host: string }
  /** It never ran: instantiation failed. */
  | { readonly kind: 'failedToStart'; readonly reason: string }

/** True for a normal end (exit code 0): links and supervisors treat the rest as crashes. */
export function isNormal(s: ExitStatus): boolean {
  return s.kind === 'exited' && s.code === 0
}

/** One line a person reads: `exited(0)`, `limit(time: …)`, `killed(by parent 3)`. */
export function describeStatus(s: ExitStatus): string {
  switch (s.kind) {
    case 'exited': return `exited(${s.code})`
    case 'trapped': return `trapped(${s.code ? s.code + ': ' : ''}${s.reason})`
    case 'killed': {
      const by = s.by ? `by ${s.by.kind}${s.by.kind === 'process' ? ` ${s.by.host}/${s.by.pid}` : 'pid' in s.by ? ` ${s.by.pid}` : ''}` : undefined
      return `killed(${[s.reason, by].filter(Boolean).join(', ')})`
    }
    case 'limit': return `limit(${s.which}${s.detail ? ': ' + s.detail : ''})`
    case 'hostLost': return `hostLost(${s.host})`
    case 'failedToStart': return `failedToStart(${s.reason})`
  }
}

/**
 * The shell exit code that mirrors a status (schemas/README.md, "Exit statuses"): the
 * code itself (0–255, larger as 255), 134 trapped, 137 killed or over a limit, 124 over
 * the wall-clock limit (as coreutils `timeout`), 126 failed to start, 125 host lost.
 */
export function shellStatus(s: ExitStatus): number {
  switch (s.kind) {
    case 'exited': return s.code >= 0 && s.code <= 255 ? s.code : 255
    case 'trapped': return 134
    case 'killed': return 137
    case 'limit': return s.which === 'time' ? 124 : 137
    case 'failedToStart': return 126
    case 'hostLost': return 125
  }
}

// Codes of errors that mean the guest broke the ABI (transport, scheduler).
const BAD_FRAME_CODES: ReadonlySet<string> = new Set(['ERR_BAD_FRAME', 'ERR_LIMIT', 'ERR_GUEST_MEMORY', 'ERR_GUEST_ABI'])

// The engine's trap messages (V8 "RuntimeError: …"): a RuntimeError carries nothing else.
const ENGINE_TRAPS: ReadonlyArray<readonly [RegExp, TrapKind]> = [
  [/unreachable/i, 'unreachable'],
  [/memory access out of bounds/i, 'memoryOutOfBounds'],
  [/table index is out of bounds/i, 'tableOutOfBounds'],
  [/signature mismatch|null function or function signature/i, 'indirectCallMismatch'],
  [/divide by zero|remainder by zero/i, 'divideByZero'],
  [/float unrepresentable|invalid conversion/i, 'invalidConversion'],
  [/integer overflow|unrepresentable/i, 'integerOverflow'],
  [/null reference|dereferencing a null pointer/i, 'nullReference'],
  [/call stack|stack overflow/i, 'stackOverflow'],
]

/** `{ trap }` to spread into a trapped status; `{}` for `other`, which the field's absence means. */
export function trapField(kind: TrapKind): { readonly trap?: TrapKind } {
  return kind === 'other' ? {} : { trap: kind }
}

/** The trap kind a stable error code means (ERR_BAD_FRAME… → badFrame), else `other`. */
export function trapKindOfCode(code: string | undefined): TrapKind {
  return code !== undefined && BAD_FRAME_CODES.has(code) ? 'badFrame' : 'other'
}

/**
 * The trap kind of the error that ended a guest, read where it was thrown: an error with
 * a `code` by its code; the engine's own RuntimeError (and a stack overflow's RangeError)
 * by its message, the only thing it carries. Statuses then hold the kind as a field.
 */
export function trapKindOf(e: unknown): TrapKind {
  const code = (e as { code?: unknown } | null)?.code
  if (typeof code === 'string') return trapKindOfCode(code)
  if (!(e instanceof WebAssembly.RuntimeError) && !(e instanceof RangeError)) return 'other'
  return ENGINE_TRAPS.find(([re]) => re.test(e.message))?.[1] ?? 'other'
}
