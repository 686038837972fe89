// A kit for testing with the real `ww` command (`@ww/cli/testing`): `ww host` as a child OS
// process (its --json event lines parsed as they come), one-shot and long-running client
// commands through the same binary. This repository's CLI tests and examples use it; so can
// a plugin's or an application's tests.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** The `ww` binary of this package (from src/ and from dist/ alike). */
export const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

export interface Result { status: number; stdout: string; stderr: string }

/** Where a command runs: its working directory (relative paths in its arguments). */
export interface RunOptions { cwd?: string }

/** Runs `ww …args` to completion. */
export function ww(args: string[], env: NodeJS.ProcessEnv = {}, o: RunOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bin, ...args], { timeout: 60_000, env: { ...process.env, NO_COLOR: '1', ...env }, ...(o.cwd ? { cwd: o.cwd } : {}) }, (err, stdout, stderr) => {
      const status = err ? (err as { code?: unknown }).code : 0
      if (typeof status !== 'number') return reject(err)
      resolve({ status, stdout, stderr })
    })
  })
}

/** The JSON a `ww … --json` run printed; a run that printed none fails with its status and stderr. */
export function jsonOf<T = unknown>(r: Result): T {
  try { return JSON.parse(r.stdout) as T } catch {
    throw new Error(`expected JSON on stdout, got ${JSON.stringify(r.stdout)} (exit ${r.status}); stderr: ${r.stderr}`)
  }
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

  /** What its guests printed, line by line (stdout and stderr). */
  output(): string[] { return this.events.filter((e) => e.event === 'output').map((e) => String(e.text)) }

  /** Waits for the guest output line `line`; fails at once on a line to stderr (a guest's failure). */
  async said(line: string): Promise<void> {
    const hit = await this.next((e) => e.event === 'output' && (e.text === line || e.fd === 2), `the line "${line}"`)
    if (hit.text !== line) throw new Error(`waiting for "${line}", a guest said on stderr: ${String(hit.text)}`)
  }

  /** SIGTERM, then the exit status. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM')
    return this.exited
  }
}

/** Starts `ww host --json …args` with its own $WW_HOME (a new temporary one by default). */
export function startHost(args: string[] = [], home = mkdtempSync(join(tmpdir(), 'ww-home-')), env: NodeJS.ProcessEnv = {}, o: RunOptions = {}): HostChild {
  const child = spawn(process.execPath, [bin, 'host', '--json', ...args], {
    env: { ...process.env, WW_HOME: home, NO_COLOR: '1', ...env },
    ...(o.cwd ? { cwd: o.cwd } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new HostChild(child, home)
}

export function removeHome(h: HostChild): void {
  rmSync(h.home, { recursive: true, force: true })
}

/** A long-running client (ww sub, ww anchors watch): started, then ready once its stderr says `marker`. */
export async function startClient(args: string[], env: NodeJS.ProcessEnv, marker: string): Promise<{ lines: string[]; exited: Promise<number | null>; stderr: () => string }> {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l))
  let stderr = ''
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); if (stderr.includes(marker)) resolve() })
    void exited.then((code) => reject(new Error(`ww ${args.join(' ')} exited (${code}) before "${marker}": ${stderr}`)))
  })
  return { lines, exited, stderr: () => stderr }
}
