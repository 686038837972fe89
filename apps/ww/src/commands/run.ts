import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
// Not the main entry: a run needs no libp2p (see @ww/host/embedded).
import { dialerProvider, embeddedCluster, hostCapability } from '@ww/host/embedded'
import { describeStatus, shellStatus, type ExitStatus } from '@ww/interface'
import { scratchSeedFromHost } from '@ww/proc'
import {
  BadAddress, BindFailed, checkScratchSeed, DEFAULT_POLICY, grant, listenTcp, parseAddr, ScratchSeedError,
  type AuditSnapshot, type Grant, type Policy, type ScratchEntry, type TcpListener,
} from '@ww/wasi-restricted'
import type { Command } from '../command.js'
import { UsageError } from '../command.js'
import { summaryOf } from './index.js'
import { GuestStartError, LineSplitter, runGuestProcess } from '../guest-process.js'
import { style } from '../style.js'
import { moduleCacheDir } from '../host/state.js'
import { loadPluginArgs, PLUGIN_FORM } from '../host/plugins.js'

/** Exit status when the module cannot be run at all (schemas/README.md: failedToStart). */
const FAILED_TO_START = 126

const GRANT_FORMS = 'valid forms: --grant scratch (16 MiB), --grant scratch=<size> (e.g. 16MiB, 512KiB), --grant clock=virtual, --grant random=seed:<n>, --grant connections=<n> (with --listen; default 64)'

/**
 * `ww run <module.wasm>`: one guest as a ww process on an embedded host, under the
 * scheduler (metered, deadline, memory cap) with the default restricted WASI policy
 * widened by `--grant`s, and its Host capability (view, pubsub, anchors).
 */
