// One `ww host --json` OS process, its event lines read as they come: the view it reports
// (joins and leaves), how it ended. Waits are for states, never for times.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** The `ww` command's entry point, from the @ww/cli package this harness depends on (from src/ or dist/ alike). */
export const wwBin = fileURLToPath(new URL('../node_modules/@ww/cli/dist/bin.js', import.meta.url))

export type HostEvent = { event: string; [k: string]: unknown }

export class HostProcess {
  readonly events: HostEvent[] = []
  /** The other hosts this one has reported joined and not since left. */
  readonly view = new Set<string>()
  readonly exited: Promise<number | null>
  id = ''
  stderr = ''
  /** When the process was started, and when each event line arrived (performance.now(): where a join's time goes). */
  readonly startedAt = performance.now()
  readonly eventAt: number[] = []
  readonly #waiters = new Set<() => void>()

  constructor(readonly index: number, readonly child: ChildProcess, readonly home: string) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let e: HostEvent
      try { e = JSON.parse(line) as HostEvent } catch { e = { event: 'text', line } }
      this.events.push(e)
      this.eventAt.push(performance.now())
      if (e.event === 'ready') this.id = String(e.id)
      if (e.event === 'join') this.view.add(String(e.host))
      if (e.event === 'leave') this.view.delete(String(e.host))
      this.#wake()
    })
    child.stderr!.on('data', (b: Buffer) => { this.stderr = (this.stderr + b.toString()).slice(-8192) })
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => { this.#wake(); resolve(code ?? (signal ? -1 : null)) }))
  }

  static start(index: number, command: [string, string[]], home: string): HostProcess {
    const child = spawn(command[0], command[1], {
      env: { ...process.env, WW_HOME: home, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    return new HostProcess(index, child, home)
  }

  get alive(): boolean { return this.child.exitCode === null && this.child.signalCode === null }

  /** Resolves once `pred` holds (checked at each event); rejects if the host ends first or `signal` aborts. */
  async until(pred: () => boolean, what: string, signal?: AbortSignal): Promise<void> {
    while (!pred()) {
      if (!this.alive) throw new Error(`host ${this.index} ended (${this.child.exitCode ?? this.child.signalCode}) before ${what}: ${this.stderr}`)
      signal?.throwIfAborted()
      await new Promise<void>((resolve) => {
        const w = (): void => { this.#waiters.delete(w); signal?.removeEventListener('abort', w); resolve() }
        this.#waiters.add(w)
        signal?.addEventListener('abort', w, { once: true })
      })
    }
  }

  /** SIGKILL: no goodbye to the cluster, as a crash. */
  crash(): Promise<number | null> {
    if (this.alive) this.child.kill('SIGKILL')
    return this.exited
  }

  /** SIGTERM: a clean leave. */
  stop(): Promise<number | null> {
    if (this.alive) this.child.kill('SIGTERM')
    return this.exited
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w()
  }
}
