// One `ww host`: a cluster (embedded, or js-libp2p when it listens or joins), @ww/proc as
// the runtime of the host's process tree (one scheduler on this thread, or a pool of
// worker threads: processes.ts), the RPC endpoint that hands each
// client an admin Host, and optionally the web view. One close() undoes all of it, in
// reverse order; closing a libp2p cluster announces the leave (`bye`) to the others.
import { join } from 'node:path'
// The embedded host's parts; the main entry (libp2p, its crypto) is loaded only by a host
// that listens or joins.
import {
  childHostCapability, debugProvider, preopenSockets, embeddedCluster, executorProvider, hostCapability, hostProcessTree, Scope,
  type HostCapability, type HostRights, type ProcessStats,
} from '@ww/host/embedded'
import type { AllowList, BootstrapDial, Cluster, Libp2pCluster, Libp2pClusterOptions, ProcessTree, StartSpec } from '@ww/host'
import type { OutputRecord, OutputSink } from '@ww/wasi-restricted'
import { LineSplitter } from '../guest-process.js'
import { formatRpcAddress, parseRpcAddress, type RpcAddress } from './address.js'
import { serveRpc, type RpcEndpoint } from './endpoint.js'
import { operatorContext } from './operator.js'
import { ProcessJournal } from './journal.js'
import { inThreadProcesses, pooledProcesses, type HostProcesses, type ProcessCounters } from './processes.js'
import { linkProbe, type LinkProbe } from './links.js'
import { statusBoard, type StatusBoard } from './status.js'
import { ensureHome, removeHostRecord, writeHostRecord, type HostRecord } from './state.js'
import { WwError, type ProcessPlugin } from '@ww/interface'

export interface HostOptions {
  /** Multiaddrs to listen on (libp2p). */
  listen?: string[]
  /** The multiaddrs other hosts are told instead (behind a NAT, proxy or relay). */
  announce?: string[]
  /** Multiaddrs of hosts to join through (libp2p). */
  join?: string[]
  /** RPC endpoint; default the unix socket $WW_HOME/run/<os pid>.sock. */
  rpc?: string
  /** $WW_HOME: where the state file and default socket live. */
  home: string
  /** Where instrumented modules are kept across runs (default `<home>/cache/instrumented`). */
  moduleCache?: string
  /** Worker threads to run processes on (default 0: all on this thread). */
  workers?: number
  /**
   * Plugins added to every process, loaded from their modules (loadPlugin: a worker loads
   * each from its spec, so they run with `workers` too).
   */
  plugins?: readonly ProcessPlugin[]
  /** libp2p: the swarm key file's text (checked); only hosts holding it connect. */
  swarmKey?: Uint8Array
  /** libp2p: this host's identity (a stable peer id). */
  privateKey?: Libp2pClusterOptions['privateKey']
  /** libp2p: admit only these peers, with these rights. */
  allow?: AllowList
  /** libp2p: how fast one publisher may send on one topic (default DEFAULT_FLOOD_LIMIT; false: no limit). */
  floodLimit?: Libp2pClusterOptions['floodLimit']
  /** The TCP endpoint's token (clients show it first), and the file it came from (for host.json). */
  token?: { bytes: Uint8Array; file: string }
  /** Ended processes to remember (with their exit status) for the web view; default KEEP_ENDED. */
  keepEnded?: number
  /** Membership TTL for libp2p (ms). */
  ttlMs?: number
  /** How long to wait for the hosts named by `join` to appear in the view (dialling them again meanwhile). Default DEFAULT_JOIN_TIMEOUT_MS. */
  joinTimeoutMs?: number
  /** Each line a process writes on stdout (1) or stderr (2); default: dropped. */
  onOutput?: (pid: number, fd: 1 | 2, line: string) => void
  /** Progress while starting ("listening on …", "joined: 3 hosts"). */
  onProgress?: (line: string) => void
  signal?: AbortSignal
}

