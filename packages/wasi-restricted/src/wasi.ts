// createWasi: a policy plus the spawner's capabilities → the wasi_snapshot_preview1
// imports of one process. Every function gets exactly its row: a deny row answers its
// errno; any other row runs our implementation, which reaches only what was granted.

import type { SuspendingImport } from '@ww/interface'
import { Audit, DENIAL_ERRNOS, type AuditSnapshot } from './audit.js'
import { ERRNO, Errno, errnoName } from './errno.js'
import { PolicyError, ProcessExit, WasiError, WasiInternalError, WasiStateError } from './errors.js'
import { FdTable } from './fds.js'
import { FD_ARGS, PREVIEW1_FUNCTIONS, type Preview1Function } from './functions.js'
import type { InputStream, OutputSink } from './io.js'
import { GuestMemory } from './memory.js'
import { validatePolicy, type FdGroup, type Policy } from './policy.js'
import { ScratchFs } from './scratch/fs.js'
import { fit, planSeed, type ScratchEntry } from './scratch/seed.js'
import { Waiters, type Binder, type Conn } from './sockets.js'
import type { CallResult, Ctx, Impl, WasiScheduler } from './calls/context.js'
import { createClock } from './calls/clock-source.js'
import { argsCalls } from './calls/args.js'
import { clockCalls } from './calls/clock.js'
import { randomCalls, randomSource } from './calls/random.js'
import { fdCalls } from './calls/fd.js'
import { pathCalls } from './calls/path.js'
import { pollCalls } from './calls/poll.js'
import { procCalls } from './calls/proc.js'
import { sockCalls } from './calls/sock.js'

// An import that may wait: @ww/interface's SuspendingImport (one type for WASI and the transport).
export type { SuspendingImport }

/**
 * Turns a possibly-waiting import into a plain one whose caller (the guest) suspends
 * while the promise is pending — `Suspender.wrapImport` of @ww/transport (asyncify/JSPI).
 * The guest module must list these imports as suspending (SUSPENDING_IMPORTS).
 */
export type SuspendHook = (fn: SuspendingImport) => (...args: number[]) => number

/** The imports that may wait, for asyncify's `asyncify-imports` list. All their parameters are i32. */
export const SUSPENDING_IMPORTS: readonly Preview1Function[] = [
  'fd_read', 'fd_write', 'poll_oneoff', 'sched_yield', 'sock_accept', 'sock_recv', 'sock_send',
]

export interface WasiOptions {
  /** Tags every output record and trap. Given by the spawner, never by the guest. */
  processId: string
  /** Where fd 1 and 2 go. Required: a process's output goes nowhere else. */
  sinks: { stdout: OutputSink; stderr: OutputSink }
  /** Read as fd 0; requires a policy granting `stdin: 'stream'`. */
  stdin?: InputStream
  /**
   * Listening sockets, as fds after the scratch preopen (fd 3 upward), in order; requires a
   * sockets grant. Each is claimed for this process (`Binder.claim`): a TcpListener already
   * granted to another process throws CapInUse (ERR_CAP_IN_USE).
   */
  sockets?: readonly Binder[]
  /** Connected streams (e.g. dialled by the spawner), as fds after `sockets`; count toward the connection cap. */
  conns?: readonly Conn[]
  /**
   * What the scratch dir holds when the process starts (the policy must grant one): files
   * as bytes, dirs, symlinks, by paths relative to it. Counted against its quota; a seed
   * that does not fit, or a path that would leave the dir, is a ScratchSeedError
   * (ERR_SCRATCH_SEED) and nothing is made. checkScratchSeed says so before any spawn.
   */
  scratchSeed?: readonly ScratchEntry[]
  /** Lets sleeps, yields, full sinks and empty streams wait without blocking. Without it they return ENOTSUP/EAGAIN. */
  suspend?: SuspendHook
  /** How waits are timed (default: setTimeout / setImmediate). */
  scheduler?: Partial<WasiScheduler>
}

export type Preview1Imports = { readonly [F in Preview1Function]: (...args: never[]) => number }

export interface Wasi {
  /** Put under `wasi_snapshot_preview1` in the import object. */
  readonly imports: Preview1Imports
  /** Binds the guest's memory (or the instance exporting `memory`); read afresh at every call. */
  attach(target: WebAssembly.Memory | WebAssembly.Instance): void
  /** Lets go of the memory (the instance is being dropped, e.g. hibernated); calls fail until attach() again. */
  detach(): void
  /** Denials so far. */
  audit(): AuditSnapshot
  /** The proc_exit the guest made, if any. */
  readonly exit: ProcessExit | undefined
  /** Scratch dir usage, when granted. */
  scratchUsage(): { bytes: number; inodes: number } | undefined
  /**
   * Closes every fd (granted sockets included) and drops the scratch dir. Idempotent. Every
   * call still waiting (a sleep, a poll, an accept, a read, a write to a full sink) settles
   * at once, rejected with the process's end (WasiStateError, or the ProcessExit it made).
   */
  close(): void
  [Symbol.asyncDispose](): Promise<void>
}

