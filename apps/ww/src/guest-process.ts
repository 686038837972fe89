// One guest run as a ww process by the CLI: @ww/proc composes it (metered, memory-capped,
// its restricted WASI with stdout/stderr streamed to the caller, its Host capability over
// the zero-copy transport); this file adds what a command needs around it — one exit
// report, the shell exit code, and output split into lines for --json.
import { BadModuleError, compileGuest, describeStatus, Scheduler, spawnGuest, type BootstrapFactory, type ExitStatus, type GuestProcess, type ProcessPlugin } from '@ww/proc'
import { GuestConnection, type GuestStats, type RpcStats } from '@ww/transport'
import { DEFAULT_POLICY, type AuditSnapshot, type Binder, type OutputRecord, type OutputSink, type Policy, type ScratchEntry } from '@ww/wasi-restricted'
import { WwError } from '@ww/interface'

export interface GuestRunOptions {
  /** The Host capability of the process, built once the scheduler has given it a pid. */
  bootstrap: (pid: number) => ReturnType<BootstrapFactory>
  policy?: Policy
  /** What the scratch dir holds at start (the policy must grant one; checked by the caller). */
  scratchSeed?: readonly ScratchEntry[]
  /**
   * Listeners the caller bound, granted to the process as socket fds after the scratch dir
   * (the policy must grant sockets). The process's WASI closes them when it ends.
   */
  sockets?: readonly Binder[]
  /** Each fd_write to stdout (1) or stderr (2), as the guest makes it. */
  onOutput: (fd: 1 | 2, bytes: Uint8Array) => void
  /** Wall-clock deadline from spawn (the process ends with limit(time)). */
  deadlineMs?: number
  /** Memory cap in 64 KiB pages (growing past it ends the process with limit(memory)). */
  memoryPages?: number
  /** The export to start at (default ww_main, else _start). */
  entry?: string
  signal?: AbortSignal
  /** Where instrumented modules are kept across runs ($WW_HOME/cache/instrumented); false: not kept. */
  moduleCache?: string | false
  /** Plugins added to the process (loaded from their modules: see PLUGINS.md). */
  plugins?: readonly ProcessPlugin[]
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
export class GuestStartError extends WwError<'ERR_GUEST_START'> {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_GUEST_START', message, options)
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

export async function runGuestProcess(bytes: Uint8Array<ArrayBuffer>, opts: GuestRunOptions): Promise<GuestRunReport> {
  // Binaryen (the metering pass) reads modules V8 rejects: let V8 say what is wrong first.
  if (!WebAssembly.validate(bytes)) {
    const why = await WebAssembly.compile(bytes).then(() => 'not valid', (e: unknown) => (e as Error).message)
    throw new GuestStartError(`invalid WebAssembly module: ${why}`)
  }
  await using sched = new Scheduler({ maxProcesses: 1, ...(opts.moduleCache !== undefined ? { moduleCache: opts.moduleCache } : {}) })
  const plugins = opts.plugins?.length ? { plugins: opts.plugins } : {}
  const mod = await compileGuest(sched, bytes, { ...plugins, ...(opts.entry ? { entry: opts.entry } : {}), ...(opts.signal ? { signal: opts.signal } : {}) }).catch((e: unknown) => {
    throw new GuestStartError(e instanceof BadModuleError ? e.message : `cannot meter the module: ${(e as Error).message}`, { cause: e })
  })
  const started = performance.now()
  let g: GuestProcess
  try {
    g = spawnGuest(sched, mod, {
      name: 'ww-run', ...plugins,
      policy: opts.policy ?? DEFAULT_POLICY,
      ...(opts.scratchSeed !== undefined ? { scratchSeed: opts.scratchSeed } : {}),
      stdout: new StreamSink(1, opts.onOutput),
      stderr: new StreamSink(2, opts.onOutput),
      host: ({ pid }) => opts.bootstrap(pid),
      ...(opts.sockets !== undefined && opts.sockets.length > 0 ? { sockets: opts.sockets } : {}),
      ...(opts.entry !== undefined ? { entry: opts.entry } : {}),
      ...(opts.deadlineMs !== undefined ? { deadlineMs: opts.deadlineMs } : {}),
      ...(opts.memoryPages !== undefined ? { memoryPages: opts.memoryPages, onMemoryLimit: 'kill' as const } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    })
  } catch (e) {
    // A plugin's policy (its check) refused the spawn: the process never started.
    throw new GuestStartError(`the process could not start: ${(e as { code?: string }).code ? `${(e as { code: string }).code}: ` : ''}${(e as Error).message}`, { cause: e })
  }
  opts.onSpawn?.(g.pid)
  const status = await g.wait()
  // Instantiation (parts, imports, start function) happens before the first slice.
  if (status.kind === 'trapped' && g.info().slices === 0) throw new GuestStartError(`the process could not start: ${describeStatus(status)}`)
  const { rpc, transport, denied } = g.stats()
  // A module without the transport (or WASI) made no calls through it: zero counters.
  const none = rpc === undefined || transport === undefined ? new GuestConnection() : undefined
  none?.rpc.close()
  return {
    pid: g.pid, status, ms: performance.now() - started,
    rpc: rpc ?? none!.rpc.stats, transport: transport ?? none!.stats,
    denied: denied ?? { denials: 0, byFunction: {}, byErrno: {}, byCall: {}, droppedBytes: 0 },
  }
}
