// A handle, on the main thread, on a process that runs on a pool worker. Like a
// ProcessHandle it is the capability to wait on, message, kill and inspect that process;
// the calls that need the worker are asynchronous.

import type { RpcConnection } from '@ww/transport'
import { AbortedError, ProcessExitedError } from '../errors.js'
import type { ProcessInfo, WaitOptions } from '../handle.js'
import type { ExitStatus, Pid } from '../status.js'

/** One row of the pool's `ps`: a worker's row, and which worker. */
export interface PoolProcessInfo extends ProcessInfo {
  readonly worker: number
}

/** What a handle asks of its pool (internal). */
export interface PoolCore {
  kill(p: RemoteProcess): void
  send(p: RemoteProcess, bytes: Uint8Array, cap?: RemoteProcess): Promise<number>
  info(p: RemoteProcess): Promise<PoolProcessInfo | undefined>
  peek(p: RemoteProcess): Promise<Uint8Array | undefined>
  monitor(watcher: RemoteProcess, target: RemoteProcess): () => void
  link(a: RemoteProcess, b: RemoteProcess): () => void
}

export class RemoteProcess {
  readonly pid: Pid
  /** The worker it runs on, for its whole life. */
  readonly worker: number
  readonly name: string | undefined
  /** The parent's pid, if it was spawned with one (always on the same worker). */
  readonly parent: Pid | undefined
  readonly #core: PoolCore
  readonly #exited: Promise<ExitStatus>
  #settle!: (s: ExitStatus) => void
  #status: ExitStatus | undefined
  /** @internal The main-thread end of its RPC, when it was given a bootstrap capability. */
  rpc: RpcConnection | undefined

  /** @internal */
  constructor(core: PoolCore, pid: Pid, worker: number, name: string | undefined, parent?: Pid) {
    this.#core = core
    this.pid = pid
    this.worker = worker
    this.name = name
    this.parent = parent
    this.#exited = new Promise((r) => { this.#settle = r })
  }

  /** The exit status once known on this thread, else undefined. */
  get status(): ExitStatus | undefined { return this.#status }

  /** @internal Called once by the pool when the process ended (or its worker crashed). */
  settle(s: ExitStatus): void {
    if (this.#status !== undefined) return
    this.#status = s
    this.#settle(s)
  }

  /** How the process ended. Idempotent and concurrent; the signal only stops this wait. */
  wait(opts: WaitOptions = {}): Promise<ExitStatus> {
    const { signal } = opts
    if (!signal) return this.#exited
    return abortable(this.#exited, signal, `wait ${this.pid}`)
  }

  /** Ends the process and its descendants (killed by host); settles with its status. */
  kill(): Promise<ExitStatus> {
    if (this.#status === undefined) this.#core.kill(this)
    return this.#exited
  }

  /**
   * Sends from the host (sender pid 0): `bytes` are copied once into shared memory, and a
   * pool message (`pool.message()`) is sent as it is, to any number of receivers. Settles
   * once the receiver's mailbox took it (waits while full: backpressure). With `cap`, the
   * message carries a capability to that process's mailbox (on any worker).
   */
  async send(bytes: Uint8Array, opts: WaitOptions & { cap?: RemoteProcess } = {}): Promise<void> {
    if (this.#status !== undefined) throw new ProcessExitedError(this.pid)
    const sent = this.#core.send(this, bytes, opts.cap)
    const r = await (opts.signal ? abortable(sent, opts.signal, `send to ${this.pid}`) : sent)
    if (r < 0) throw new ProcessExitedError(this.pid)
  }

  /** @internal True if `core` (a pool) made this handle. */
  ownedBy(core: PoolCore): boolean { return this.#core === core }

  /** This process gets a `down` message (sender: the target's pid; the status as JSON) when `target` ends, on any worker. */
  monitor(target: RemoteProcess): () => void {
    return this.#core.monitor(this, target)
  }

  /** Links this process with `other`, on any worker (see WorkerPool.link); returns the unlink. */
  link(other: RemoteProcess): () => void {
    return this.#core.link(this, other)
  }

  /** Its `ps` row, read on its worker now; undefined once it has exited. */
  info(): Promise<PoolProcessInfo | undefined> {
    return this.#core.info(this)
  }

  /**
   * Diagnostics: the bytes of the next message waiting in its mailbox, as the worker holds
   * them (a message in shared memory comes back as a view of that same memory). Read only.
   */
  peekMessage(): Promise<Uint8Array | undefined> {
    return this.#core.peek(this)
  }
}

function abortable<T>(p: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) return Promise.reject(new AbortedError(what, { cause: signal.reason }))
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedError(what, { cause: signal.reason }))
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
