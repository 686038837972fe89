// The Executor server (process.capnp): the power to spawn, bound to one caller identity.
// The parent of whatever it spawns is that identity (the core Executor it wraps is bound
// to it), never a field of the request. `executorProvider(tree)` is what hostCapability
// takes as its `executor` option.

import { process as proc } from '@ww/schema'
import type { ClientLike } from 'capnp-ts'
import { watchesOf, type ProcessTree } from '../exec/process-tree.js'
import type { ChildOptions, Executor, HostOverrideCaps, SpawnRequest } from '../exec/types.js'
import { cidText } from './cache.js'
import { OVERRIDE_KEYS, readNamedCaps, readOverrides, readPreopens, settleCaps, writePreopens } from './delegate.js'
import { rpcError } from './errors.js'
import { guard } from './guard.js'
import { DEFAULT_RIGHTS, readRights, writeRights, type CapabilityProvider, type HostRights, type ProcessIdentity } from './host.js'
import { processServer, writeProcessList } from './process.js'
import { Scope } from './scope.js'

/** The largest scratch dir a spawner may ask for a child (Grants.scratchBytes): it is host memory. */
export const MAX_SCRATCH_BYTES = 256 * 1024 * 1024

/** Reads an exec request. Bytes are copied once by the tree (into the cache) before any await. */
export function readSpawnRequest(bytecode: proc.Bytecode, options: proc.ExecOptions | undefined): SpawnRequest {
  const req: SpawnRequest = {}
  if (bytecode.isInline()) {
    const bytes = bytecode.getInline().toUint8Array()
    if (!WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)) throw rpcError('ERR_INVALID_MODULE', 'bytes do not validate as a WebAssembly module')
    req.bytecode = bytes
  } else {
    req.cid = cidText(bytecode.getCid().toUint8Array())
  }
  if (options) {
    if (options.hasWhere()) req.where = options.getWhere()
    if (options.hasName()) req.name = options.getName()
    const child: { -readonly [K in keyof ChildOptions]: ChildOptions[K] } = {}
    if (options.hasArgs()) child.args = options.getArgs().toUint8Array() // a view: the tree copies it
    if (options.hasGrants()) {
      const g = options.getGrants()
      const n = (v: bigint): number | undefined => (v === 0n ? undefined : Number(v))
      const [memoryBytes, timeoutMs, cpuBudgetMs] = [n(g.getMemoryBytes()), n(g.getTimeoutMs()), n(g.getCpuBudgetMs())]
      if (memoryBytes !== undefined) child.memoryBytes = memoryBytes
      if (timeoutMs !== undefined) child.timeoutMs = timeoutMs
      if (cpuBudgetMs !== undefined) child.cpuBudgetMs = cpuBudgetMs
      const scratchBytes = n(g.getScratchBytes())
      if (scratchBytes !== undefined) {
        if (scratchBytes > MAX_SCRATCH_BYTES) throw rpcError('ERR_CAP_DENIED', `a scratch dir of ${scratchBytes} bytes is over this host's per-process maximum of ${MAX_SCRATCH_BYTES}`)
        child.scratchBytes = scratchBytes
        if (g.getScratchInodes() !== 0) child.scratchInodes = g.getScratchInodes()
      }
    }
    if (options.hasRights()) child.rights = { ...readRights(options.getRights()) }
    // Delegation (the tree holds these until the child ends): see delegate.ts for bounds.
    if (options.hasCaps() && options.getCaps().getLength() > 0) req.caps = readNamedCaps(options.getCaps())
    if (options.hasOverrides()) {
      const o = readOverrides(options.getOverrides())
      if (Object.keys(o).length > 0) child.overrides = o
    }
    if (options.hasPreopens() && options.getPreopens().getLength() > 0) child.preopens = readPreopens(options.getPreopens())
    if (Object.keys(child).length > 0) req.child = child
  }
  return req
}

/** Writes what readSpawnRequest reads but caps and overrides (delegate.ts writeDelegated), for Peer.exec; preopens are handed on. */
export function writeChildOptions(o: proc.ExecOptions, c: ChildOptions): void {
  if (c.args) o.setArgs(c.args)
  if (c.memoryBytes !== undefined || c.timeoutMs !== undefined || c.cpuBudgetMs !== undefined || c.scratchBytes !== undefined) {
    const g = o.initGrants()
    if (c.memoryBytes !== undefined) g.setMemoryBytes(BigInt(c.memoryBytes))
    if (c.timeoutMs !== undefined) g.setTimeoutMs(BigInt(c.timeoutMs))
    if (c.cpuBudgetMs !== undefined) g.setCpuBudgetMs(BigInt(c.cpuBudgetMs))
    if (c.scratchBytes !== undefined) g.setScratchBytes(BigInt(c.scratchBytes))
    if (c.scratchInodes !== undefined) g.setScratchInodes(c.scratchInodes)
  }
  if (c.rights) writeRights(o.initRights(), { ...NO_RIGHTS, ...c.rights })
  if (c.preopens !== undefined && c.preopens.length > 0) writePreopens(o, c.preopens)
}

