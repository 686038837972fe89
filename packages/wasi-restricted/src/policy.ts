// The policy is plain data: one row per preview1 function (what it may do) plus the
// parameters of the grants that widen rows. It can be printed (describe.ts), stored as
// JSON, diffed and validated. A row decides *whether* a call acts; a grant decides *with
// what* (which clock, which RNG, which scratch dir, which sockets).

import { PREVIEW1_FUNCTIONS, isPreview1Function, type Preview1Function } from './functions.js'
import { PolicyError } from './errors.js'

/** Which kinds of fd a row may act on: stdio (0–2), scratch dir entries, granted sockets. */
export type FdGroup = 'stdio' | 'scratch' | 'socket'
export type DenyErrno = 'EBADF' | 'ENOTCAPABLE' | 'ENOSYS' | 'EPERM' | 'EACCES' | 'ENOTSUP'

export type Row =
  /** Acts (clocks, random, sched_yield; poll_oneoff: clock subscriptions only, every fd ENOTCAPABLE). */
  | { readonly do: 'allow' }
  /** Succeeds with nothing (args/environ: size 0). */
  | { readonly do: 'empty' }
  /** Ends the process (proc_exit). */
  | { readonly do: 'trap' }
  /** Returns `errno`, counted in the audit. */
  | { readonly do: 'deny'; readonly errno: DenyErrno }
  /** Acts on fds of the listed groups; any other fd is EBADF (absent) or ENOTCAPABLE. */
  | { readonly do: 'fds'; readonly on: readonly FdGroup[] }

export interface OutputPolicy {
  /** Largest write handed to the sink in one call; longer writes are partial (libc loops). */
  readonly chunkBytes: number
  /** When the sink is full: suspend the guest until it drains, or drop (counted). */
  readonly onFull: 'backpressure' | 'drop'
}

export interface ScratchGrant {
  /** Where the guest sees it (its preopen name, fd 3). */
  readonly mountPath: string
  readonly maxBytes: number
  readonly maxInodes: number
}

export interface Policy {
  readonly version: 1
  readonly rows: Readonly<Record<Preview1Function, Row>>
  readonly clock: { readonly kind: 'real' } | { readonly kind: 'virtual'; readonly startMs: number; readonly stepNs: number }
  readonly random: { readonly kind: 'crypto' } | { readonly kind: 'seeded'; readonly seed: number }
  readonly stdin: { readonly kind: 'eof' } | { readonly kind: 'stream' }
  readonly stdout: OutputPolicy
  readonly stderr: OutputPolicy
  readonly scratch: ScratchGrant | null
  readonly sockets: { readonly maxConnections: number } | null
  /** Most fds the process may hold at once (stdio and preopens included). */
  readonly maxFds: number
}

const STDIO: Row = { do: 'fds', on: ['stdio'] }
const NOT_CAPABLE: Row = { do: 'deny', errno: 'ENOTCAPABLE' }

function defaultRow(fn: Preview1Function): Row {
  if (fn.startsWith('args_') || fn.startsWith('environ_')) return { do: 'empty' }
  if (fn.startsWith('fd_')) return STDIO
  if (fn.startsWith('path_') || fn.startsWith('sock_')) return NOT_CAPABLE
  if (fn === 'proc_exit') return { do: 'trap' }
  if (fn === 'proc_raise') return { do: 'deny', errno: 'ENOSYS' }
  // poll_oneoff: clocks, and stdio's fds (stdout/stderr writable while the sink has room,
  // stdin readable per its grant): libc's and Rust's stdio poll them and treat a refusal as fatal.
  if (fn === 'poll_oneoff') return STDIO
  return { do: 'allow' } // clocks, random_get, sched_yield
}

/** The default: a process is a browser tab (shared/design/syscalls.md). */
export const DEFAULT_POLICY: Policy = deepFreeze({
  version: 1,
  rows: Object.fromEntries(PREVIEW1_FUNCTIONS.map((fn) => [fn, defaultRow(fn)])) as Record<Preview1Function, Row>,
  clock: { kind: 'real' },
  random: { kind: 'crypto' },
  stdin: { kind: 'eof' },
  stdout: { chunkBytes: 64 * 1024, onFull: 'backpressure' },
  stderr: { chunkBytes: 64 * 1024, onFull: 'backpressure' },
  scratch: null,
  sockets: null,
  maxFds: 64,
})

