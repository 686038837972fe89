import { trapField, trapKindOf } from '@ww/interface'
import type { BytecodeCache, Cid } from '../cache/bytecode-cache.js'
import { ClosedError, HostUnreachableError, InvalidArgumentError, NotFoundError, QueueFullError } from '../errors.js'
import { bounded, type CallOptions } from '../util/abort.js'
import { holdDelegated } from './delegated.js'
import { Watches } from './watches.js'
import type {
  ChildOptions, ExitStatus, Executor, KillReason, Pid, ProcessHandle, ProcessSnapshot, RemoteSpawner, Runtime, RunningProcess,
  SpawnRequest,
} from './types.js'

interface Proc {
  pid: Pid
  parent: Proc | undefined
  /** Set for a root spawned on behalf of a process of another host (Peer.exec). */
  remoteParent: { host: string; pid: Pid } | undefined
  /** Set for a child running on another host: its id there. */
  remote: { host: string; pid: Pid } | undefined
  children: Set<Proc>
  running: Pick<RunningProcess, 'kill' | 'bootstrap'> | undefined
  exited: Promise<ExitStatus>
  status: ExitStatus | undefined
  killing: KillReason | undefined
  name: string
  cid: Cid | undefined
  startedAtMs: number
}

/** What the tree counts, for Debug (monotonic except `live`). */
export interface ProcessTreeCounters {
  spawned: number
  remoteSpawned: number
  exited: number
  trapped: number
  killed: number
  failedToStart: number
  live: number
}

export interface ProcessTreeInit {
  runtime: Runtime
  cache?: BytecodeCache
  /** This host's id, for ProcessSnapshot (default "local"). */
  host?: string
  /** Starts children on other hosts (`SpawnRequest.where`); without it they are ERR_HOST_UNREACHABLE. */
  remote?: RemoteSpawner
  /** Live processes at most (entries for remote children included); more is ERR_QUEUE_FULL (RPC: ERR_LIMIT). Default: no limit. */
  maxProcesses?: number
}

/** The tree each executor came from: its Process capabilities record monitors in that tree's `watches`. */
const WATCHES_OF = new WeakMap<Executor, Watches>()

/** The monitor table of the tree that made `executor` (undefined for an executor from elsewhere). */
export function watchesOf(executor: Executor): Watches | undefined { return WATCHES_OF.get(executor) }

/**
 * The process tree of one host: pids, parents and children. Parents come from the
 * Executor a caller holds (bound at creation), never from a request. Killing a process
 * kills its subtree, children first; a process that ends takes its children with it —
 * also children it started on other hosts (they are entries here whose `running` is the
 * remote process).
 */
export class ProcessTree {
  readonly #runtime: Runtime
  readonly #cache: BytecodeCache | undefined
  readonly #host: string
  #remote: RemoteSpawner | undefined
  readonly #max: number
  readonly #procs = new Map<Pid, Proc>()
  readonly #counters: ProcessTreeCounters = { spawned: 0, remoteSpawned: 0, exited: 0, trapped: 0, killed: 0, failedToStart: 0, live: 0 }
  readonly #exitWatchers = new Set<(ended: ProcessSnapshot) => void>()
  #nextPid = 1
  #closed = false
  /** Pending monitors on its processes' Process capabilities (rpc/process.ts records them). */
  readonly watches = new Watches()

  constructor(init: ProcessTreeInit) {
    this.#runtime = init.runtime
    this.#cache = init.cache
    this.#host = init.host ?? 'local'
    this.#remote = init.remote
    this.#max = init.maxProcesses ?? Infinity
  }

