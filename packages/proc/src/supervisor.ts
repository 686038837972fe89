// A supervisor: a native process that starts children, watches them with monitors and
// restarts the ones that crash, one for one. If children crash more than `maxRestarts`
// times within `withinMs`, restarting is not helping: the supervisor exits with
// limit(restarts), and its children die with it (parent exit kills children).

import type { NativeProcess, ProcessHandle } from './handle.js'
import type { Scheduler } from './scheduler.js'
import { isNormal, type ExitStatus } from './status.js'

/** permanent: always restarted; transient: only after an abnormal end; temporary: never. */
export type RestartPolicy = 'permanent' | 'transient' | 'temporary'

export interface ChildSpec {
  readonly id: string
  /** Starts the child under `parent` (pass it as SpawnOptions.parent). */
  start(parent: ProcessHandle): ProcessHandle
  readonly restart?: RestartPolicy
}

export interface SupervisorOptions {
  readonly children: readonly ChildSpec[]
  /** Restart intensity: at most this many restarts… (default 3) */
  readonly maxRestarts?: number
  /** …within this many ms (default 5000). */
  readonly withinMs?: number
  readonly parent?: ProcessHandle
  readonly name?: string
}

export class Supervisor {
  readonly self: NativeProcess
  readonly #specs: Map<string, ChildSpec>
  readonly #children = new Map<string, ProcessHandle>()
  readonly #byPid = new Map<number, string>()
  readonly #restarts: number[] = []
  readonly #max: number
  readonly #within: number
  #restartCount = 0

  constructor(scheduler: Scheduler, opts: SupervisorOptions) {
    this.#max = opts.maxRestarts ?? 3
    this.#within = opts.withinMs ?? 5000
    this.#specs = new Map(opts.children.map((c) => [c.id, c]))
    this.self = scheduler.spawnNative({ name: opts.name ?? 'supervisor', parent: opts.parent, mailbox: 16 })
    for (const spec of opts.children) this.#start(spec)
    void this.#loop()
  }

  get pid(): number { return this.self.pid }
  /** Restarts so far. */
  get restarts(): number { return this.#restartCount }

  /** The current handle of child `id` (a new one after each restart). */
  child(id: string): ProcessHandle | undefined { return this.#children.get(id) }

  wait(): Promise<ExitStatus> { return this.self.wait() }

  /** Stops the supervisor and its children (a normal exit). */
  async close(): Promise<void> {
    this.self.exit()
    await this.self.wait()
  }

  async [Symbol.asyncDispose](): Promise<void> { await this.close() }

  #start(spec: ChildSpec): void {
    const h = spec.start(this.self)
    this.#children.set(spec.id, h)
    this.#byPid.set(h.pid, spec.id)
    this.self.monitor(h)
  }

  async #loop(): Promise<void> {
    for (;;) {
      let m
      try {
        m = await this.self.receive()
      } catch {
        return // the supervisor ended
      }
      if (m.kind !== 'down' || m.status === undefined) continue
      const id = this.#byPid.get(m.from)
      if (id === undefined) continue
      this.#byPid.delete(m.from)
      this.#children.delete(id)
      const spec = this.#specs.get(id)!
      const policy = spec.restart ?? 'permanent'
      if (policy === 'temporary' || (policy === 'transient' && isNormal(m.status))) continue
      const now = performance.now()
      this.#restarts.push(now)
      while (this.#restarts.length > 0 && now - this.#restarts[0]! > this.#within) this.#restarts.shift()
      if (this.#restarts.length > this.#max) {
        this.self.exit({ kind: 'limit', which: 'restarts', detail: `more than ${this.#max} restarts in ${this.#within} ms (last: child ${id})` })
        return
      }
      this.#restartCount++
      try {
        this.#start(spec)
      } catch (e) {
        this.self.exit({ kind: 'trapped', code: 'ERR_CHILD_START', reason: `child ${id} failed to start: ${String(e)}` })
        return
      }
    }
  }
}