/** What a spawner may add on top of a policy. Each key widens the rows it names. */
export interface Grant {
  /** A volatile in-memory scratch dir (defaults: /scratch, 16 MiB, 1024 inodes). */
  scratch?: Partial<ScratchGrant> | true
  /** A deterministic clock: starts at `startMs` (epoch ms) and advances `stepNs` per read. */
  clock?: { startMs: number; stepNs?: number }
  /** A seeded, deterministic (non-cryptographic) RNG. */
  random?: { seed: number }
  /** fd 0 reads a stream capability given to createWasi (`stdin`). */
  stdin?: 'stream'
  /** Binder/conn capabilities given to createWasi (`sockets`) become fds. */
  sockets?: { maxConnections?: number } | true
  /**
   * Most fds open at once: stdio, the scratch dir and its files, listeners, connections
   * (default 64). Connections count against it too: a server granted 256 connections
   * needs room for them here.
   */
  maxFds?: number
  stdout?: Partial<OutputPolicy>
  stderr?: Partial<OutputPolicy>
}

const SCRATCH_ROWS = PREVIEW1_FUNCTIONS.filter((f) => f.startsWith('fd_') || f.startsWith('path_') || f === 'poll_oneoff')
// fd_prestat_get is here so a socket fd answers EBADF ("not a preopened dir"), as wasmtime's
// do: wasi-libc probes fds 3, 4, … at start-up and exits (EX_OSERR) on any other error.
const SOCKET_ROWS: readonly Preview1Function[] = [
  'sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown', 'poll_oneoff',
  'fd_read', 'fd_write', 'fd_close', 'fd_fdstat_get', 'fd_fdstat_set_flags', 'fd_filestat_get', 'fd_renumber',
  'fd_prestat_get', 'fd_prestat_dir_name',
]

function widen(rows: Record<Preview1Function, Row>, fns: readonly Preview1Function[], group: FdGroup): void {
  for (const fn of fns) {
    const r = rows[fn]
    if (r.do === 'fds') { if (!r.on.includes(group)) rows[fn] = { do: 'fds', on: [...r.on, group] } }
    else if (r.do === 'deny' || (r.do === 'allow' && fn === 'poll_oneoff')) rows[fn] = { do: 'fds', on: [group] }
  }
}

/** A new policy: `policy` widened by `g`. The result is validated and frozen. */
export function grant(policy: Policy, g: Grant): Policy {
  const p = structuredClone(policy) as { -readonly [K in keyof Policy]: Policy[K] } & { rows: Record<Preview1Function, Row> }
  if (g.scratch !== undefined) {
    const s = g.scratch === true ? {} : g.scratch
    p.scratch = { mountPath: s.mountPath ?? '/scratch', maxBytes: s.maxBytes ?? 16 * 1024 * 1024, maxInodes: s.maxInodes ?? 1024 }
    widen(p.rows, SCRATCH_ROWS, 'scratch')
  }
  if (g.clock !== undefined) p.clock = { kind: 'virtual', startMs: g.clock.startMs, stepNs: g.clock.stepNs ?? 1000 }
  if (g.random !== undefined) p.random = { kind: 'seeded', seed: g.random.seed }
  if (g.stdin === 'stream') {
    p.stdin = { kind: 'stream' }
    widen(p.rows, ['fd_read', 'poll_oneoff'], 'stdio')
  }
  if (g.sockets !== undefined) {
    const s = g.sockets === true ? {} : g.sockets
    p.sockets = { maxConnections: s.maxConnections ?? 64 }
    widen(p.rows, SOCKET_ROWS, 'socket')
  }
  if (g.maxFds !== undefined) p.maxFds = g.maxFds
  if (g.stdout !== undefined) p.stdout = { ...p.stdout, ...g.stdout }
  if (g.stderr !== undefined) p.stderr = { ...p.stderr, ...g.stderr }
  return validatePolicy(p)
}