const NO_RIGHTS: HostRights = { view: false, pubSub: false, root: false, registry: false, executor: false, bytecodeCache: false, debug: false, dialer: false }

const WASM_ERRORS = new Set(['CompileError', 'LinkError', 'RuntimeError'])

/** What an Executor checks a child's request against: the Host it was reached through. */
export interface ExecutorPolicy {
  /**
   * That Host's rights (overrides count as granted): a child may be given only those
   * (process.capnp: rights only narrow). Absent, none are checked (the host's own embedder).
   */
  held?: HostRights
  /**
   * The rights of a child that asks for none, narrowed to `held` and written into the
   * request so no runtime default can widen them. Absent: left to the runtime (unless
   * `inherited` is set: then DEFAULT_RIGHTS).
   */
  unasked?: Partial<HostRights>
  /**
   * That Host's overrides: a child given one of those rights gets the same override unless
   * its spawner handed it another — a process whose `root` is a read-only subtree never
   * hands its children the host's own root.
   */
  inherited?: HostOverrideCaps
}

/** The Executor of `identity`, checking requests against `policy`. */
export function executorServer(executor: Executor, identity: ProcessIdentity, scope: Scope, policy: ExecutorPolicy = {}): proc.Executor$Server {
  const { held, inherited } = policy
  const watches = watchesOf(executor)
  const inherits = inherited !== undefined && OVERRIDE_KEYS.some((k) => inherited[k] !== undefined)
  const unasked = policy.unasked ?? (inherits ? DEFAULT_RIGHTS : undefined)
  return new proc.Executor.Server(guard(scope, 'executor', {
    // Its request's caps are the call's (the transport releases them when it settles,
    // refused: at once); the tree holds its own of what a started child was handed.
    exec: async (p: proc.Executor_exec$Params, r: proc.Executor_exec$Results) => {
      const req = readSpawnRequest(p.getBytecode(), p.hasOptions() ? p.getOptions() : undefined)
      if (held && req.child?.rights) {
        for (const [k, v] of Object.entries(req.child.rights)) {
          if (v && !held[k as keyof HostRights]) throw rpcError('ERR_CAP_DENIED', `exec: the child cannot get ${k}, the caller does not hold it`)
        }
      } else if (held && unasked) {
        const rights = { ...NO_RIGHTS }
        for (const k of Object.keys(rights) as Array<keyof HostRights>) rights[k] = unasked[k] === true && held[k]
        req.child = { ...req.child, rights }
      }
      if (held && inherits && req.child?.rights) {
        const rights = req.child.rights
        let o = req.child.overrides
        for (const k of OVERRIDE_KEYS) if (rights[k] && inherited![k] !== undefined && o?.[k] === undefined) o = { ...o, [k]: inherited![k] }
        if (o !== req.child.overrides) req.child = { ...req.child, overrides: o! }
      }
      if (req.caps || req.child?.overrides || req.child?.preopens) {
        const pending = settleCaps(req)
        if (pending) {
          // Custody: the request's bytes may be views into the caller's frame; own them first.
          if (req.bytecode) req.bytecode = req.bytecode.slice()
          if (req.child?.args) req.child = { ...req.child, args: req.child.args.slice() }
          await pending
        }
      }
      let handle
      try {
        handle = await executor.spawn(req)
      } catch (e) {
        // A module that compiled-validated but failed to instantiate (missing import, …).
        // (By name: the engine's error classes may come from another realm.)
        if (e instanceof Error && WASM_ERRORS.has(e.name)) throw rpcError('ERR_INVALID_MODULE', e.message)
        throw e
      }
      r.setProcess(processServer(handle, identity, scope, watches))
    },
    ps(_p, r) {
      writeProcessList((n) => r.initProcesses(n), executor.descendants())
    },
  }))
}

/**
 * hostCapability's `executor` provider over a ProcessTree: each Host gets an Executor
 * bound to its own pid (0: the host's embedder), living in that Host's scope.
 */
export function executorProvider(tree: ProcessTree): CapabilityProvider {
  return {
    capabilityFor(identity: ProcessIdentity, scope?: Scope, rights?: HostRights, overrides?: HostOverrideCaps): ClientLike {
      return executorServer(tree.executorOf(Number(identity.pid)), identity, scope?.child() ?? new Scope(), {
        ...(rights ? { held: rights } : {}), ...(overrides ? { inherited: overrides } : {}),
      })
    },
  }
}