export interface RunningHost extends AsyncDisposable {
  readonly cluster: Cluster
  /** Where its processes run (this thread or worker threads), and their counters. */
  readonly processes: HostProcesses
  readonly tree: ProcessTree
  /** What each process was handed, who asked for kills, and the processes that ended lately. */
  readonly journal: ProcessJournal
  readonly endpoint: RpcEndpoint
  /** Every host's process table (on libp2p, this host publishes its own: STATUS_TOPIC). */
  readonly status: StatusBoard
  /** Its links to the other hosts, with round-trip times (empty when embedded). */
  readonly links: LinkProbe
  readonly startedAt: number
  /** Writes the state file (clients find the host through it) and returns what it says. */
  publish(extra?: { ui?: string }): HostRecord
  /** Stops serving, kills every process, leaves the cluster, removes the state file. */
  close(): Promise<void>
}

/** What a client of the endpoint may do: everything (it is this host's operator). */
const ADMIN: Partial<HostRights> = { view: true, pubSub: true, root: true, registry: true, bytecodeCache: true, executor: true, debug: true }

export class HostStartError extends WwError<'ERR_HOST_START'> {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_HOST_START', message, options)
  }
}

/** `ww host --join`: the hosts joined through were not seen within the bound, though dialled again and again. */
/**
 * `ww host --join`'s bound. It was 15 s with one dial per heartbeat period: 16 hosts started
 * at once on a loaded 2-core machine missed it (tools/cluster-faults README, findings 5, 18).
 */
export const DEFAULT_JOIN_TIMEOUT_MS = 60_000

export class JoinTimeoutError extends HostStartError {
  constructor(readonly timeoutMs: number, readonly tried: readonly BootstrapDial[], keyed = false) {
    const each = tried.map((d) => `${d.address} (${d.attempts} ${d.attempts === 1 ? 'try' : 'tries'}${d.connected ? ', connected but not heard' : ''}${d.lastError !== undefined ? `; last: ${d.lastError}` : ''})`)
    super(`no answer from ${each.join(', ')} within ${timeoutMs / 1000} s; is a host listening there${keyed ? ', with the same swarm key (and this host on its allow-list)?' : '?'}`)
  }
}

