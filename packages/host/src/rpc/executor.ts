// The Executor server (process.capnp): the power to spawn, bound to one caller identity.
// The parent of whatever it spawns is that identity (the core Executor it wraps is bound
// to it), never a field of the request. `executorProvider(tree)` is what hostCapability
// takes as its `executor` option.

import { process as proc } from '@ww/schema'
import type { ClientLike } from 'capnp-ts'
import type { ProcessTree } from '../exec/process-tree.js'
import type { Executor, SpawnRequest } from '../exec/types.js'
import { cidText } from './cache.js'
import { rpcError } from './errors.js'
import { guard } from './guard.js'
import type { CapabilityProvider, ProcessIdentity } from './host.js'
import { processServer, writeProcessList } from './process.js'
import { Scope } from './scope.js'

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
  }
  return req
}

const WASM_ERRORS = new Set(['CompileError', 'LinkError', 'RuntimeError'])

export function executorServer(executor: Executor, identity: ProcessIdentity, scope: Scope): proc.Executor$Server {
  return new proc.Executor.Server(guard(scope, 'executor', {
    async exec(p, r) {
      const req = readSpawnRequest(p.getBytecode(), p.hasOptions() ? p.getOptions() : undefined)
      let handle
      try {
        handle = await executor.spawn(req)
      } catch (e) {
        // A module that compiled-validated but failed to instantiate (missing import, …).
        // (By name: the engine's error classes may come from another realm.)
        if (e instanceof Error && WASM_ERRORS.has(e.name)) throw rpcError('ERR_INVALID_MODULE', e.message)
        throw e
      }
      r.setProcess(processServer(handle, identity, scope))
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
    capabilityFor(identity: ProcessIdentity, scope?: Scope): ClientLike {
      return executorServer(tree.executorOf(Number(identity.pid)), identity, scope?.child() ?? new Scope())
    },
  }
}
