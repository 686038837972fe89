// Drives dist/bin/host-process.js as a child OS process over JSON lines.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const ENTRY = fileURLToPath(new URL('../dist/bin/host-process.js', import.meta.url))

export type Ev = { ev: string; [k: string]: unknown }

export class HostProc {
  readonly child: ChildProcess
  readonly events: Ev[] = []
  id = ''
  addrs: string[] = []
  #next = 1
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  #waiters = new Set<() => void>()

  private constructor(args: string[]) {
    if (!existsSync(ENTRY)) throw new Error(`${ENTRY} missing: build first (pnpm build)`)
    this.child = spawn(process.execPath, [ENTRY, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as { id?: number; ok?: unknown; error?: { code: string; message: string }; ev?: string }
      if (m.ev === undefined) {
        const p = this.#pending.get(m.id!)
        this.#pending.delete(m.id!)
        if (m.error) p?.reject(Object.assign(new Error(m.error.message), { code: m.error.code }))
        else p?.resolve(m.ok)
      } else {
        this.events.push(m as Ev)
        for (const w of [...this.#waiters]) w()
      }
    })
  }

  static async start(args: string[] = [], timeoutMs = 60_000): Promise<HostProc> {
    const h = new HostProc(args)
    const ready = await h.waitFor((e) => e.ev === 'ready', 'ready', timeoutMs)
    h.id = ready.id as string
    h.addrs = ready.addrs as string[]
    return h
  }

  call<T = unknown>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.#next++
    this.child.stdin!.write(JSON.stringify({ id, cmd, ...args }) + '\n')
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => { this.#pending.delete(id); reject(new Error(`${cmd} timed out`)) }, timeoutMs)
      this.#pending.set(id, {
        resolve: (v) => { clearTimeout(t); resolve(v as T) },
        reject: (e) => { clearTimeout(t); reject(e) },
      })
    })
  }

  /** Resolves once `cond` returns something, checking now and after every event. */
  until<T>(cond: () => T | undefined, what: string, timeoutMs = 60_000): Promise<T> {
    const now = cond()
    if (now !== undefined) return Promise.resolve(now)
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { this.#waiters.delete(check); reject(new Error(`timed out waiting for ${what}`)) }, timeoutMs)
      const check = (): void => {
        const v = cond()
        if (v !== undefined) { clearTimeout(t); this.#waiters.delete(check); resolve(v) }
      }
      this.#waiters.add(check)
    })
  }

  /** The first event (past or future) matching `pred`. */
  waitFor(pred: (e: Ev) => boolean, what: string, timeoutMs = 60_000): Promise<Ev> {
    return this.until(() => this.events.find(pred), what, timeoutMs)
  }

  /** Waits until `count` events match; returns them. */
  waitCount(pred: (e: Ev) => boolean, count: number, what: string, timeoutMs = 60_000): Promise<Ev[]> {
    return this.until(() => {
      const hits = this.events.filter(pred)
      return hits.length >= count ? hits : undefined
    }, what, timeoutMs).catch((e: Error) => {
      throw new Error(`${e.message} (${this.events.filter(pred).length}/${count})`)
    })
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void { this.child.kill(signal) }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise((r) => this.child.once('exit', r))
    this.child.stdin!.end()
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(t)
  }
}