export async function startHost(o: HostOptions): Promise<RunningHost> {
  const say = o.onProgress ?? (() => {})
  // Binaryen is not loaded ahead (warmInstrumentation): that costs every host ~96 MB of RSS
  // and ~1 s of CPU at start, though most spawns hit the instrumented-module cache.
  const address: RpcAddress = o.rpc !== undefined ? parseRpcAddress(o.rpc) : { kind: 'unix', path: join(o.home, 'run', `${process.pid}.sock`) }
  ensureHome(o.home)
  const p2p = (o.listen?.length ?? 0) > 0 || (o.join?.length ?? 0) > 0
  let cluster: Cluster
  let p2pCluster: Libp2pCluster | undefined
  if (p2p) {
    say(`starting a libp2p host${o.listen?.length ? ` on ${o.listen.join(', ')}` : ''}`)
    try {
      const { libp2pCluster } = await import('@ww/host')
      cluster = p2pCluster = await libp2pCluster({
        ...(o.listen?.length ? { listen: o.listen } : {}),
        ...(o.announce?.length ? { announce: o.announce } : {}),
        bootstrap: o.join ?? [],
        ...(o.ttlMs !== undefined ? { ttlMs: o.ttlMs } : {}),
        ...(o.swarmKey !== undefined ? { swarmKey: o.swarmKey } : {}),
        ...(o.privateKey !== undefined ? { privateKey: o.privateKey } : {}),
        ...(o.allow !== undefined ? { allow: o.allow } : {}),
        ...(o.floodLimit !== undefined ? { floodLimit: o.floodLimit } : {}),
      })
    } catch (e) {
      throw new HostStartError(`cannot start the libp2p host: ${(e as Error).message}`, { cause: e })
    }
  } else {
    cluster = embeddedCluster()
  }
  const cleanup: Array<() => Promise<void> | void> = [() => cluster.close()]
  const undo = async (): Promise<void> => { for (const f of cleanup.splice(0).reverse()) await f() }
  try {
    if (o.join?.length && p2pCluster) await waitForJoin(p2pCluster, o.join, o.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS, say, o.signal, o.swarmKey !== undefined)

    // Set once the tree exists; the runtime composes no process before that.
    let journal!: ProcessJournal
    const guest = (spec: StartSpec) => guestParts(cluster, spec, o.onOutput, journal, o.plugins)
    const workers = o.workers ?? 0
    if (workers > 0) say(`starting ${workers} worker thread(s)`)
    // Instrumented modules kept across restarts: a host spawning the same bytes again skips the pass.
    const moduleCache = o.moduleCache ?? join(o.home, 'cache', 'instrumented')
    const processes = workers > 0 ? await pooledProcesses(workers, guest, moduleCache) : inThreadProcesses(guest, moduleCache)
    // Closed after the tree has killed every process (cleanup runs in reverse).
    cleanup.push(() => processes.close())
    // On libp2p, other hosts' processes can spawn here too (Peer.exec), and ours there.
    const tree = hostProcessTree(cluster, processes.runtime)
    cleanup.push(() => tree.close())
    journal = new ProcessJournal(tree, o.keepEnded)
    cleanup.push(() => journal.close())
    const links = linkProbe(cluster)
    cleanup.push(() => links.close())
    const status = statusBoard(cluster, tree, processes, { journal, links })
    cleanup.push(() => status.close())
    const executor = executorProvider(tree)
    const debug = debugProvider({
      cluster, tree, workers: processes.workers,
      counters: () => processes.totals(),
      processStats: statsByPid(processes),
    })

    const endpoint = await serveRpc(address, (): HostCapability => {
      // pid 0: the host's embedder (schemas: BootContext.parent) — each client acts as it.
      const identity = { host: cluster.id, pid: 0n }
      const scope = new Scope()
      const hc = hostCapability(cluster, {
        processId: 0,
        rights: ADMIN,
        // The cluster root: relative client paths are prefixed with this host's id.
        root: cluster.anchors.walk(''),
        executor,
        debug,
        context: operatorContext(tree, identity, scope),
      })
      return { ...hc, close: (reason) => { scope.revoke(reason ?? 'client disconnected'); hc.close(reason) } }
    }, o.token !== undefined && address.kind === 'tcp' ? { token: o.token.bytes } : {})
    cleanup.push(() => endpoint.close())

    const startedAt = Date.now()
    cleanup.push(() => removeHostRecord(o.home))
    const publish = (extra: { ui?: string } = {}): HostRecord => {
      const record: HostRecord = {
        id: cluster.id,
        pid: process.pid,
        rpc: formatRpcAddress(endpoint.address),
        ...(o.token !== undefined && address.kind === 'tcp' ? { token: o.token.file } : {}),
        ...extra,
        cluster: cluster.kind,
        workers: processes.workers,
        addresses: cluster.addresses(),
        startedAt: new Date(startedAt).toISOString(),
      }
      writeHostRecord(o.home, record)
      return record
    }
    return { cluster, processes, tree, journal, endpoint, status, links, startedAt, publish, close: undo, [Symbol.asyncDispose]: undo }
  } catch (e) {
    await undo()
    throw e
  }
}

/**
 * What a process spawned on this host may reach when its spawner asked for no rights: the
 * cluster view, pubsub, the cluster's anchors, the registry (offer and find services) and an
 * executor (its children). A spawning process's Executor narrows this to what that process
 * holds.
 */
const GUEST_RIGHTS: Partial<HostRights> = { view: true, pubSub: true, root: true, registry: true, executor: true }

/**
 * One process's composition: the default restricted WASI with its stdout/stderr as lines
 * to the host's operator, and its Host as its spawner asked (childHostCapability): the
 * rights asked (GUEST_RIGHTS if none), which its spawner's Executor checked against its
 * own; the overrides and the caps (in its BootContext) it was handed; an executor bound to
 * it that gives its children no more than it holds.
 */
