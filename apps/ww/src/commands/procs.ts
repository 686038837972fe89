// `ww ps`, `ww kill`, `ww spawn`: the processes of the connected host, through its Debug
// (every process), the operator's BootContext (a Process capability per pid) and its
// Executor (spawn, here or on another host).
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { process as capProcess } from '@ww/schema'
import { getInterfaceClient } from 'capnp-ts'
import { describeExit, readExit, shellStatus, type Exit } from '../exit-status.js'
import type { Command } from '../command.js'
import { UsageError } from '../command.js'
import { summaryOf } from './index.js'
import { connectHost, remoteFailure, type HostSession } from '../client.js'
import { CliError } from '../errors.js'
import { style } from '../style.js'
import { formatBytes, formatDuration, table } from '../table.js'
import { CLIENT_HELP, CLIENT_OPTIONS, hostFlag, writeJson } from './args.js'

const STATES = ['starting', 'running', 'waiting', 'exited'] as const

interface PsRow {
  host: string; pid: number; parent: string; name: string; state: string; startedAtMs: number
  /** The host's runtime counters (0 for a process listed under another host). messages: RPC frames it received and sent. */
  cpuMs: number; memoryBytes: number; messagesIn: number; messagesOut: number; fuel: number
  /** WASI calls its policy refused, by function. */
  denials: Record<string, number>
  /** The worker thread it runs on (a host started with --workers). */
  worker?: number
  status?: string
}

export const ps: Command = {
  name: 'ps',
  summary: summaryOf('ps'),
  usage: 'ww ps [--host ADDR] [--json]',
  options: { ...CLIENT_OPTIONS },
  optionHelp: { ...CLIENT_HELP },
  details: [
    'Every live process on the host (not only those you spawned), by pid: its parent',
    '(host/pid; 0 is the host itself), name, state and age, and for the host\'s own processes',
    'CPU time and memory (--json: also fuel, RPC frames, WASI denials per function, and the',
    'worker thread of a host started with --workers), all from the host\'s Debug.ps. Kill one',
    'with `ww kill PID`.',
  ].join('\n'),
  async run(args, io, signal) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`, 'usage: ww ps')
    await using s = await connectHost(hostFlag(args), io.env, signal)
    let rows: PsRow[]
    let self: string
    try {
      const [info, listed] = await Promise.all([s.host.info(), s.host.debug().getDebug().ps()])
      self = info.getInfo().getId()
      const list = listed.getProcesses()
      rows = Array.from({ length: list.getLength() }, (_, i) => {
        const p = list.get(i)
        const parent = p.getParent()
        const worker = p.getWorker()
        return {
          host: p.getSelf().getHost(), pid: Number(p.getSelf().getPid()),
          // A parent on this host by pid alone; one elsewhere as host/pid.
          parent: parent.getHost() === self ? String(parent.getPid()) : `${parent.getHost()}/${parent.getPid()}`,
          name: p.getName(), state: STATES[p.getState()] ?? String(p.getState()), startedAtMs: Number(p.getStartedAtMs()),
          cpuMs: Number(p.getCpuTimeNs()) / 1e6, memoryBytes: Number(p.getMemoryBytes()),
          messagesIn: Number(p.getMessagesIn()), messagesOut: Number(p.getMessagesOut()), fuel: Number(p.getFuel()),
          denials: Object.fromEntries(p.getDenials().toArray().map((d) => [d.getSyscall(), Number(d.getCount())])),
          ...(worker >= 0 ? { worker } : {}),
          ...(p.hasStatus() && p.getState() === capProcess.ProcessState.EXITED ? { status: describeExit(readExit(p.getStatus())) } : {}),
        }
      })
    } catch (e) {
      throw remoteFailure(e, 'listing processes')
    }
    if (args.values.json === true) { writeJson(io, rows); return 0 }
    const st = style(io)
    if (rows.length === 0) { io.stdout.write(st.dim(`no processes on ${self}; start one with \`ww spawn module.wasm\`\n`)); return 0 }
    const now = Date.now()
    // Children this host started on other hosts are listed too, under their own host and pid.
    const elsewhere = rows.some((r) => r.host !== self)
    const counters = rows.some((r) => r.cpuMs > 0 || r.memoryBytes > 0)
    const workers = rows.some((r) => r.worker !== undefined)
    io.stdout.write(table(rows, [
      ...(elsewhere ? [{ header: 'HOST', get: (r: PsRow) => (r.host === self ? '(here)' : r.host) }] : []),
      { header: 'PID', get: (r) => r.pid },
      { header: 'PARENT', get: (r) => r.parent, align: 'right' },
      { header: 'NAME', get: (r) => r.name || '-' },
      { header: 'STATE', get: (r) => r.status ?? r.state, paint: (t, r) => (r.state === 'running' ? st.green(t) : r.state === 'exited' ? st.dim(t) : t) },
      { header: 'AGE', get: (r) => formatDuration(Math.max(0, now - r.startedAtMs)), align: 'right' },
      ...(workers ? [{ header: 'WORKER', get: (r: PsRow) => r.worker ?? '-', align: 'right' as const }] : []),
      ...(counters ? [
        { header: 'CPU', get: (r: PsRow) => `${r.cpuMs.toFixed(1)}ms`, align: 'right' as const },
        { header: 'MEM', get: (r: PsRow) => formatBytes(r.memoryBytes), align: 'right' as const },
      ] : []),
    ], st.bold))
    return 0
  },
}

