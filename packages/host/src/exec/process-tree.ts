import type { BytecodeCache } from '../cache/bytecode-cache.js'
import { ClosedError, InvalidArgumentError, NotFoundError } from '../errors.js'
import { bounded, type CallOptions } from '../util/abort.js'
import type { ExitStatus, Executor, Pid, ProcessHandle, Runtime, SpawnRequest } from './types.js'

interface Proc {
  pid: Pid
  parent: Proc | undefined
  children: Set<Proc>
  running: { kill(): void } | undefined
  exited: Promise<ExitStatus>
  status: ExitStatus | undefined
  killing: boolean
}

const KILLED: ExitStatus = { kind: 'killed' }

/**
 * The process tree of one host: pids, parents and children. Parents come from the
 * Executor a caller holds (bound at creation), never from a request. Killing a process
 * kills its subtree, children first; a process that ends takes its children with it.
 */
export class ProcessTree {
  readonly #runtime: Runtime
  readonly #cache: BytecodeCache | undefined
  readonly #procs = new Map<Pid, Proc>()
  #nextPid = 1
  #closed = false

  constructor(init: { runtime: Runtime; cache?: BytecodeCache }) {
    this.#runtime = init.runtime
    this.#cache = init.cache
  }

  /** Live processes. */
  get size(): number { return this.#procs.size }

  /** The host's own executor: what it spawns are roots. */
  executor(): Executor { return this.#executorFor(undefined) }

  #executorFor(caller: Proc | undefined): Executor {
    return {
      spawn: (req, opts) => this.#spawn(caller, req, opts),
      process: (pid) => {
        const p = this.#procs.get(pid)
        if (!p || (caller && !isSelfOrDescendant(p, caller))) throw new NotFoundError(`process ${pid}`)
        return this.#handle(p)
      },
    }
  }

  async #spawn(caller: Proc | undefined, req: SpawnRequest, opts?: CallOptions): Promise<ProcessHandle> {
    if (this.#closed) throw new ClosedError('process tree')
    if (caller && (caller.status || caller.killing)) throw new ClosedError(`process ${caller.pid}`)
    let bytecode = req.bytecode
    if (!bytecode) {
      if (req.cid === undefined) throw new InvalidArgumentError('spawn needs bytecode or a cid')
      if (!this.#cache) throw new NotFoundError(`bytecode ${req.cid} (no cache)`)
      bytecode = this.#cache.get(req.cid)
    }
    const pid = this.#nextPid++
    let settle!: (s: ExitStatus) => void
    const p: Proc = {
      pid, parent: caller, children: new Set(), running: undefined, status: undefined, killing: false,
      exited: new Promise<ExitStatus>((r) => { settle = r }),
    }
    this.#procs.set(pid, p)
    caller?.children.add(p)
    const finish = (s: ExitStatus): void => {
      if (p.status) return
      p.status = p.killing ? KILLED : s
      this.#procs.delete(pid)
      p.parent?.children.delete(p)
      // Orphans do not outlive their parent.
      for (const c of [...p.children]) void this.#kill(c)
      settle(p.status)
    }
    try {
      const running = await bounded(
        this.#runtime.start({
          pid, parent: caller?.pid, bytecode, args: req.args ?? [], caps: req.caps ?? {}, executor: this.#executorFor(p),
        }, opts),
        `spawn ${pid}`, opts,
      )
      p.running = running
      running.exited.then(finish, (e: unknown) => finish({ kind: 'trapped', reason: String(e) }))
      if (p.killing) running.kill()
    } catch (e) {
      finish({ kind: 'trapped', reason: `failed to start: ${String(e)}` })
      throw e
    }
    return this.#handle(p)
  }

  async #kill(p: Proc): Promise<void> {
    if (p.status) return
    p.killing = true
    await Promise.all([...p.children].map((c) => this.#kill(c)))
    p.running?.kill()
    await p.exited
  }

  #handle(p: Proc): ProcessHandle {
    return {
      pid: p.pid,
      parent: p.parent?.pid,
      wait: (opts) => bounded(p.exited, `wait ${p.pid}`, opts),
      kill: () => this.#kill(p),
      children: () => [...p.children].map((c) => c.pid),
    }
  }

  /** Kills every process and refuses new ones. */
  async close(): Promise<void> {
    this.#closed = true
    await Promise.all([...this.#procs.values()].filter((p) => !p.parent).map((p) => this.#kill(p)))
  }
}

function isSelfOrDescendant(p: Proc, ancestor: Proc): boolean {
  for (let q: Proc | undefined = p; q; q = q.parent) if (q === ancestor) return true
  return false
}