export const run: Command = {
  name: 'run',
  summary: summaryOf('run'),
  usage: 'ww run <module.wasm> [--grant scratch=16MiB] [--put ./data:/scratch/data …] [--grant clock=virtual] [--grant random=seed:N] [--grant connections=N] [--listen 127.0.0.1:8080 …] [--dial host:port …] [--timeout 5s] [--memory 64MiB] [--entry NAME] [--plugin MODULE[#EXPORT][=JSON]]… [--json]',
  options: {
    grant: { type: 'string', multiple: true },
    put: { type: 'string', multiple: true },
    listen: { type: 'string', multiple: true },
    dial: { type: 'string', multiple: true },
    timeout: { type: 'string' },
    memory: { type: 'string' },
    entry: { type: 'string' },
    plugin: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  },
  optionHelp: {
    grant: 'widen the default policy (repeatable): scratch[=SIZE] (in-memory dir at /scratch, default 16MiB), clock=virtual (starts at 0, 1 µs a read), random=seed:N (deterministic), connections=N (with --listen: open connections the guest may hold at once, default 64; fds to match)',
    put: 'SRC:/scratch/PATH — copy the host file or directory SRC into the scratch dir before the guest starts (needs --grant scratch; counted against its size; symlinks copied as links); repeatable',
    listen: 'bind a TCP listener on host:port (port 0 picks a free one; the bound address is printed) and grant it to the guest as a socket fd, 3 upward (after /scratch); repeatable',
    dial: "give the guest's Host capability a Dialer (RPC, schemas/net.capnp) that reaches only these host:port addresses; repeatable. WASI preview1 has no connect: a guest that speaks only WASI cannot dial",
    timeout: 'wall-clock limit, e.g. 500ms, 5s, 2m (default: none); past it the process is killed, exit 124',
    memory: 'memory cap, e.g. 64MiB (default 16MiB); growing past it kills the process, exit 137',
    entry: 'the exported function to start at (default: ww_main if the module exports it, else _start)',
    plugin: `add a plugin to the process (repeatable): ${PLUGIN_FORM}; one that fails to load is exit 2, one whose policy refuses the spawn exit 126. See PLUGINS.md`,
    json: 'print the output as JSON lines ({"fd":1,"text":…}) and a final report, for scripts',
  },
  details: [
    'The guest gets the default restricted WASI policy (no files, environment, arguments or',
    'network; stdout and stderr stream through) plus the grants, and a Host capability',
    '(cluster view, pubsub, anchors) over Cap\'n Proto RPC. Entry: ww_main, else _start (--entry).',
    'Modules are metered by the scheduler: give it the module before asyncify.',
    '',
    'Network: none unless granted. --listen binds the address here, in ww, and hands the',
    'guest the listening socket (sock_accept, sock_recv, sock_send, poll_oneoff); it is',
    'closed, with every connection, when the process ends (exit, --timeout, kill, Ctrl-C).',
    '',
    'Exit status: the guest\'s exit code; 124 timeout; 134 trap (reason printed);',
    '137 killed or over a limit; 126 not a WebAssembly module or it could not start;',
    '2 usage error. Denied syscalls are listed after the run, e.g.',
    '  denied: path_open ×2 (ENOTCAPABLE)',
    '',
    'Examples:',
    '  ww run hello.wasm',
    '  ww run job.wasm --grant scratch=64MiB --timeout 30s --memory 128MiB',
    '  ww run app.wasm --grant scratch --put ./data:/scratch/data',
    '  ww run sim.wasm --grant clock=virtual --grant random=seed:42 --json',
    '  ww run server.wasm --listen 127.0.0.1:8080',
  ].join('\n'),
  async run(args, io, signal) {
    const [file, ...extra] = args.positionals
    if (file === undefined) throw new UsageError('missing the module to run', 'usage: ww run <module.wasm> [options]; see ww run --help')
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, 'ww run takes one module; a guest gets no arguments')
    const json = args.values.json === true
    const listen = toList(args.values.listen).map((a) => checkAddr(a, '--listen'))
    const dial = toList(args.values.dial).map((a) => checkAddr(a, '--dial'))
    const policy = parseGrants(toList(args.values.grant), { sockets: listen.length > 0 })
    // Read and checked before anything starts: a bad --put is a usage error (exit 2).
    const scratchSeed = await readPuts(toList(args.values.put), policy, signal)
    const deadlineMs = args.values.timeout === undefined ? undefined : parseDuration(String(args.values.timeout))
    const memoryPages = args.values.memory === undefined ? undefined : Math.floor(parseSize(String(args.values.memory), '--memory') / 65536)
    const entry = args.values.entry === undefined ? undefined : String(args.values.entry)
    if (entry !== undefined && !/^[\w$.-]+$/.test(entry)) throw new UsageError(`--entry: '${entry}' is not an export name`, 'e.g. --entry _start')
    if (memoryPages !== undefined && memoryPages < 1) throw new UsageError('--memory must be at least 64KiB (one WebAssembly page)', 'e.g. --memory 64MiB')
    // A module that is missing or is no plugin: exit 2 (PluginError), nothing started.
    const plugins = await loadPluginArgs(toList(args.values.plugin), process.cwd())

    const err = style(io, 'stderr')
    const fail = (message: string): number => {
      if (json) io.stdout.write(JSON.stringify({ ok: false, module: file, exitCode: FAILED_TO_START, error: message }) + '\n')
      io.stderr.write(`ww run: ${message}\n`)
      return FAILED_TO_START
    }

    let bytes: Uint8Array<ArrayBuffer>
    try {
      bytes = new Uint8Array(await readFile(file))
    } catch (e) {
      const code = (e as { code?: string }).code
      if (code === 'ENOENT') return fail(`no such file: ${file} (looked in ${resolve(file)})`)
      if (code === 'EISDIR') return fail(`${file} is a directory; give the path of a .wasm file`)
      return fail(`cannot read ${file}: ${(e as Error).message}`)
    }
    if (!(bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d)) {
      return fail(`not a WebAssembly module: ${file} (expected \\0asm)`)
    }

    // Bound here, by ww, on the addresses the user named: the guest only gets the sockets.
    const listeners: TcpListener[] = []
    try {
      for (const a of listen) listeners.push(await listenTcp(a, {}, signal))
    } catch (e) {
      for (const l of listeners) l.close()
      if (e instanceof BindFailed) return fail(bindFailure(e))
      throw e
    }
    const firstSocketFd = 3 + (policy.scratch === null ? 0 : 1)
    listeners.forEach((l, i) => {
      if (json) io.stdout.write(JSON.stringify({ listening: l.address, fd: firstSocketFd + i }) + '\n')
      else io.stderr.write(`ww run: listening on ${l.address} (fd ${firstSocketFd + i})\n`)
    })

    await using cluster = embeddedCluster()
    const splitter = json ? new LineSplitter((fd, text) => io.stdout.write(JSON.stringify({ fd, text }) + '\n')) : undefined
    let report
    try {
      report = await runGuestProcess(bytes, {
        policy,
        ...(scratchSeed.length > 0 ? { scratchSeed } : {}),
        moduleCache: moduleCacheDir(io.env),
        sockets: listeners,
        ...(deadlineMs !== undefined ? { deadlineMs } : {}),
        ...(memoryPages !== undefined ? { memoryPages } : {}),
        ...(entry !== undefined ? { entry } : {}),
        ...(plugins.length > 0 ? { plugins } : {}),
        signal,
        // The spawner decides what the guest may reach: the cluster view, pubsub and anchors.
        bootstrap: (processId) => hostCapability(cluster, {
          processId,
          rights: { view: true, pubSub: true, root: true },
          ...(dial.length > 0 ? { dialer: dialerProvider(dial) } : {}),
        }),
        // Human mode: the guest's bytes go straight through, as they come.
        onOutput: (fd, chunk) => {
          if (splitter) splitter.push(fd, chunk)
          else (fd === 1 ? io.stdout : io.stderr).write(chunk)
        },
      })
    } catch (e) {
      if (e instanceof GuestStartError) return fail(`${file}: ${e.message}`)
      throw e
    } finally {
      splitter?.flush()
      // The process's WASI closed them when it ended; this covers a process that never
      // started. Waits until the ports are free (accepted connections linger ≤ 5 s for FIN).
      for (const l of listeners) l.close()
      await Promise.all(listeners.map((l) => l.closed))
    }

    const exitCode = shellStatus(report.status)
    const denied = deniedLines(report.denied, policy)
    if (json) {
      io.stdout.write(JSON.stringify({
        ok: exitCode === 0, module: file, host: cluster.id, pid: report.pid, exitCode,
        ...(listeners.length > 0 ? { listened: listeners.map((l) => l.address) } : {}),
        ...(dial.length > 0 ? { dialer: dial } : {}),
        status: report.status, reason: describeStatus(report.status), ms: Math.round(report.ms),
        deniedSyscalls: report.denied.byFunction, deniedErrnos: report.denied.byErrno,
        rpc: { callsIn: report.rpc.callsIn, messagesIn: report.rpc.messagesIn, messagesOut: report.rpc.messagesOut },
      }) + '\n')
      return exitCode
    }
    for (const line of denied) io.stderr.write(`${err.red('denied:')} ${line}\n`)
    const why = explain(report.status, deadlineMs)
    if (why) io.stderr.write(`${err.red(`ww run: ${file}:`)} ${why}\n`)
    return exitCode
  },
}