export const kill: Command = {
  name: 'kill',
  summary: summaryOf('kill'),
  usage: 'ww kill PID… [--host ADDR] [--json]',
  options: { ...CLIENT_OPTIONS },
  optionHelp: { ...CLIENT_HELP },
  details: 'Each process ends with killed(requested), its whole subtree first (children on\nother hosts too). Find pids with `ww ps`.\n\nExample:\n  ww kill 3 4',
  async run(args, io, signal) {
    const pids = pidArgs(args.positionals, 'usage: ww kill PID…; find pids with `ww ps`')
    await using s = await connectHost(hostFlag(args), io.env, signal)
    const done: Array<{ pid: number; status: string }> = []
    for (const pid of pids) {
      const status = describeExit(await untilEnded(s, pid, 'kill', (proc) => proc.kill()))
      done.push({ pid, status })
      if (args.values.json !== true) io.stdout.write(`pid ${pid}: ${status}\n`)
    }
    if (args.values.json === true) writeJson(io, done)
    return 0
  },
}

export const wait: Command = {
  name: 'wait',
  summary: summaryOf('wait'),
  usage: 'ww wait PID… [--host ADDR] [--json]',
  options: { ...CLIENT_OPTIONS },
  optionHelp: { ...CLIENT_HELP },
  details: [
    'Waits for each process in turn and prints how it ended (--json: one line per process,',
    '{"pid","status":{"kind","reason",…}}): a child whose parent\'s host was lost ends',
    'killed (parentExited). Exits with the last one\'s status, as `ww spawn --wait`.',
    '',
    'Example:',
    '  ww wait 3',
  ].join('\n'),
  async run(args, io, signal) {
    const pids = pidArgs(args.positionals, 'usage: ww wait PID…; find pids with `ww ps`')
    await using s = await connectHost(hostFlag(args), io.env, signal)
    let last: Exit | undefined
    for (const pid of pids) {
      last = await untilEnded(s, pid, 'wait')
      if (args.values.json === true) writeJson(io, { pid, status: last })
      else io.stdout.write(`pid ${pid}: ${describeExit(last)}\n`)
    }
    return shellStatus(last!)
  },
}

function pidArgs(positionals: string[], usage: string): number[] {
  if (positionals.length === 0) throw new UsageError('missing the pid', usage)
  return positionals.map((p) => {
    if (!/^\d{1,15}$/.test(p) || Number(p) === 0) throw new UsageError(`'${p}' is not a process id`, 'pids are whole numbers from `ww ps` (0 is the host itself)')
    return Number(p)
  })
}

/** Process `pid` of the connected host (through the operator's BootContext), `first` done on it, then its end. */
async function untilEnded(s: HostSession, pid: number, what: string, first?: (p: capProcess.Process$Client) => PromiseLike<unknown>): Promise<Exit> {
  try {
    const res = await s.host.bootContext().getContext().cap((p) => p.setName(`process/${pid}`))
    const proc = new capProcess.Process$Client(getInterfaceClient(0, res))
    await first?.(proc)
    return readExit((await proc.wait()).getStatus())
  } catch (e) {
    const err = remoteFailure(e, `${what} ${pid}`)
    if (err instanceof CliError && /ERR_NOT_FOUND/.test(err.message)) throw new CliError('ERR_REMOTE', `no process ${pid} on this host`, 'see the live ones with `ww ps` (a process on another host: connect to that host with --host)')
    throw err
  }
}

