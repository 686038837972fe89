// One guest run as a ww process by the CLI: its restricted WASI (stdout/stderr to the
// caller's line handler, tagged with the pid), its Host capability over the zero-copy
// transport, and one exit report. The scheduler (@ww/proc) grows this into many
// processes with limits and metering; the CLI uses this while it has one guest at a time.
import { GuestConnection, type GuestConnectionOptions, type GuestStats, type RpcStats, type TransportError } from '@ww/transport'
import { DEFAULT_POLICY, createWasi, type OutputRecord, type OutputSink, type Policy, type AuditSnapshot } from '@ww/wasi-restricted'

export interface GuestRunOptions {
  pid: number
  /** The capability the guest's Bootstrap gets (its Host). */
  bootstrap: GuestConnectionOptions['bootstrap']
  policy?: Policy
  /** Each complete line the guest writes, with its fd (1 stdout, 2 stderr). */
  onLine: (fd: 1 | 2, line: string) => void
  entry?: string
  signal?: AbortSignal
}

export interface GuestRunReport {
  pid: number
  /** The entry's return value, or the exit code it passed to proc_exit. */
  code?: number
  /** Why the process ended other than by returning (typed code + reason). */
  error?: { code: string; reason: string }
  ms: number
  rpc: RpcStats
  transport: GuestStats
  denied: AuditSnapshot
}

/** Turns fd_write records into lines; never buffers more than one partial line per fd. */
class LineSink implements OutputSink {
  #partial = ''
  constructor(private readonly fd: 1 | 2, private readonly onLine: GuestRunOptions['onLine']) {}
  write(r: OutputRecord): boolean {
    const text = this.#partial + Buffer.from(r.bytes).toString('utf8')
    const lines = text.split('\n')
    this.#partial = lines.pop() ?? ''
    for (const line of lines) this.onLine(this.fd, line)
    return true
  }
  writable(): Promise<void> { return Promise.resolve() }
  flush(): void {
    if (this.#partial) this.onLine(this.fd, this.#partial)
    this.#partial = ''
  }
}

export async function runGuestProcess(bytes: Uint8Array<ArrayBuffer>, opts: GuestRunOptions): Promise<GuestRunReport> {
  const started = performance.now()
  const guest = new GuestConnection({ bootstrap: opts.bootstrap, processId: opts.pid })
  const stdout = new LineSink(1, opts.onLine)
  const stderr = new LineSink(2, opts.onLine)
  const wasi = createWasi(opts.policy ?? DEFAULT_POLICY, {
    processId: String(opts.pid),
    sinks: { stdout, stderr },
    suspend: (fn) => guest.suspending(fn),
  })
  const onAbort = (): void => { guest.kill(opts.signal?.reason ?? new Error('aborted')) }
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  const report = (extra: Partial<GuestRunReport>): GuestRunReport => ({
    pid: opts.pid,
    ms: performance.now() - started,
    rpc: guest.rpc.stats,
    transport: guest.stats,
    denied: wasi.audit(),
    ...extra,
  })
  try {
    const module = await WebAssembly.compile(bytes)
    const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.imports, ...guest.imports() })
    guest.attach(instance)
    wasi.attach(instance)
    const code = await guest.run(opts.entry ?? 'ww_main')
    return report({ code })
  } catch (err) {
    if (wasi.exit) return report({ code: wasi.exit.exitCode })
    const e = err as Partial<TransportError> & Error
    return report({ error: { code: typeof e.code === 'string' ? e.code : 'ERR_GUEST', reason: e.reason ?? e.message } })
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
    stdout.flush()
    stderr.flush()
    wasi.close()
    guest.close()
  }
}