// Which row kinds each function accepts, and which fd groups its `fds` rows may name.
function allowedKinds(fn: Preview1Function): readonly Row['do'][] {
  if (fn.startsWith('args_') || fn.startsWith('environ_')) return ['empty', 'deny']
  if (fn === 'proc_exit') return ['trap']
  if (fn === 'proc_raise') return ['deny']
  if (fn.startsWith('fd_') || fn.startsWith('path_') || fn.startsWith('sock_')) return ['fds', 'deny']
  if (fn === 'poll_oneoff') return ['allow', 'fds', 'deny']
  return ['allow', 'deny']
}
function allowedGroups(fn: Preview1Function): readonly FdGroup[] {
  if (fn.startsWith('path_')) return ['scratch']
  if (fn.startsWith('sock_')) return ['socket']
  return ['stdio', 'scratch', 'socket']
}
const DENY_ERRNOS: readonly DenyErrno[] = ['EBADF', 'ENOTCAPABLE', 'ENOSYS', 'EPERM', 'EACCES', 'ENOTSUP']

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}
function int(x: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) throw new PolicyError(path, `expected an integer in [${min}, ${max}], got ${JSON.stringify(x)}`)
  return x
}
function keys(o: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new PolicyError(`${path}.${k}`, 'unknown field')
}

function row(fn: Preview1Function, x: unknown, path: string): Row {
  if (!isObject(x)) throw new PolicyError(path, 'expected a row object')
  const kinds = allowedKinds(fn)
  if (!kinds.includes(x.do as Row['do'])) throw new PolicyError(`${path}.do`, `${fn} accepts ${kinds.join(' | ')}, got ${JSON.stringify(x.do)}`)
  switch (x.do) {
    case 'deny': {
      keys(x, path, ['do', 'errno'])
      if (!DENY_ERRNOS.includes(x.errno as DenyErrno)) throw new PolicyError(`${path}.errno`, `expected one of ${DENY_ERRNOS.join(', ')}`)
      return { do: 'deny', errno: x.errno as DenyErrno }
    }
    case 'fds': {
      keys(x, path, ['do', 'on'])
      const groups = allowedGroups(fn)
      if (!Array.isArray(x.on) || x.on.some((g) => !groups.includes(g as FdGroup))) throw new PolicyError(`${path}.on`, `expected a list of ${groups.join(', ')}`)
      return { do: 'fds', on: [...new Set(x.on as FdGroup[])] }
    }
    default:
      keys(x, path, ['do'])
      return { do: x.do as 'allow' | 'empty' | 'trap' }
  }
}

function output(x: unknown, path: string): OutputPolicy {
  if (!isObject(x)) throw new PolicyError(path, 'expected an object')
  keys(x, path, ['chunkBytes', 'onFull'])
  if (x.onFull !== 'backpressure' && x.onFull !== 'drop') throw new PolicyError(`${path}.onFull`, "expected 'backpressure' or 'drop'")
  return { chunkBytes: int(x.chunkBytes, `${path}.chunkBytes`, 1, 1 << 30), onFull: x.onFull }
}

/**
 * `x` as a Policy, or a PolicyError naming the first problem: an unknown or missing
 * function, a row kind the function does not accept, a malformed grant, a row that needs a
 * grant the policy lacks. Returns a frozen copy; a policy it returned before comes back as
 * it is, unchecked (so a spawner may pass the same policy to every createWasi for free).
 */
export function validatePolicy(x: unknown): Policy {
  // What this function returned before is deep-frozen, so it is still valid: spawning
  // many processes from one policy validates it once (WeakSet: policies are not kept alive).
  if (VALIDATED.has(x as object)) return x as Policy
  const p = check(x)
  VALIDATED.add(p)
  return p
}

/** Policies validatePolicy returned (deep-frozen, so they cannot have changed since). */
const VALIDATED = new WeakSet<object>()

