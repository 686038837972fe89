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

  /** SIGTERM, then the exit status. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM')
    return this.exited
  }
}

export function startHost(args: string[] = [], home = mkdtempSync(join(tmpdir(), 'ww-home-')), env: NodeJS.ProcessEnv = {}): HostChild {
  const child = spawn(process.execPath, [bin, 'host', '--json', ...args], {
    env: { ...process.env, WW_HOME: home, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new HostChild(child, home)
}

export function removeHome(h: HostChild): void {
  rmSync(h.home, { recursive: true, force: true })
}

/**
 * WAT for test guests. `spin` loops forever but can be preempted: it exports the asyncify
 * data area (ABI.md), so the scheduler can park it between slices and the host stays live.
 */
export const WAT = {
  spin: `(module (memory (export "memory") 1)
    (data (i32.const 1024) "\\08\\04\\00\\00\\00\\14\\00\\00")
    (func (export "ww_asyncify_data") (result i32) (i32.const 1024))
    (func (export "_start") (loop $l (br $l))))`,
  exit3: `(module (memory (export "memory") 1) (func (export "ww_main") (result i32) (i32.const 3)))`,
  /** Traps at once (wasm `unreachable`). */
  trap: `(module (memory (export "memory") 1) (func (export "_start") unreachable))`,
  /** Asks WASI for proc_raise (denied: ENOSYS), then spins like `spin`. */
  deny: `(module (import "wasi_snapshot_preview1" "proc_raise" (func $raise (param i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 1024) "\\08\\04\\00\\00\\00\\14\\00\\00")
    (func (export "ww_asyncify_data") (result i32) (i32.const 1024))
    (func (export "_start") (drop (call $raise (i32.const 2))) (loop $l (br $l))))`,
}

/** Writes each WAT guest as <dir>/<name>.wasm. */
export async function writeGuests(dir: string): Promise<void> {
  const { default: init } = await import('wabt')
  const wabt = await init()
  const { writeFileSync } = await import('node:fs')
  for (const [name, text] of Object.entries(WAT)) {
    const m = wabt.parseWat(`${name}.wat`, text)
    writeFileSync(join(dir, `${name}.wasm`), m.toBinary({}).buffer)
    m.destroy()
  }
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
