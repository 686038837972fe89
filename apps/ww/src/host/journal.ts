// What a host remembers about its processes beyond what the tree holds while they run:
// what each was handed at spawn (the names in its BootContext, its Host's rights and
// overrides), who asked for a kill, and — once a process ends — a bounded ring of ended
// processes with their exit status, so the web view can show a process that is gone.
import type { ExitStatus, ProcessSnapshot, ProcessTree, StartSpec } from '@ww/host'
import { describeExit } from '../exit-status.js'
import type { ProcessCounters } from './processes.js'

/** What a process was handed at spawn: names only, never the capabilities. */
export interface Handed {
  /** ExecOptions.caps as its BootContext lists them. */
  caps: string[]
  /** Parts of its Host served by its spawner instead (process.capnp HostOverrides). */
  overrides: string[]
  /** Its Host's rights that are granted. */
  rights: string[]
}

export interface EndedProcess {
  pid: number
  parent: number
  /** The parent's host, when another. */
  parentHost?: string
  name: string
  startedAtMs: number
  endedAtMs: number
  /** One line a person reads: `exited 0`, `trapped (unreachable): …`, `killed (requested by the web view)`. */
  status: string
  /** The status's kind (exited, trapped, killed, limit, hostLost). */
  kind: string
  handed?: Handed
  /** Its counters as last read while it ran. */
  last?: { fuel: number; memoryBytes: number; cpuMs: number; framesIn: number; framesOut: number; sent: number; received: number }
}

/** Ended processes a host keeps by default (`ww host --ui-keep N`). */
export const KEEP_ENDED = 500

export class ProcessJournal {
  readonly #tree: ProcessTree
  readonly #keep: number
  readonly #handed = new Map<number, Handed>()
  readonly #killedBy = new Map<number, string>()
  readonly #ended: EndedProcess[] = []
  #last: ReadonlyMap<number, ProcessCounters> = new Map()
  readonly #endedTotals = { cpuMs: 0, messages: 0, frames: 0 }
  readonly #watchers = new Set<() => void>()
  readonly #stop: () => void

  constructor(tree: ProcessTree, keep = KEEP_ENDED) {
    this.#tree = tree
    this.#keep = Math.max(0, keep)
    this.#stop = tree.onExit((p) => this.#record(p))
  }

  /** Called as each process here is composed: what it is handed. */
  started(spec: StartSpec, rights: Readonly<Record<string, boolean>>): void {
    this.#handed.set(spec.pid, {
      caps: spec.caps.map((c) => c.name),
      overrides: Object.entries(spec.child?.overrides ?? {}).filter(([, c]) => c != null).map(([k]) => k),
      rights: Object.entries(spec.child?.rights ?? rights).filter(([, on]) => on).map(([k]) => k),
    })
    this.#changed()
  }

  /** Calls `handler` after a process here starts or ends (a view refreshes early); returns the way to stop. */
  onChange(handler: () => void): () => void {
    this.#watchers.add(handler)
    return () => { this.#watchers.delete(handler) }
  }

  #changed(): void {
    for (const w of this.#watchers) try { w() } catch { /* a view's fault is its own */ }
  }

  handed(pid: number): Handed | undefined { return this.#handed.get(pid) }

  /** Who asked for the kill of `pid` (said in its ended status). */
  killing(pid: number, by: string): void { this.#killedBy.set(pid, by) }

  /** The counters just read for live processes: an ended process keeps its last. */
  sawCounters(table: ReadonlyMap<number, ProcessCounters>): void { this.#last = table }

  /** What ended processes had counted when last read (HostTotals carries on from these). */
  endedTotals(): Readonly<{ cpuMs: number; messages: number; frames: number }> { return this.#endedTotals }

  /** Ended processes here, oldest first (at most `keep`). */
  ended(): readonly EndedProcess[] { return this.#ended }

  close(): void { this.#stop() }

  #record(p: ProcessSnapshot): void {
    // A child this host started on another host is that host's to report (it runs there).
    if (p.host !== this.#tree.host) return
    const handed = this.#handed.get(p.pid)
    const last = this.#last.get(p.pid)
    const by = this.#killedBy.get(p.pid)
    this.#handed.delete(p.pid)
    this.#killedBy.delete(p.pid)
    if (last) {
      this.#endedTotals.cpuMs += last.cpuMs
      this.#endedTotals.messages += last.sent
      this.#endedTotals.frames += last.framesIn + last.framesOut
    }
    const status = p.status ?? { kind: 'exited', code: 0 }
    this.#ended.push({
      pid: p.pid,
      parent: p.parent.pid,
      ...(p.parent.host !== this.#tree.host ? { parentHost: p.parent.host } : {}),
      name: p.name,
      startedAtMs: p.startedAtMs,
      endedAtMs: Date.now(),
      status: describeEnd(status, by),
      kind: status.kind,
      ...(handed ? { handed } : {}),
      ...(last ? {
        last: {
          fuel: last.fuel, memoryBytes: last.memoryBytes, cpuMs: Math.round(last.cpuMs * 10) / 10,
          framesIn: last.framesIn, framesOut: last.framesOut, sent: last.sent, received: last.received,
        },
      } : {}),
    })
    if (this.#ended.length > this.#keep) this.#ended.splice(0, this.#ended.length - this.#keep)
    this.#changed()
  }
}

/**
 * The status in words, saying who killed a process when anyone is known: the client that
 * asked this host (the web view, `ww kill`), else the scheduler's killer (a link, a parent).
 */
function describeEnd(s: ExitStatus, requestedBy: string | undefined): string {
  if (s.kind !== 'killed') return describeExit(s)
  const reason = s.reason ?? 'requested'
  const by = requestedBy !== undefined && reason === 'requested' ? requestedBy
    : s.by === undefined ? undefined
      : s.by.kind === 'process' ? `${s.by.host}/${s.by.pid}` : `${s.by.kind}${'pid' in s.by ? ` ${s.by.pid}` : ''}`
  return `killed (${reason}${by !== undefined ? ` by ${by}` : ''})`
}