function toList(v: string | boolean | (string | boolean)[] | undefined): string[] {
  if (v === undefined) return []
  return (Array.isArray(v) ? v : [v]).map(String)
}

/** `host:port` as given, or a usage error saying what an address looks like. */
function checkAddr(addr: string, option: '--listen' | '--dial'): string {
  try {
    parseAddr(addr)
    return addr
  } catch (e) {
    if (!(e instanceof BadAddress)) throw e
    throw new UsageError(`${option}: '${addr}' is not host:port`, option === '--listen'
      ? 'e.g. --listen 127.0.0.1:8080, --listen [::1]:8080, --listen 127.0.0.1:0 (a free port)'
      : 'e.g. --dial 127.0.0.1:5432, --dial db.internal:5432 (names are compared as written)')
  }
}

function bindFailure(e: BindFailed): string {
  const code = (e.cause as { code?: string } | undefined)?.code
  if (code === 'EADDRINUSE') return `cannot listen on ${e.addr}: the address is in use (another program listens there; pick another port, or port 0 for a free one)`
  if (code === 'EADDRNOTAVAIL') return `cannot listen on ${e.addr}: not an address of this machine`
  if (code === 'EACCES') return `cannot listen on ${e.addr}: permission denied (ports below 1024 need privileges)`
  return `cannot listen on ${e.addr}: ${(e.cause as Error | undefined)?.message ?? e.message}`
}

/** The default policy widened by each `--grant` (and by sockets when ww binds listeners for the guest). */
export function parseGrants(grants: string[], extra: { sockets?: boolean } = {}): Policy {
  const g: Grant = {}
  if (extra.sockets === true) g.sockets = true
  for (const raw of grants) {
    const [kind, value] = raw.includes('=') ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)] : [raw, undefined]
    if (kind === 'scratch') {
      g.scratch = value === undefined ? true : { maxBytes: parseSize(value, '--grant scratch') }
    } else if (kind === 'clock' && value === 'virtual') {
      g.clock = { startMs: 0 }
    } else if (kind === 'random' && value !== undefined && /^seed:\d+$/.test(value) && Number(value.slice(5)) <= 0xffffffff) {
      g.random = { seed: Number(value.slice(5)) }
    } else if (kind === 'connections' && value !== undefined && /^[1-9]\d{0,4}$/.test(value)) {
      if (extra.sockets !== true) throw new UsageError('--grant connections=<n> sizes the connections of the listeners --listen binds; give --listen too', GRANT_FORMS)
      // Connections are fds too: room for them besides stdio, /scratch and the listeners.
      g.sockets = { maxConnections: Number(value) }
      g.maxFds = Math.max(64, Number(value) + 16)
    } else {
      throw new UsageError(`bad --grant '${raw}'`, GRANT_FORMS)
    }
  }
  try {
    return grant(DEFAULT_POLICY, g)
  } catch (e) {
    throw new UsageError(`bad --grant: ${(e as Error).message}`, GRANT_FORMS)
  }
}

const PUT_FORM = 'e.g. --put ./data:/scratch/data (a host file or directory, then where the guest finds it under /scratch)'

