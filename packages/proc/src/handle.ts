// Public handles on processes. A handle is a capability: holding one is what lets a
// caller wait on, message, monitor or kill that process; pids are only labels.

import { AbortedError, MailboxFullError, ProcessExitedError } from './errors.js'
import { Message } from './message.js'
import type { Proc, ProcessState } from './internal/proc.js'
import type { ExitStatus, Pid } from './status.js'

export type { ProcessState }

/** One row of `ps`. */
export interface ProcessInfo {
  readonly pid: Pid
  readonly parent: Pid | undefined
  readonly name: string
  readonly kind: 'wasm' | 'native'
  readonly state: ProcessState
  /** When it was spawned, in ms since the Unix epoch. */
  readonly startedAtMs: number
  /** Wall time spent on the CPU in this process's slices. */
  readonly cpuMs: number
  /** Fuel (≈ wasm expressions) consumed. */
  readonly fuel: number
  readonly slices: number
  readonly memoryBytes: number
  /** Set while hibernated: bytes of saved state (the instance and its memory are gone). */
  readonly hibernatedBytes: number | undefined
  /** Messages waiting in its mailbox, sent by it, and taken from its mailbox (ww_proc messaging). */
  readonly mailbox: number
  readonly sent: number
  readonly received: number
  /** Mailbox capabilities it holds (its handle table; 0 for native processes and once ended). */
  readonly handles: number
  /** Cap'n Proto RPC frames it sent to the host (in) and was handed (out), through its transport. */
  readonly framesIn: number
  readonly framesOut: number
  /** Calls its policy refused, per function (e.g. WASI `path_open`): only counts above 0. */
  readonly denials: Readonly<Record<string, number>>
  /** Other counters from its extensions, if any. */
  readonly extension: Readonly<Record<string, number>> | undefined
  /** How it ended, once it has (a handle's `info()` after exit). */
  readonly status: ExitStatus | undefined
}

export interface WaitOptions { signal?: AbortSignal }

export interface SendOptions extends WaitOptions {
  /**
   * A mailbox capability to pass with the message: the receiver (a guest: `ww_proc.cap`)
   * gets a handle to `cap`'s mailbox in its own table. Holding a handle is what lets the
   * caller pass it on.
   */
  cap?: ProcessHandle
}

/** What handles ask of the scheduler (internal). */
export interface Core {
  kill(p: Proc, status: ExitStatus): void
  deliver(to: Proc, m: Message, wait: boolean): boolean | Promise<void>
  monitor(watcher: Proc, target: Proc): () => void
  link(a: Proc, b: Proc): void
  info(p: Proc): ProcessInfo
  procOf(h: ProcessHandle): Proc
}

export class ProcessHandle {
  readonly #core: Core
  /** @internal */ readonly proc: Proc

  /** @internal */
  constructor(core: Core, proc: Proc) {
    this.#core = core
    this.proc = proc
  }

  get pid(): Pid { return this.proc.pid }
  get parent(): Pid | undefined { return this.proc.parent?.pid }
  get name(): string { return this.proc.name }
  get state(): ProcessState { return this.proc.state }
  /** The exit status once exited, else undefined. */
  get status(): ExitStatus | undefined { return this.proc.status }