function check(x: unknown): Policy {
  if (!isObject(x)) throw new PolicyError('policy', 'expected an object')
  keys(x, 'policy', ['version', 'rows', 'clock', 'random', 'stdin', 'stdout', 'stderr', 'scratch', 'sockets', 'maxFds'])
  if (x.version !== 1) throw new PolicyError('version', 'expected 1')
  if (!isObject(x.rows)) throw new PolicyError('rows', 'expected an object with one row per preview1 function')
  for (const k of Object.keys(x.rows)) if (!isPreview1Function(k)) throw new PolicyError(`rows.${k}`, 'not a wasi_snapshot_preview1 function')
  const rows = {} as Record<Preview1Function, Row>
  for (const fn of PREVIEW1_FUNCTIONS) {
    if (!(fn in x.rows)) throw new PolicyError(`rows.${fn}`, 'missing: every preview1 function needs an explicit row')
    rows[fn] = row(fn, x.rows[fn], `rows.${fn}`)
  }

  let clock: Policy['clock']
  if (isObject(x.clock) && x.clock.kind === 'real') { keys(x.clock, 'clock', ['kind']); clock = { kind: 'real' } }
  else if (isObject(x.clock) && x.clock.kind === 'virtual') {
    keys(x.clock, 'clock', ['kind', 'startMs', 'stepNs'])
    clock = { kind: 'virtual', startMs: int(x.clock.startMs, 'clock.startMs', 0), stepNs: int(x.clock.stepNs, 'clock.stepNs', 0, 1e12) }
  } else throw new PolicyError('clock', "expected { kind: 'real' } or { kind: 'virtual', startMs, stepNs }")

  let random: Policy['random']
  if (isObject(x.random) && x.random.kind === 'crypto') { keys(x.random, 'random', ['kind']); random = { kind: 'crypto' } }
  else if (isObject(x.random) && x.random.kind === 'seeded') {
    keys(x.random, 'random', ['kind', 'seed'])
    random = { kind: 'seeded', seed: int(x.random.seed, 'random.seed', 0, 0xffffffff) }
  } else throw new PolicyError('random', "expected { kind: 'crypto' } or { kind: 'seeded', seed }")

  if (!isObject(x.stdin) || (x.stdin.kind !== 'eof' && x.stdin.kind !== 'stream')) throw new PolicyError('stdin', "expected { kind: 'eof' | 'stream' }")
  keys(x.stdin, 'stdin', ['kind'])
  const stdin = { kind: x.stdin.kind }

  let scratch: ScratchGrant | null = null
  if (x.scratch !== null) {
    if (!isObject(x.scratch)) throw new PolicyError('scratch', 'expected null or a scratch grant')
    keys(x.scratch, 'scratch', ['mountPath', 'maxBytes', 'maxInodes'])
    const m = x.scratch.mountPath
    if (typeof m !== 'string' || !/^\/[A-Za-z0-9._-]+$/.test(m) || m === '/.' || m === '/..') throw new PolicyError('scratch.mountPath', 'expected an absolute one-component path like /scratch')
    scratch = { mountPath: m, maxBytes: int(x.scratch.maxBytes, 'scratch.maxBytes', 0, 2 ** 32), maxInodes: int(x.scratch.maxInodes, 'scratch.maxInodes', 1, 1 << 20) }
  }
  let sockets: Policy['sockets'] = null
  if (x.sockets !== null) {
    if (!isObject(x.sockets)) throw new PolicyError('sockets', 'expected null or a sockets grant')
    keys(x.sockets, 'sockets', ['maxConnections'])
    sockets = { maxConnections: int(x.sockets.maxConnections, 'sockets.maxConnections', 0, 1 << 16) }
  }
  const policy: Policy = {
    version: 1, rows, clock, random, stdin: stdin as Policy['stdin'],
    stdout: output(x.stdout, 'stdout'), stderr: output(x.stderr, 'stderr'),
    scratch, sockets, maxFds: int(x.maxFds, 'maxFds', 3, 1 << 16),
  }
  for (const fn of PREVIEW1_FUNCTIONS) {
    const r = rows[fn]
    if (r.do !== 'fds') continue
    if (r.on.includes('scratch') && scratch === null) throw new PolicyError(`rows.${fn}.on`, "names 'scratch' but the policy grants no scratch dir")
    if (r.on.includes('socket') && sockets === null) throw new PolicyError(`rows.${fn}.on`, "names 'socket' but the policy grants no sockets")
  }
  return deepFreeze(policy)
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o)
    for (const v of Object.values(o)) deepFreeze(v)
  }
  return o
}

// The default is built frozen above; check it once here, so it is known valid like any
// policy validatePolicy returned (createWasi(DEFAULT_POLICY) validates nothing per spawn).
check(DEFAULT_POLICY)
VALIDATED.add(DEFAULT_POLICY)