function guestParts(cluster: Cluster, spec: StartSpec, onOutput: HostOptions['onOutput'], journal: ProcessJournal, plugins: HostOptions['plugins']) {
  journal.started(spec, GUEST_RIGHTS as Record<string, boolean>)
  const lines = new LineSplitter((fd, line) => onOutput?.(spec.pid, fd, line))
  const sink = (fd: 1 | 2): OutputSink => ({
    write: (r: OutputRecord) => { lines.push(fd, r.bytes); return true },
    writable: () => Promise.resolve(),
  })
  return {
    stdout: sink(1),
    stderr: sink(2),
    ...(plugins?.length ? { plugins } : {}),
    // ExecOptions.preopens as its socket fds (withChildGrants grants the sockets).
    ...(spec.child?.preopens?.length ? preopenSockets(spec.child.preopens) : {}),
    host: () => {
      // The cluster's root (host.capnp's default): `<host id>/…` reaches any host's anchors.
      const hc = childHostCapability(cluster, spec, { unasked: GUEST_RIGHTS, root: cluster.anchors.walk('') })
      return { server: hc.server, close: (reason?: string) => { lines.flush(); hc.close(reason) } }
    },
  }
}

/**
 * Debug.ps's hook: the runtime's row for a pid. Debug.ps asks for every process in one
 * synchronous loop and the in-thread table is built whole on each read (Scheduler.ps), so
 * one read serves the whole loop and is dropped at the next microtask.
 */
function statsByPid(processes: HostProcesses): (pid: number) => ProcessStats | undefined {
  let table: ReadonlyMap<number, ProcessCounters> | undefined
  return (pid) => {
    if (table === undefined) {
      table = processes.counters()
      queueMicrotask(() => { table = undefined })
    }
    return statsOf(table.get(pid))
  }
}

/** In ProcessInfo the frames are the process's view: in = handed to it (the runtime's framesOut), out = sent by it. */
function statsOf(c: ProcessCounters | undefined): ProcessStats | undefined {
  if (c === undefined) return undefined
  return {
    cpuTimeNs: Math.round(c.cpuMs * 1e6), memoryBytes: c.memoryBytes, fuel: c.fuel,
    messagesIn: c.framesOut, messagesOut: c.framesIn, denials: c.denials,
    ...(c.worker !== undefined ? { worker: c.worker } : {}),
  }
}

/**
 * Waits until the view holds the host behind each address joined through. The cluster keeps
 * dialling those addresses with backoff meanwhile (libp2pCluster's bootstrap), so hosts of a
 * fleet started at once find each other as they come up; past `timeoutMs` it fails with
 * JoinTimeoutError, naming each address, how often it was tried and how the last try failed.
 */
async function waitForJoin(cluster: Libp2pCluster, joined: string[], timeoutMs: number, say: (l: string) => void, signal?: AbortSignal, keyed = false): Promise<void> {
  const wanted = joined.map((a) => /\/p2p\/([^/]+)$/.exec(a)?.[1]).filter((x): x is string => x !== undefined)
  say(`joining through ${joined.join(', ')}`)
  const seen = new Set<string>()
  const done = (): boolean => (wanted.length > 0 ? wanted.every((id) => seen.has(id)) : seen.size > 0)
  let finish!: () => void
  let fail!: (e: Error) => void
  const joinedAll = new Promise<void>((resolve, reject) => { finish = resolve; fail = reject })
  const watch = cluster.view.watch({
    current: true,
    handler: (e) => {
      if (e.type !== 'join' || e.host.id === cluster.id || seen.has(e.host.id)) return
      seen.add(e.host.id)
      say(`  saw host ${e.host.id}`)
      if (done()) finish()
    },
  })
  const timer = setTimeout(() => {
    const tried = cluster.bootstrapDials().filter((d) => !seen.has(/\/p2p\/([^/]+)$/.exec(d.address)?.[1] ?? ''))
    fail(new JoinTimeoutError(timeoutMs, tried.map((d) => ({ ...d })), keyed))
  }, timeoutMs)
  const onAbort = (): void => fail(new HostStartError('interrupted while joining'))
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    await joinedAll
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
    watch.close()
  }
  say(`joined: the cluster has ${cluster.view.hosts().length} host(s)`)
}