  /** How the process ended. Idempotent and concurrent; the signal only stops this wait. */
  wait(opts: WaitOptions = {}): Promise<ExitStatus> {
    const { signal } = opts
    if (!signal) return this.proc.exited
    if (signal.aborted) return Promise.reject(new AbortedError(`wait ${this.pid}`, { cause: signal.reason }))
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(new AbortedError(`wait ${this.pid}`, { cause: signal.reason }))
      signal.addEventListener('abort', onAbort, { once: true })
      this.proc.exited.then((s) => { signal.removeEventListener('abort', onAbort); resolve(s) })
    })
  }

  /** Ends the process and its descendants (killed by host); settles with its status. */
  kill(): Promise<ExitStatus> {
    this.#core.kill(this.proc, { kind: 'killed', by: { kind: 'host' } })
    return this.proc.exited
  }

  /**
   * Sends from the host (sender pid 0). `bytes` are copied once; a Message is delivered
   * as is (no copy). Waits while the mailbox is full (backpressure). With `cap`, the
   * message carries a capability to that process's mailbox.
   */
  send(data: Uint8Array | Message, opts: SendOptions = {}): Promise<void> {
    let m: Message
    try { m = withCap(this.#core, data, 0, opts.cap) } catch (e) { return Promise.reject(e) }
    if (this.proc.status) return Promise.reject(new ProcessExitedError(this.pid))
    if (opts.signal?.aborted) return Promise.reject(new AbortedError(`send to ${this.pid}`, { cause: opts.signal.reason }))
    const r = this.#core.deliver(this.proc, m, true) as Promise<void>
    if (!opts.signal) return r
    const signal = opts.signal
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(new AbortedError(`send to ${this.pid}`, { cause: signal.reason }))
      signal.addEventListener('abort', onAbort, { once: true })
      r.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  /** Sends without waiting; throws MailboxFullError when the mailbox is full. */
  trySend(data: Uint8Array | Message, opts: Pick<SendOptions, 'cap'> = {}): void {
    const m = withCap(this.#core, data, 0, opts.cap)
    if (this.proc.status) throw new ProcessExitedError(this.pid)
    if (!this.#core.deliver(this.proc, m, false)) throw new MailboxFullError(this.pid)
  }

  /** This process gets a `down` message (with the status) when `target` ends. */
  monitor(target: ProcessHandle): () => void {
    return this.#core.monitor(this.proc, this.#core.procOf(target))
  }

  /**
   * Links both ways: when either ends abnormally the other is killed (by link), or, if
   * it traps exits, gets an `exit` message instead.
   */
  link(other: ProcessHandle): void {
    this.#core.link(this.proc, this.#core.procOf(other))
  }

  children(): Pid[] { return [...this.proc.children].map((c) => c.pid) }

  info(): ProcessInfo { return this.#core.info(this.proc) }
}

/**
 * A process the host itself runs (a supervisor, a service, a test probe): it has a pid,
 * a place in the tree, a mailbox it reads in place, and ends when told to.
 */
export class NativeProcess extends ProcessHandle {
  readonly #core2: Core

  /** @internal */
  constructor(core: Core, proc: Proc) {
    super(core, proc)
    this.#core2 = core
  }

  /** The next message (read in place: every receiver of it shares its bytes). */
  async receive(opts: WaitOptions = {}): Promise<Message> {
    for (;;) {
      if (opts.signal?.aborted) throw new AbortedError(`receive ${this.pid}`, { cause: opts.signal.reason })
      const m = this.proc.mailbox.take()
      if (m) return m
      if (this.proc.status) throw new ProcessExitedError(this.pid)
      const wait = this.proc.mailbox.whenNonEmpty()
      await (opts.signal ? abortable(wait, opts.signal) : wait)
    }
  }

  /**
   * Sends as this process (the receiver sees this pid as sender, and a guest receiver can
   * answer it); waits for room. With `cap`, the message carries that mailbox capability.
   */
  sendTo(target: ProcessHandle, data: Uint8Array | Message, opts: Pick<SendOptions, 'cap'> = {}): Promise<void> {
    let m: Message
    try { m = withCap(this.#core2, data, this.pid, opts.cap) } catch (e) { return Promise.reject(e) }
    const to = this.#core2.procOf(target)
    if (to.status) return Promise.reject(new ProcessExitedError(to.pid))
    this.proc.sent++
    return this.#core2.deliver(to, m, true) as Promise<void>
  }

  /** Ends this process with `status` (default exited(0)); its children die with it. */
  exit(status: ExitStatus = { kind: 'exited', code: 0 }): void {
    this.#core2.kill(this.proc, status)
  }
}

/** `data` as a Message from `from`, carrying `cap`'s mailbox (a handle of this scheduler) if given. */
function withCap(core: Core, data: Uint8Array | Message, from: Pid, cap: ProcessHandle | undefined): Message {
  const c = cap === undefined ? 0 : core.procOf(cap).pid
  if (data instanceof Message) return c === 0 ? data : data.withCap(c)
  return Message.copyOf(data, from, undefined, c)
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedError('wait', { cause: signal.reason }))
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