const defaultScheduler: WasiScheduler = {
  sleep: (ns, signal) => new Promise<void>((resolve) => {
    const t = setTimeout(resolve, Math.ceil(Number(ns) / 1e6))
    signal.addEventListener('abort', () => { clearTimeout(t); resolve() }, { once: true })
  }),
  yield: () => new Promise<void>((resolve) => setImmediate(resolve)),
}

// Which fd groups each row lets its function act on, per policy: policies are frozen, so
// every process spawned from one shares these sets.
const GROUPS = new WeakMap<Policy, Readonly<Record<Preview1Function, ReadonlySet<FdGroup>>>>()
function groupsOf(policy: Policy): Readonly<Record<Preview1Function, ReadonlySet<FdGroup>>> {
  let g = GROUPS.get(policy)
  if (g === undefined) {
    const groups = {} as Record<Preview1Function, ReadonlySet<FdGroup>>
    for (const fn of PREVIEW1_FUNCTIONS) {
      const r = policy.rows[fn]
      groups[fn] = new Set(r.do === 'fds' ? r.on : [])
    }
    g = Object.freeze(groups)
    GROUPS.set(policy, g)
  }
  return g
}

/**
 * Builds one process's WASI. Throws PolicyError for a bad policy or a capability the policy
 * does not grant. A policy from grant()/validatePolicy()/DEFAULT_POLICY is not checked again.
 */
