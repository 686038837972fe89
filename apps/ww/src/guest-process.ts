// One guest run as a ww process by the CLI, under @ww/proc's Scheduler: metered (so a
// deadline ends even a guest spinning in a loop), memory-capped, with its restricted
// WASI (stdout/stderr to the caller as they come) and its Host capability over the
// zero-copy transport, both plugged in as the process's extension. One exit report.
import { asyncifyImports } from '@ww/guest'
import { describeStatus, Scheduler, type ExitStatus } from '@ww/proc'
import { GuestConnection, type GuestConnectionOptions, type GuestStats, type RpcStats } from '@ww/transport'
import {
  DEFAULT_POLICY, createWasi,
  type AuditSnapshot, type OutputRecord, type OutputSink, type Policy, type Wasi,
} from '@ww/wasi-restricted'

/** Imports a guest gets: WASI, the transport (`ww`), the scheduler's own. */
const PROVIDED = new Set(['wasi_snapshot_preview1', 'ww', 'ww_proc'])
/** Every import that may wait: the transport's recv and the WASI calls that may suspend. */
const SUSPENDING = asyncifyImports.wasi

export interface GuestRunOptions {
  /** The Host capability of the process, built once the scheduler has given it a pid. */
  bootstrap: (pid: number) => { server: GuestConnectionOptions['bootstrap']; close(): void }
  policy?: Policy
  /** Each fd_write to stdout (1) or stderr (2), as the guest makes it. */
  onOutput: (fd: 1 | 2, bytes: Uint8Array) => void
  /** Wall-clock deadline from spawn (the process ends with limit(time)). */
  deadlineMs?: number
  /** Memory cap in 64 KiB pages (growing past it ends the process with limit(memory)). */
  memoryPages?: number
  signal?: AbortSignal
  /** Called when compiling (metering) is done and the process is about to start. */
  onSpawn?: (pid: number) => void
}

export interface GuestRunReport {
  pid: number
  /** How the process ended; a WASI proc_exit(n) is exited(n). */
  status: ExitStatus
  ms: number
  rpc: RpcStats
  transport: GuestStats
  denied: AuditSnapshot
}

/** The module could not be started: not valid, or asks for what a guest does not get. */
export class GuestStartError extends Error {
  readonly code = 'ERR_GUEST_START'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'GuestStartError'
  }
}

/** Turns output chunks into lines; holds at most one partial line per fd. */
export class LineSplitter {
  readonly #partial = new Map<1 | 2, string>()
  constructor(private readonly onLine: (fd: 1 | 2, line: string) => void) {}
  push(fd: 1 | 2, bytes: Uint8Array): void {
    const lines = ((this.#partial.get(fd) ?? '') + Buffer.from(bytes).toString('utf8')).split('\n')
    this.#partial.set(fd, lines.pop() ?? '')
    for (const line of lines) this.onLine(fd, line)
  }
  flush(): void {
    for (const [fd, rest] of this.#partial) if (rest) this.onLine(fd, rest)
    this.#partial.clear()
  }
}

class StreamSink implements OutputSink {
  constructor(private readonly fd: 1 | 2, private readonly onOutput: GuestRunOptions['onOutput']) {}
  write(r: OutputRecord): boolean {
    this.onOutput(this.fd, r.bytes)
    return true
  }
  writable(): Promise<void> { return Promise.resolve() }
}

/** Checks what a module needs before the scheduler meters it: imports and an entry point. */
export async function checkModule(bytes: Uint8Array<ArrayBuffer>): Promise<void> {
  let module: WebAssembly.Module
  try {
    module = await WebAssembly.compile(bytes)
  } catch (e) {
    throw new GuestStartError(`invalid WebAssembly module: ${(e as Error).message}`, { cause: e })
  }
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name))
  if (!exports.has('_start') && !exports.has('ww_main')) throw new GuestStartError('the module exports no entry point (_start or ww_main)')
  if (!exports.has('memory')) throw new GuestStartError('the module exports no memory')
  const foreign = WebAssembly.Module.imports(module).filter((i) => !PROVIDED.has(i.module))
  if (foreign.length > 0) {
    const names = foreign.slice(0, 3).map((i) => `${i.module}.${i.name}`).join(', ')
    throw new GuestStartError(`the module imports ${names}${foreign.length > 3 ? ', …' : ''}; a guest gets only wasi_snapshot_preview1, ww and ww_proc`)
  }
}

export async function runGuestProcess(bytes: Uint8Array<ArrayBuffer>, opts: GuestRunOptions): Promise<GuestRunReport> {
  await checkModule(bytes)
  await using sched = new Scheduler({ maxProcesses: 1 })
  const mod = await sched.compile(bytes, { suspendingImports: SUSPENDING, ...(opts.signal ? { signal: opts.signal } : {}) }).catch((e: unknown) => {
    throw new GuestStartError(`cannot meter the module: ${(e as Error).message}`, { cause: e })
  })
  // Built by the extension once the scheduler has given the process its pid.
  const parts: { wasi?: Wasi; conn?: GuestConnection; host?: { close(): void } } = {}
  const started = performance.now()
  const handle = sched.spawn(mod, {
    name: 'ww-run',
    ...(opts.deadlineMs !== undefined ? { deadlineMs: opts.deadlineMs } : {}),
    ...(opts.memoryPages !== undefined ? { memoryPages: opts.memoryPages, onMemoryLimit: 'kill' as const } : {}),
    extend: (ctx) => {
      const h = opts.bootstrap(ctx.pid)
      parts.host = h
      const c = new GuestConnection({ processId: ctx.pid, bootstrap: h.server, suspension: ctx.suspender })
      parts.conn = c
      const w = createWasi(opts.policy ?? DEFAULT_POLICY, {
        processId: String(ctx.pid),
        sinks: { stdout: new StreamSink(1, opts.onOutput), stderr: new StreamSink(2, opts.onOutput) },
        suspend: (fn) => c.suspending(fn),
      })
      parts.wasi = w
      return {
        imports: { wasi_snapshot_preview1: w.imports, ...c.imports() },
        attach: (inst) => { c.attach(inst); w.attach(inst) },
        onExit: (st) => { if (st.kind === 'exited') c.close(); else c.kill(new Error(describeStatus(st))) },
        stats: () => ({ denials: w.audit().denials }),
      }
    },
  })
  opts.onSpawn?.(handle.pid)
  const onAbort = (): void => { void handle.kill() }
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    let status = await handle.wait()
    // WASI's proc_exit ends the guest by a trap the scheduler sees; it is an exit.
    const { wasi, conn } = parts
    const exit = wasi?.exit
    if (exit && status.kind === 'trapped') status = { kind: 'exited', code: exit.exitCode }
    // The extension is built before instantiation: without it the process never started.
    if (conn === undefined || wasi === undefined) throw new GuestStartError(`the process could not start: ${describeStatus(status)}`)
    return {
      pid: handle.pid,
      status,
      ms: performance.now() - started,
      rpc: conn.rpc.stats,
      transport: conn.stats,
      denied: wasi.audit(),
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
    parts.wasi?.close()
    parts.host?.close()
  }
}

/** The shell exit status of a process (schemas/README.md, "Exit statuses"). */
export function exitCodeOf(s: ExitStatus): number {
  switch (s.kind) {
    case 'exited': return s.code >= 0 && s.code <= 255 ? s.code : 255
    case 'trapped': return 134
    case 'killed': return 137
    case 'limit': return s.which === 'time' ? 124 : 137
  }
}
