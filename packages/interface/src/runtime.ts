// The runtime contract: what a host's process tree asks of whatever runs its modules
// (@ww/proc's scheduler, its worker pool, a test's tiny runtime), and the Executor a
// process spawns its children through.

import type { CallOptions } from './call.js'
import type { ExitStatus, KillReason, Pid } from './status.js'

/**
 * The types capabilities have in the RPC layer that carries them. Empty here (this
 * package depends on nothing); @ww/host fills it in by declaration merging —
 * `declare module '@ww/interface' { interface CapabilityTypes { in: ClientLike; out: Client } }` —
 * so a program that has @ww/host sees capnp-ts clients, and one without sees `unknown`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface CapabilityTypes {}
/** A capability handed in (to a child, to a call). */
export type CapabilityIn = CapabilityTypes extends { readonly in: infer C } ? C : unknown
/** A capability handed out (a new handle its receiver disposes). */
export type CapabilityOut = CapabilityTypes extends { readonly out: infer C } ? C : unknown

/** A content id of module bytes in a bytecode cache. */
export type Cid = string

/** A capability handed to a child under a name (common.capnp NamedCap); order is the spawner's. */
export interface NamedCap {
  readonly name: string
  readonly cap: CapabilityIn
}

/** process.capnp HostOverrides: capabilities served instead of the child Host's own. */
export type HostOverrideCaps = Partial<Record<'view' | 'pubSub' | 'root' | 'registry' | 'dialer', CapabilityIn>>

/**
 * process.capnp Preopen: a socket a spawner hands in as a capability (a net.capnp
 * Listener or Conn); the child finds it as a WASI socket fd and in its BootContext.
 */
export interface PreopenCap {
  readonly name: string
  readonly kind: 'listener' | 'conn'
  readonly cap: CapabilityIn
}

/**
 * What a spawner asked for beyond the module (process.capnp ExecOptions): passed to the
 * runtime as is, which applies what it supports. Rights were already checked against the
 * caller's own by the Executor (never widened).
 */
export interface ChildOptions {
  /** ExecOptions.args: an opaque blob the child reads from its BootContext. */
  readonly args?: Uint8Array
  /** Grants limits (absent: the host's default). */
  readonly memoryBytes?: number
  readonly timeoutMs?: number
  readonly cpuBudgetMs?: number
  /**
   * Grants.scratchBytes/scratchInodes: a volatile in-memory scratch dir for the child
   * (absent: none, every path call is ENOTCAPABLE). The runtime widens the child's policy.
   */
  readonly scratchBytes?: number
  /** Files and directories that scratch dir may hold (absent: the policy's default, 1024). */
  readonly scratchInodes?: number
  /** HostRights for the child's own Host (absent: the embedder's default). */
  readonly rights?: Readonly<Record<string, boolean>>
  /** Served by the child's Host instead of its own; a non-null one counts as granted. */
  readonly overrides?: HostOverrideCaps
  /**
   * ExecOptions.preopens, held by the tree while the child lives. The runtime makes them
   * socket fds after the scratch dir: listeners first, then connections, each in this order.
   */
  readonly preopens?: readonly PreopenCap[]
}

export interface SpawnRequest {
  /** Module bytes, or the cid of bytes in the host's bytecode cache. */
  bytecode?: Uint8Array
  cid?: Cid
  args?: readonly string[]
  /**
   * Capabilities handed to the child (its BootContext), names unique. The tree holds each
   * (and each override) from the spawn until the child ends, then lets go.
   */
  caps?: readonly NamedCap[]
  /** A label for listings; confers nothing. */
  name?: string
  /** ExecOptions beyond name/where, for the runtime. */
  child?: ChildOptions
  /**
   * The host to run on (a host id of the cluster). Absent or this host: here. Another
   * host goes through the tree's RemoteSpawner; the child's parent is still the caller.
   */
  where?: string
}