  /** This host's id, as snapshots name it. */
  get host(): string { return this.#host }

  /** Live processes (remote children counted once, by their entry here). */
  get size(): number { return this.#procs.size }

  /** Installs the remote spawner (host-to-host RPC), once the layer exists. */
  setRemote(remote: RemoteSpawner): void { this.#remote = remote }

  counters(): ProcessTreeCounters { return { ...this.#counters, live: this.#procs.size } }

  /** The host's own executor: what it spawns are roots. */
  executor(): Executor { return this.#executorFor(undefined, undefined) }

  /**
   * The executor bound to live process `pid` (0: the host's own). For the host that
   * builds a process's Host capability; the pid comes from the host, never from a guest.
   */
  executorOf(pid: Pid): Executor {
    if (pid === 0) return this.executor()
    const p = this.#procs.get(pid)
    if (!p || p.remote) throw new NotFoundError(`process ${pid}`)
    return this.#executorFor(p, undefined)
  }

  /**
   * An executor for a process of another host: what it spawns here are roots of this
   * tree that list `parent` as their parent (Peer.exec). The caller vouches for `parent`.
   */
  executorForRemote(parent: { host: string; pid: Pid }): Executor {
    return this.#executorFor(undefined, parent)
  }

  /**
   * Calls `handler` with the last snapshot (status set) of each process that ends here,
   * remote children's entries included; the returned function stops it. For observers
   * that keep ended processes for a while (the web view): the tree itself forgets them.
   */
  onExit(handler: (ended: ProcessSnapshot) => void): () => void {
    this.#exitWatchers.add(handler)
    return () => { this.#exitWatchers.delete(handler) }
  }

  /** Every live process here, by pid (Debug.ps). */
  list(): ProcessSnapshot[] {
    return [...this.#procs.values()].map((p) => this.#snapshot(p))
  }

  #executorFor(caller: Proc | undefined, remoteParent: { host: string; pid: Pid } | undefined): Executor {
    const executor: Executor = {
      spawn: (req, opts) => this.#spawn(caller, remoteParent, req, opts),
      process: (pid) => {
        const p = this.#procs.get(pid)
        if (!p || (caller && !isSelfOrDescendant(p, caller))) throw new NotFoundError(`process ${pid}`)
        return this.#handle(p)
      },
      descendants: () => {
        const out: ProcessSnapshot[] = []
        for (const p of this.#procs.values()) {
          const mine = caller ? p !== caller && isSelfOrDescendant(p, caller) : sameRef(rootOf(p).remoteParent, remoteParent)
          if (mine) out.push(this.#snapshot(p))
        }
        return out
      },
    }
    WATCHES_OF.set(executor, this.watches)
    return executor
  }

  async #spawn(
    caller: Proc | undefined, remoteParent: { host: string; pid: Pid } | undefined, req: SpawnRequest, opts?: CallOptions,
  ): Promise<ProcessHandle> {
    if (this.#closed) throw new ClosedError('process tree')
    if (caller && (caller.status || caller.killing)) throw new ClosedError(`process ${caller.pid}`)
    if (this.#procs.size >= this.#max) throw new QueueFullError(`${this.#procs.size} processes live on ${this.#host} (max ${this.#max})`)
    const where = req.where !== undefined && req.where !== '' && req.where !== this.#host ? req.where : undefined
    let bytecode = req.bytecode
    let cid = req.cid
    if (bytecode) {
      // Custody: the request's bytes may be a view into a guest's memory; one copy, kept
      // in the cache (shared, immutable) so later spawns here or from elsewhere can name it.
      if (this.#cache) bytecode = this.#cache.get(cid = this.#cache.put(bytecode))
      else bytecode = bytecode.slice()
    } else if (cid === undefined) {
      throw new InvalidArgumentError('spawn needs bytecode or a cid')
    } else if (where === undefined) {
      if (!this.#cache) throw new NotFoundError(`bytecode ${cid} (no cache)`)
      bytecode = this.#cache.get(cid)
    }
    if (where !== undefined && !this.#remote) {
      throw new HostUnreachableError(where, { cause: new Error('no host-to-host RPC on this host') })
    }
    // What the spawner delegated stays alive while the child runs (here or there).
    // The child's own handles replace the request's (which may be a call's, disposed when it settles).
    const held = holdDelegated(req.caps, req.child)
    const letGo = held.letGo
    req = { ...req, ...(held.caps ? { caps: held.caps } : {}), ...(held.child ? { child: held.child } : {}) }
    const pid = this.#nextPid++
    let settle!: (s: ExitStatus) => void
    const p: Proc = {
      pid, parent: caller, remoteParent, remote: undefined, children: new Set(), running: undefined, status: undefined,
      killing: undefined, name: req.name ?? '', cid, startedAtMs: Date.now(),
      exited: new Promise<ExitStatus>((r) => { settle = r }),
    }
    this.#procs.set(pid, p)
    caller?.children.add(p)
    let failed = false
    let starting: Promise<{ kill(): void }> | undefined
    const finish = (s: ExitStatus): void => {
      if (p.status) return
      p.status = p.killing && s.kind !== 'hostLost' ? { kind: 'killed', reason: p.killing } : s
      if (failed) this.#counters.failedToStart++
      else this.#count(p.status)
      this.#procs.delete(pid)
      letGo()
      p.parent?.children.delete(p)
      // Orphans do not outlive their parent.
      for (const c of [...p.children]) void this.#kill(c, 'parentExited')
      if (this.#exitWatchers.size > 0) {
        const last = this.#snapshot(p)
        // An observer's fault is its own: it must not stop the tree settling this exit.
        for (const w of this.#exitWatchers) try { w(last) } catch { /* ignored */ }
      }
      settle(p.status)
    }
    try {
      if (where !== undefined) {
        const parentRef = { host: this.#host, pid: caller?.pid ?? 0 }
        const { bytecode: _view, child, ...rest } = req
        const running = await this.#remote!.spawn(where, parentRef, {
          ...rest, ...(bytecode ? { bytecode } : {}), ...(child ? { child: ownChild(child) } : {}),
        }, opts)
        p.remote = { host: running.host, pid: running.pid }
        p.running = running
        this.#counters.remoteSpawned++
        running.exited.then(finish, (e: unknown) => finish({ kind: 'trapped', reason: String(e), ...trapField(trapKindOf(e)) }))
      } else {
        const running = await bounded(
          starting = this.#runtime.start({
            pid, parent: caller?.pid, bytecode: bytecode!, args: req.args ?? [], caps: req.caps ?? [],
            host: this.#host, parentRef: caller ? { host: this.#host, pid: caller.pid } : remoteParent ?? { host: this.#host, pid: 0 },
            ...(cid !== undefined ? { cid } : {}),
            executor: this.#executorFor(p, undefined),
            ...(req.child ? { child: ownChild(req.child) } : {}),
            ...(req.name ? { name: req.name } : {}),
          }, opts),
          `spawn ${pid}`, opts,
        )
        p.running = running
        running.exited.then(finish, (e: unknown) => finish({ kind: 'trapped', reason: String(e), ...trapField(trapKindOf(e)) }))
      }
      this.#counters.spawned++
      if (p.killing) p.running.kill()
    } catch (e) {
      failed = true
      finish({ kind: 'failedToStart', reason: String(e) })
      // Aborted or timed out while the runtime was starting it: it may still start, with
      // its caps let go and no entry here; end it when it does.
      void starting?.then((late) => late.kill(), () => {})
      throw e
    }
    return this.#handle(p)
  }

  #count(s: ExitStatus): void {
    this.#counters.exited++
    if (s.kind === 'trapped') this.#counters.trapped++
    else if (s.kind === 'killed') this.#counters.killed++
  }

  async #kill(p: Proc, why: KillReason): Promise<void> {
    if (p.status) return
    p.killing ??= why
    await Promise.all([...p.children].map((c) => this.#kill(c, why === 'requested' ? 'requested' : why)))
    p.running?.kill()
    await p.exited
  }

  #snapshot(p: Proc): ProcessSnapshot {
    const parent = p.parent ? { host: this.#host, pid: p.parent.pid } : p.remoteParent ?? { host: this.#host, pid: 0 }
    return {
      host: p.remote?.host ?? this.#host,
      pid: p.remote?.pid ?? p.pid,
      parent,
      name: p.name,
      cid: p.cid,
      state: p.status ? 'exited' : p.running ? 'running' : 'starting',
      startedAtMs: p.startedAtMs,
      status: p.status,
    }
  }

  #handle(p: Proc): ProcessHandle {
    return {
      pid: p.pid,
      parent: p.parent?.pid,
      wait: (opts) => bounded(p.exited, `wait ${p.pid}`, opts),
      kill: (why) => this.#kill(p, why ?? 'requested'),
      bootstrap: async () => {
        if (p.status) throw new ClosedError(`process ${p.pid}`)
        const offer = p.running?.bootstrap
        if (offer === undefined) throw new NotFoundError(`a bootstrap capability of process ${p.pid} (its runtime offers none)`)
        return offer.call(p.running)
      },
      children: () => [...p.children].map((c) => c.pid),
      info: () => this.#snapshot(p),
    }
  }

  /** Kills every process and refuses new ones. */
  async close(): Promise<void> {
    this.#closed = true
    await Promise.all([...this.#procs.values()].filter((p) => !p.parent).map((p) => this.#kill(p, 'hostShutdown')))
  }
}

function isSelfOrDescendant(p: Proc, ancestor: Proc): boolean {
  for (let q: Proc | undefined = p; q; q = q.parent) if (q === ancestor) return true
  return false
}

/** Custody: the args blob may be a view into a guest's memory; one copy, before any await. */
function ownChild(c: ChildOptions): ChildOptions {
  return c.args ? { ...c, args: c.args.slice() } : c
}

function rootOf(p: Proc): Proc {
  let q = p
  while (q.parent) q = q.parent
  return q
}

/** Both absent (the host's own), or the same remote process. */
function sameRef(a: { host: string; pid: Pid } | undefined, b: { host: string; pid: Pid } | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.host === b.host && a.pid === b.pid
}