export function createWasi(policy: Policy, options: WasiOptions): Wasi {
  policy = validatePolicy(policy)
  const { processId } = options
  if (typeof processId !== 'string' || processId === '') throw new WasiStateError('options.processId is required')
  if (typeof options.sinks?.stdout?.write !== 'function' || typeof options.sinks?.stderr?.write !== 'function') {
    throw new WasiStateError('options.sinks.stdout and .stderr are required')
  }
  if (policy.stdin.kind === 'stream' && options.stdin === undefined) throw new PolicyError('stdin', "the policy grants a stdin stream but options.stdin is missing")
  if (policy.stdin.kind !== 'stream' && options.stdin !== undefined) throw new PolicyError('stdin', 'options.stdin given but the policy does not grant it')
  const nSockets = (options.sockets?.length ?? 0) + (options.conns?.length ?? 0)
  if (nSockets > 0 && policy.sockets === null) throw new PolicyError('sockets', 'options.sockets/conns given but the policy grants no sockets')
  if ((options.conns?.length ?? 0) > (policy.sockets?.maxConnections ?? 0)) throw new PolicyError('sockets.maxConnections', `${policy.sockets?.maxConnections} cannot hold the ${options.conns!.length} connections this process starts with`)
  if (options.scratchSeed !== undefined && options.scratchSeed.length > 0 && policy.scratch === null) throw new PolicyError('scratch', 'options.scratchSeed given but the policy grants no scratch dir')
  const seed = policy.scratch === null || options.scratchSeed === undefined ? undefined : planSeed(options.scratchSeed)
  if (seed !== undefined) fit(policy.scratch!, seed)
  const preopened = 3 + (policy.scratch === null ? 0 : 1) + nSockets
  if (preopened > policy.maxFds) throw new PolicyError('maxFds', `${policy.maxFds} cannot hold the ${preopened} fds this process starts with`)

  const mem = new GuestMemory()
  const audit = new Audit()
  const clock = createClock(policy)
  const fds = new FdTable(policy.maxFds)
  fds.add({ kind: 'stdin' }); fds.add({ kind: 'stdout' }); fds.add({ kind: 'stderr' })
  const scratch = policy.scratch === null ? null : new ScratchFs(policy.scratch, () => clock.now(0)!)
  if (seed !== undefined) scratch!.seed(seed)
  if (scratch !== null) fds.add({ kind: 'dir', node: scratch.root, preopen: policy.scratch!.mountPath, fs: scratch })
  for (const b of options.sockets ?? []) b.claim?.(processId)
  for (const b of options.sockets ?? []) fds.add({ kind: 'listener', binder: b, flags: 0 })
  for (const c of options.conns ?? []) fds.add({ kind: 'conn', conn: c, flags: 0 })

  const groups = groupsOf(policy)
  // Closing wakes every wait in progress; each then settles with `ended` (see Ctx.until).
  const closing = new Waiters()
  let closed = false
  // Made at the first use after close, not by close(): an Error's stack trace is most of
  // what a spawn-and-close of a process that never waited would cost.
  const closedError = (): WasiError => (ended ??= new WasiStateError(`process ${processId}: WASI closed`, processId))
  const canWait = typeof options.suspend === 'function'
  const ctx: Ctx = {
    processId, policy, mem, fds, scratch, clock, audit, groups, canWait,
    stdout: options.sinks.stdout, stderr: options.sinks.stderr, stdin: options.stdin ?? null,
    scheduler: { ...defaultScheduler, ...options.scheduler },
    fillRandom: randomSource(policy),
    get closed() { return closed },
    watchClose: (wake) => closing.add(wake),
    checkOpen() { if (closed) throw closedError() },
    until(p) {
      if (closed) return Promise.reject(closedError())
      return new Promise((resolve, reject) => {
        const off = closing.add(() => reject(closedError()))
        p.then((v) => { off(); resolve(v) }, (e: unknown) => { off(); reject(e) })
      })
    },
  }

  let exit: ProcessExit | undefined
  // Once set, every later call throws it: a guest that caught a trap is still ended.
  let ended: WasiError | undefined
  // Object.assign, not spread: V8's object spread of these eight tables was half of
  // createWasi's cost (wasi.create 70 → 35 µs).
  const impls: Partial<Record<Preview1Function, Impl>> = Object.assign({},
    argsCalls(ctx), clockCalls(ctx), randomCalls(ctx), fdCalls(ctx), pathCalls(ctx),
    pollCalls(ctx), sockCalls(ctx), procCalls(ctx, (e) => { exit = e; ended = e }))

  const settle = (fn: Preview1Function, r: number): number => {
    if (r !== ERRNO.SUCCESS && DENIAL_ERRNOS.has(r)) audit.deny(fn, r)
    return r
  }
  const onThrow = (fn: Preview1Function, x: unknown): number => {
    if (x instanceof Errno) return settle(fn, x.errno)
    if (x instanceof WasiError) throw x
    ended = new WasiInternalError(`${fn} failed inside the layer`, x, processId)
    throw ended
  }

  const imports = {} as Record<Preview1Function, (...args: never[]) => number>
  for (const fn of PREVIEW1_FUNCTIONS) {
    const row = policy.rows[fn]
    if (row.do === 'deny') {
      const errno = ERRNO[row.errno]
      // An fd that is not open is EBADF whatever the row says (programs and libc tell
      // "no such fd" from "not allowed"); one that is open gets the row's errno.
      const at = FD_ARGS[fn]
      imports[fn] = (...args: unknown[]) => {
        if (ended !== undefined) throw ended
        if (closed) throw closedError()
        for (let i = 0; i < at.length; i++) if (fds.get(args[at[i]!] as number) === undefined) return ERRNO.EBADF
        audit.deny(fn, errno)
        return errno
      }
      continue
    }
    const impl = impls[fn]
    if (impl === undefined) throw new WasiInternalError(`no implementation for ${fn} (row ${row.do})`, undefined, processId)
    // Fixed arity (the most any preview1 function takes) keeps the hot path free of rest arrays.
    const guarded = (a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown, g?: unknown, h?: unknown, i?: unknown): CallResult => {
      if (ended !== undefined) throw ended
      if (closed) throw closedError()
      if (!mem.attached) throw new WasiStateError(`${fn} called before attach()`, processId)
      let r: CallResult
      try { r = impl(a, b, c, d, e, f, g, h, i) } catch (x) { return onThrow(fn, x) }
      if (typeof r === 'number') return settle(fn, r)
      if (!canWait) { ended = new WasiInternalError(`${fn} tried to wait without a suspension hook`, undefined, processId); throw ended }
      return r.then((v) => settle(fn, v), (x: unknown) => onThrow(fn, x))
    }
    imports[fn] = (canWait && SUSPENDING_IMPORTS.includes(fn)
      ? options.suspend!(guarded as SuspendingImport)
      : guarded) as (...args: never[]) => number
  }

  const close = (): void => {
    if (closed) return
    closed = true
    // First the waits (they reject with `ended` and drop their timers and watches), then
    // the fds: no wait of an ended process goes back to sleep on a closed capability.
    closing.wake()
    fds.clear()
    scratch?.drop()
  }
  return {
    imports,
    attach(target) {
      const m = target instanceof WebAssembly.Memory ? target : (target as WebAssembly.Instance)?.exports?.memory
      if (!(m instanceof WebAssembly.Memory)) throw new WasiStateError('attach() needs a WebAssembly.Memory or an instance exporting `memory`', processId)
      mem.set(m)
    },
    detach: () => mem.clear(),
    audit: () => audit.snapshot(errnoName),
    get exit() { return exit },
    scratchUsage: () => (scratch === null ? undefined : { bytes: scratch.usedBytes, inodes: scratch.usedInodes }),
    close,
    [Symbol.asyncDispose]: async () => close(),
  }
}