/**
 * The `--put SRC:DEST` copies, read from the host now, as one scratch seed: DEST must be
 * the scratch dir or under it, SRC must exist, and all of them together must fit the
 * scratch grant. Anything else is a UsageError, before the module is even read.
 */
export async function readPuts(puts: string[], policy: Policy, signal?: AbortSignal): Promise<ScratchEntry[]> {
  if (puts.length === 0) return []
  const scratch = policy.scratch
  if (scratch === null) throw new UsageError('--put needs a scratch dir to put into: add --grant scratch (or scratch=<size>)', PUT_FORM)
  const seed: ScratchEntry[] = []
  for (const raw of puts) {
    const at = raw.lastIndexOf(':/')
    if (at <= 0) throw new UsageError(`--put '${raw}': expected SRC:${scratch.mountPath}/PATH`, PUT_FORM)
    const source = raw.slice(0, at), dest = raw.slice(at + 1)
    const mount = scratch.mountPath
    if (dest !== mount && !dest.startsWith(`${mount}/`)) throw new UsageError(`--put '${raw}': ${dest} is outside the scratch dir ${mount}`, PUT_FORM)
    const rel = dest.slice(mount.length).replace(/^\/+/, '')
    if (rel.split('/').some((c) => c === '..' || c === '.')) throw new UsageError(`--put '${raw}': ${dest} has '.' or '..' in it (it would leave or skip around ${mount}); give a plain path`, PUT_FORM)
    try {
      seed.push(...await scratchSeedFromHost(source, rel, { maxBytes: scratch.maxBytes, maxEntries: scratch.maxInodes - 1, ...(signal ? { signal } : {}) }))
      checkScratchSeed(scratch, seed)
    } catch (e) {
      if (!(e instanceof ScratchSeedError)) throw e
      throw new UsageError(`--put '${raw}': ${putProblem(e, source, scratch)}`, PUT_FORM)
    }
  }
  return seed
}

function putProblem(e: ScratchSeedError, source: string, scratch: NonNullable<Policy['scratch']>): string {
  const why = e.message.replace(/^ERR_SCRATCH_SEED: /, '')
  if (/no such file or directory on the host/.test(why)) return `${source} does not exist (looked in ${resolve(source)})`
  if (/scratch quota|more than/.test(why)) return `${why.replace(`${source}: `, `${source} `)}; the scratch dir holds ${scratch.maxBytes} bytes and ${scratch.maxInodes} files and directories: give a larger --grant scratch=<size>`
  return why
}

const UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, k: 1024, kb: 1000, mib: 1024 ** 2, m: 1024 ** 2, mb: 1000 ** 2, gib: 1024 ** 3, g: 1024 ** 3, gb: 1000 ** 3 }

/** `16MiB`, `512KiB`, `1GiB`, `65536` → bytes. */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined
  if (!m || unit === undefined) throw new UsageError(`${what}: cannot read the size '${text}'`, 'sizes look like 65536, 512KiB, 16MiB, 1GiB')
  return Math.floor(Number(m[1]) * unit)
}

/** `500ms`, `5s`, `2m`, `5` (seconds) → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim())
  if (!m) throw new UsageError(`--timeout: cannot read the duration '${text}'`, 'durations look like 500ms, 5s, 2m, 1h (a bare number is seconds)')
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's']!
  if (!(ms > 0)) throw new UsageError('--timeout must be more than 0', 'e.g. --timeout 5s')
  return ms
}

/** `path_open ×2 (ENOTCAPABLE)`, one per function, from the WASI audit. */
export function deniedLines(audit: AuditSnapshot, policy: Policy): string[] {
  const errnos = Object.keys(audit.byErrno)
  return Object.entries(audit.byFunction).map(([fn, n]) => {
    const row = policy.rows[fn as keyof Policy['rows']]
    // A deny row names its errno; otherwise the audit only counts errnos overall.
    const why = row?.do === 'deny' ? row.errno : errnos.length === 1 ? errnos[0] : errnos.join('/')
    return `${fn} ×${n} (${why})`
  })
}

function explain(s: ExitStatus, deadlineMs: number | undefined): string | undefined {
  switch (s.kind) {
    case 'exited': return undefined
    case 'trapped': return `trapped: ${s.code ? `${s.code}: ` : ''}${s.reason}`
    case 'killed': return `killed (by ${s.by?.kind ?? 'host'})`
    case 'limit':
      if (s.which === 'time') return `timed out after ${formatMs(deadlineMs ?? 0)} (--timeout); killed`
      if (s.which === 'memory') return `over the memory cap (--memory): ${s.detail ?? ''}; killed`
      return `killed: ${describeStatus(s)}`
    // The scheduler ends a local run with the four above; the rest come from other hosts.
    case 'hostLost': case 'failedToStart': return describeStatus(s)
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}


