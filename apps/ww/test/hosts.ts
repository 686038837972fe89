// Test helpers: `ww host` as a child OS process (its --json event lines parsed as they
// come), and one-shot client commands run through the real binary.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

export interface Result { status: number; stdout: string; stderr: string }

/** Runs `ww …args` to completion. */
export function ww(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bin, ...args], { timeout: 60_000, env: { ...process.env, NO_COLOR: '1', ...env } }, (err, stdout, stderr) => {
      const status = err ? (err as { code?: unknown }).code : 0
      if (typeof status !== 'number') return reject(err)
      resolve({ status, stdout, stderr })
    })
  })
}

export type HostEvent = { event: string; [k: string]: unknown }

/** A `ww host --json` child: its events, its ready record, and how to stop it. */
export class HostChild {
  readonly events: HostEvent[] = []
  readonly #waiters = new Set<() => void>()
  readonly exited: Promise<number | null>
  stderr = ''

  constructor(readonly child: ChildProcess, readonly home: string) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try { this.events.push(JSON.parse(line) as HostEvent) } catch { this.events.push({ event: 'text', line }) }
      for (const w of this.#waiters) w()
    })
    child.stderr!.on('data', (b: Buffer) => { this.stderr += b.toString() })
    this.exited = new Promise((resolve) => child.once('exit', (code) => { for (const w of this.#waiters) w(); resolve(code) }))
  }

  /** Waits for the first event matching `pred` (fails if the host exits first). */
  async next(pred: (e: HostEvent) => boolean, what: string): Promise<HostEvent> {
    for (;;) {
      const hit = this.events.find(pred)
      if (hit) return hit
      if (this.child.exitCode !== null) throw new Error(`ww host exited (${this.child.exitCode}) before ${what}: ${this.stderr}`)
      await new Promise<void>((r) => { const w = (): void => { this.#waiters.delete(w); r() }; this.#waiters.add(w) })
    }
  }

  ready(): Promise<HostEvent> { return this.next((e) => e.event === 'ready', 'ready') }

  /** SIGTERM, then the exit status. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM')
    return this.exited
  }
}

export function startHost(args: string[] = [], home = mkdtempSync(join(tmpdir(), 'ww-home-'))): HostChild {
  const child = spawn(process.execPath, [bin, 'host', '--json', ...args], {
    env: { ...process.env, WW_HOME: home, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new HostChild(child, home)
}

export function removeHome(h: HostChild): void {
  rmSync(h.home, { recursive: true, force: true })
}
