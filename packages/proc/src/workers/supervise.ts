// What the main thread keeps for the children of pool supervisors. A child is started,
// and restarted, on its worker without asking this thread; what it needs from here — its
// Host capability, the sinks of its output — is registered under keys when the supervisor
// is asked for, and each start opens its own port here under those keys (`rpc-open`,
// `output-open`). Keys live as long as their supervisor.

import type { MessagePort } from 'node:worker_threads'
import type { OutputSink } from '@ww/wasi-restricted'
import { WASI_MODULE } from '../compose/wasi.js'
import type { Pid } from '../status.js'
import type { PoolBootstrap, PoolSupervisorOptions } from './options.js'
import { pumpOutput } from './output-port.js'
import { serializeError, type SpawnRequest, type SuperviseRequest } from './protocol.js'
import type { HostToGuest } from './rpc-port-guest.js'
import { servePort } from './rpc-port-host.js'

type Sinks = { stdout?: OutputSink | undefined; stderr?: OutputSink | undefined }

export class ChildPorts {
  readonly #hosts = new Map<number, (pid: Pid) => PoolBootstrap>()
  readonly #outputs = new Map<number, Sinks>()
  #nextKey = 1

  /** The request for a supervisor of `opts`, and the keys it registered (to `release` when it ends). */
  request(opts: PoolSupervisorOptions): { supervise: SuperviseRequest; keys: number[] } {
    const keys: number[] = []
    const children = opts.children.map((c) => {
      const { name, entry, extensions, trapExits, ...limits } = c.options ?? {}
      let hostKey: number | undefined
      if (c.bootstrap !== undefined) {
        hostKey = this.#nextKey++
        this.#hosts.set(hostKey, c.bootstrap)
        keys.push(hostKey)
      }
      let wasi: SpawnRequest['wasi']
      if (WebAssembly.Module.imports(c.module.module).some((i) => i.module === WASI_MODULE)) {
        const fds = [...(c.stdout ? [1 as const] : []), ...(c.stderr ? [2 as const] : [])]
        let outputKey: number | undefined
        if (fds.length > 0) {
          outputKey = this.#nextKey++
          this.#outputs.set(outputKey, { stdout: c.stdout, stderr: c.stderr })
          keys.push(outputKey)
        }
        wasi = { ...(c.policy ? { policy: c.policy } : {}), ...(outputKey !== undefined ? { outputKey } : {}), fds }
      }
      const spawn: SpawnRequest = {
        module: c.module.id, limits, extensions: extensions ?? [], name: name ?? c.id, ...(entry ? { entry } : {}), trapExits: trapExits ?? false,
        ...(hostKey !== undefined ? { hostKey } : {}), ...(wasi ? { wasi } : {}),
      }
      return { id: c.id, ...(c.restart ? { restart: c.restart } : {}), spawn }
    })
    const supervise: SuperviseRequest = {
      children,
      ...(opts.maxRestarts !== undefined ? { maxRestarts: opts.maxRestarts } : {}),
      ...(opts.withinMs !== undefined ? { withinMs: opts.withinMs } : {}),
      ...(opts.name ? { name: opts.name } : {}), ...(opts.parent ? { parent: opts.parent.pid } : {}),
    }
    return { supervise, keys }
  }

  /** A start of a child wants its Host: serve a fresh one for `pid`, or end its RPC with the reason. */
  openRpc(key: number, pid: Pid, port: MessagePort): void {
    const factory = this.#hosts.get(key)
    let cap: PoolBootstrap | undefined
    let error: unknown = new Error(`no capability for pid ${pid}: its supervisor has ended`)
    try {
      if (factory !== undefined) cap = factory(pid)
    } catch (e) {
      error = e
    }
    if (cap !== undefined) {
      servePort(port, { bootstrap: cap, name: `pid ${pid}` })
      return
    }
    // Nobody will answer its frames: the guest ends with the reason (a crash, for its supervisor).
    port.postMessage({ t: 'abort', error: serializeError(error) } satisfies HostToGuest)
    port.close()
  }

  /** A start of a child sends its output: into the registered sinks. */
  openOutput(key: number, port: MessagePort): void {
    const sinks = this.#outputs.get(key)
    if (sinks === undefined) port.close() // its supervisor has ended: the output goes nowhere
    else void pumpOutput(port, sinks)
  }

  release(keys: readonly number[]): void {
    for (const k of keys) {
      this.#hosts.delete(k)
      this.#outputs.delete(k)
    }
  }
}
