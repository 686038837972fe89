// Who monitors which process through this host's Process capabilities (Process.monitor),
// while the monitor is pending: for observers (the web view's "monitors" and "monitored
// by"). The tree's processes keep no such list themselves; the RPC layer records each
// monitor here (rpc/process.ts) and drops it when it fires, is cancelled or is revoked.

/** A process anywhere in the cluster. */
export interface ProcessRef {
  /** The host it runs on. */
  readonly host: string
  /** Its pid on that host (0: the host itself, its operator). */
  readonly pid: number
}

/** One pending monitor. */
export interface Watch {
  /** The process that asked (the holder of the Process capability; pid 0: a host's operator). */
  readonly watcher: ProcessRef
  /** The process watched. */
  readonly target: ProcessRef
}

/** The pending monitors of one host's Process capabilities (ProcessTree.watches). */
export class Watches {
  readonly #live = new Map<number, Watch>()
  #next = 0

  /** Records a pending monitor; the returned function drops it (idempotent). */
  add(watcher: ProcessRef, target: ProcessRef): () => void {
    const id = this.#next++
    this.#live.set(id, { watcher: { host: watcher.host, pid: watcher.pid }, target: { host: target.host, pid: target.pid } })
    return () => { this.#live.delete(id) }
  }

  /** Pending monitors, oldest first. */
  list(): Watch[] { return [...this.#live.values()] }

  /** Pending monitors. */
  get size(): number { return this.#live.size }
}