export const spawn: Command = {
  name: 'spawn',
  summary: summaryOf('spawn'),
  usage: 'ww spawn <module.wasm> [--on HOST] [--name NAME] [--args TEXT] [--wait] [--host ADDR] [--json]',
  options: { ...CLIENT_OPTIONS, on: { type: 'string' }, name: { type: 'string' }, args: { type: 'string' }, wait: { type: 'boolean' } },
  optionHelp: {
    ...CLIENT_HELP,
    on: 'run it on this host of the cluster (its id, or a unique prefix of it; see `ww cluster ls`)',
    name: 'a label for `ww ps` (confers nothing)',
    args: 'the args blob the process reads from its BootContext (this text, UTF-8); no argv, no environment',
    wait: 'wait until it ends; exit with its status (its exit code; 134 trap, 137 killed or over a limit); Ctrl-C kills it',
  },
  details: [
    'The module is sent to the host (and put in its bytecode cache); the process is a root',
    'process of that host, under the default restricted WASI policy. Prints its pid.',
    '',
    'Examples:',
    '  ww spawn worker.wasm --name worker',
    '  ww spawn job.wasm --on 12D3KooWAbc --wait',
    '  ww spawn provider.wasm --args store-1   (the guest reads "store-1" from its BootContext)',
  ].join('\n'),
  async run(args, io, signal) {
    const [file, ...extra] = args.positionals
    if (file === undefined) throw new UsageError('missing the module to spawn', 'usage: ww spawn <module.wasm> [options]')
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, 'ww spawn takes one module')
    const bytes = await readModule(file)
    await using s = await connectHost(hostFlag(args), io.env, signal)
    const where = args.values.on === undefined ? undefined : await resolveHost(s, String(args.values.on))
    const name = args.values.name === undefined ? file.replace(/^.*\//, '').replace(/\.wasm$/, '') : String(args.values.name)
    try {
      const proc = s.host.executor().getExecutor().exec((p) => {
        p.initBytecode().setInline(bytes)
        const o = p.initOptions()
        o.setName(name)
        if (typeof args.values.args === 'string') o.setArgs(new TextEncoder().encode(args.values.args))
        if (where !== undefined) o.setWhere(where)
      }).getProcess()
      const ref = (await proc.pid()).getSelf()
      const started = { pid: Number(ref.getPid()), host: ref.getHost(), name }
      if (args.values.wait !== true) {
        if (args.values.json === true) writeJson(io, started)
        else io.stdout.write(`pid ${started.pid} on ${started.host} (${name})\n`)
        return 0
      }
      if (args.values.json !== true) io.stderr.write(style(io, 'stderr').dim(`pid ${started.pid} on ${started.host} (${name}): waiting…`) + '\n')
      // Ctrl-C while waiting kills the process (a foreground job), here or on its host.
      const onAbort = (): void => { void proc.kill().catch(() => {}) }
      signal.addEventListener('abort', onAbort, { once: true })
      if (signal.aborted) onAbort() // Ctrl-C came while it was being started
      let status
      try {
        status = readExit((await proc.wait()).getStatus())
      } finally {
        signal.removeEventListener('abort', onAbort)
      }
      if (args.values.json === true) writeJson(io, { ...started, status, reason: describeExit(status) })
      else io.stdout.write(`pid ${started.pid} on ${started.host}: ${describeExit(status)}\n`)
      return shellStatus(status)
    } catch (e) {
      throw remoteFailure(e, `spawn ${file}`)
    }
  },
}

/** The module's bytes, or an error that says what is wrong with the file. */
async function readModule(file: string): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await readFile(file))
  } catch (e) {
    const code = (e as { code?: string }).code
    if (code === 'ENOENT') throw new CliError('ERR_NO_FILE', `no such file: ${file} (looked in ${resolve(file)})`, 'give the path of a .wasm file')
    if (code === 'EISDIR') throw new CliError('ERR_NO_FILE', `${file} is a directory`, 'give the path of a .wasm file')
    throw new CliError('ERR_NO_FILE', `cannot read ${file}: ${(e as Error).message}`)
  }
  if (!(bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d)) {
    throw new CliError('ERR_NOT_WASM', `not a WebAssembly module: ${file} (it does not start with \\0asm)`, 'compile it to .wasm first, e.g. with AssemblyScript or clang --target=wasm32-wasi')
  }
  return bytes
}

/** A host id of the cluster from an id or a unique prefix. */
async function resolveHost(s: HostSession, prefix: string): Promise<string> {
  const list = (await s.host.view().getView().list((p) => p.setLimit(1000))).getHosts()
  const ids = Array.from({ length: list.getLength() }, (_, i) => list.get(i).getId())
  if (ids.includes(prefix)) return prefix
  const hits = ids.filter((id) => id.startsWith(prefix))
  if (hits.length === 1) return hits[0]!
  throw new UsageError(hits.length === 0 ? `no host '${prefix}' in the cluster` : `'${prefix}' names ${hits.length} hosts`, `hosts: ${ids.join(', ')}`)
}