export interface ProcessHandle {
  readonly pid: Pid
  /** Parent pid, or undefined for a root process the host started. */
  readonly parent: Pid | undefined
  /** Idempotent and concurrent: every caller gets the same status. */
  wait(opts?: CallOptions): Promise<ExitStatus>
  /** Kills this process and its whole subtree (children first); `why` defaults to requested. */
  kill(why?: KillReason): Promise<void>
  /**
   * The capability the process offers (process.capnp Process.bootstrap): a handle of the
   * caller's own, to dispose. Waits for the process to have started; ERR_NOT_FOUND when its
   * runtime offers none, ERR_CLOSED once it has ended.
   */
  bootstrap(): Promise<CapabilityOut>
  children(): Pid[]
  /** A snapshot for listings (ps). */
  info(): ProcessSnapshot
}

/** Spawns on behalf of one caller: the caller's pid is bound in, never taken from a request. */
export interface Executor {
  spawn(req: SpawnRequest, opts?: CallOptions): Promise<ProcessHandle>
  /** A process this caller may reach (itself or a descendant); ERR_NOT_FOUND otherwise. */
  process(pid: Pid): ProcessHandle
  /** The caller's live descendants, in spawn order (remote children included). */
  descendants(): ProcessSnapshot[]
}

/** One process as listings show it. For a child on another host, `host`/`pid` are its own there. */
export interface ProcessSnapshot {
  readonly host: string
  readonly pid: Pid
  /** The parent as `{host, pid}` (pid 0: the host's embedder). */
  readonly parent: { readonly host: string; readonly pid: Pid }
  readonly name: string
  readonly cid: Cid | undefined
  readonly state: 'starting' | 'running' | 'exited'
  readonly startedAtMs: number
  readonly status: ExitStatus | undefined
}

/** What the tree hands a runtime to start one process. */
export interface StartSpec {
  readonly pid: Pid
  readonly parent: Pid | undefined
  readonly bytecode: Uint8Array
  readonly args: readonly string[]
  /** ExecOptions.caps, held by the tree while the process lives (its BootContext lists them). */
  readonly caps: readonly NamedCap[]
  /** This host's id (the process is `{host, pid}`). */
  readonly host: string
  /** Its parent as its BootContext names it: a process here, one of another host (Peer.exec), or pid 0 (the embedder). */
  readonly parentRef: { readonly host: string; readonly pid: Pid }
  /** The module's cid, when the tree has a bytecode cache. */
  readonly cid?: Cid
  /** An Executor whose caller is the new process itself, for it to spawn children. */
  readonly executor: Executor
  /** The spawner's ExecOptions beyond the module (args blob, limits, rights). */
  readonly child?: ChildOptions
  /** Its label (ExecOptions.name). */
  readonly name?: string
}

/** A started process, as the runtime reports it. */
export interface RunningProcess {
  /** Settles once with how it ended; never rejects (a runtime error is `trapped`). */
  readonly exited: Promise<ExitStatus>
  /** Ends the process; `exited` then settles with `killed`. */
  kill(): void
  /**
   * The process's own bootstrap capability, a new handle the caller disposes (a guest asks
   * its RPC connection; a remote child, its Process there). Absent: the runtime has none.
   */
  bootstrap?(): CapabilityOut
}

/** The pluggable part: runs modules. @ww/proc provides the real one (procRuntime, poolRuntime). */
export interface Runtime {
  start(spec: StartSpec, opts?: CallOptions): Promise<RunningProcess>
}

/** A child started on another host: its id there, and how to end and watch it from here. */
export interface RemoteProcess extends RunningProcess {
  readonly host: string
  readonly pid: Pid
}

/**
 * Starts processes on other hosts on behalf of a local parent (host-to-host RPC
 * implements it). `exited` answers `hostLost` when that host goes away; never hangs.
 */
export interface RemoteSpawner {
  spawn(host: string, parent: { host: string; pid: Pid }, req: SpawnRequest, opts?: CallOptions): Promise<RemoteProcess>
}
