import { availableParallelism } from 'node:os'
import type { Command } from '../command.js'
import { UsageError } from '../command.js'
import { parseRpcAddress } from '../host/address.js'
import { wwHome } from '../host/state.js'
import { style } from '../style.js'
import { list, parseDuration } from './args.js'

/** More workers than this is a typo, not a machine (each is a V8 isolate of its own). */
const MAX_WORKERS = 256

/**
 * `ww host`: runs a host until SIGINT/SIGTERM. Embedded unless it listens or joins (then
 * js-libp2p). Serves its RPC endpoint (every client gets an admin Host), records itself
 * in $WW_HOME/host.json so clients find it, and optionally the web view.
 */
export const host: Command = {
  name: 'host',
  summary: 'start a host (embedded, or in a libp2p cluster) and serve its RPC endpoint',
  usage: 'ww host [--listen MULTIADDR]… [--join MULTIADDR]… [--rpc ADDR] [--ui [ADDR]] [--workers N|auto] [--ttl 10s] [--json]',
  options: {
    listen: { type: 'string', multiple: true },
    join: { type: 'string', multiple: true },
    rpc: { type: 'string' },
    ui: { type: 'string' },
    ttl: { type: 'string' },
    workers: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionalValues: { ui: '127.0.0.1:0' },
  optionHelp: {
    listen: 'listen for other hosts on this multiaddr (repeatable), e.g. /ip4/0.0.0.0/tcp/4001; makes it a libp2p host',
    join: 'join the cluster through this host (repeatable), e.g. /ip4/10.0.0.5/tcp/4001/p2p/12D3Koo…',
    rpc: 'RPC endpoint for clients: a unix socket path (default $WW_HOME/run/<pid>.sock) or HOST:PORT',
    ui: 'serve the web view on ADDR (default 127.0.0.1 and a free port): hosts, processes, topic traffic',
    workers: `run processes on N worker threads (1–${MAX_WORKERS}, or auto: one per core); default: all on the host's own thread`,
    ttl: 'libp2p membership: a host not heard from for this long has left (default 10s)',
    json: 'print one JSON line per event ({"event":"ready",…}, joins, leaves, "stopped") for scripts',
  },
  details: [
    'Without --listen or --join the host is embedded (one machine, no network). With either,',
    'it is a js-libp2p host (TCP, noise, yamux, gossipsub); with --join it waits until it sees',
    'the hosts it joined through, printing progress.',
    '',
    'Clients (ww ps, ww cluster ls, ww anchors, ww pub, ww sub, ww kill) find the host through',
    '$WW_HOME/host.json (WW_HOME defaults to ~/.ww), or --host ADDR / WW_HOST=ADDR. Anyone who',
    'can open the endpoint is this host\'s operator: the default unix socket is readable by',
    'your user only; a TCP endpoint is open to every local user.',
    '',
    'With --workers N the host\'s processes run on N worker threads, so CPU-bound guests use',
    'every core; a process stays on one worker for life (`ww ps` shows which). Guests see no',
    'difference: same pids, WASI, output and Host. Without it they share the host\'s thread,',
    'which starts faster and costs less memory (each worker is its own V8 isolate).',
    '',
    'Ctrl-C or SIGTERM stops it cleanly: the others are told it leaves, exit status 0.',
    '',
    'Examples:',
    '  ww host',
    '  ww host --listen /ip4/127.0.0.1/tcp/4001 --ui',
    '  ww host --workers auto',
    '  ww host --join /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW… --rpc 127.0.0.1:7777',
  ].join('\n'),
  async run(args, io, signal) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`, 'ww host takes options only; see ww host --help')
    const json = args.values.json === true
    const s = style(io)
    const emit = (event: string, fields: Record<string, unknown>, human: string): void => {
      io.stdout.write(json ? JSON.stringify({ event, ...fields }) + '\n' : human + '\n')
    }
    const listen = list(args.values.listen)
    const join = list(args.values.join)
    for (const a of [...listen, ...join]) {
      if (!a.startsWith('/')) throw new UsageError(`'${a}' is not a multiaddr`, 'multiaddrs look like /ip4/127.0.0.1/tcp/4001 (and /p2p/<id> for --join)')
    }
    for (const a of join) {
      if (!/\/p2p\/[^/]+$/.test(a)) throw new UsageError(`--join '${a}' does not name the host (/p2p/<id>)`, 'copy the address a host prints, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…')
    }
    const ttlMs = args.values.ttl === undefined ? undefined : parseDuration(String(args.values.ttl), '--ttl')
    if (args.values.rpc !== undefined) parseRpcAddress(String(args.values.rpc))
    if (args.values.ui !== undefined) parseRpcAddress(String(args.values.ui), '--ui')
    const workers = parseWorkers(args.values.workers)
    const home = wwHome(io.env)

    // Loaded here: libp2p and Binaryen are only for the command that runs a host.
    const { startHost } = await import('../host/node.js')
    const { serveUi } = await import('../ui/server.js')
    const h = await startHost({
      listen, join, home, signal,
      ...(args.values.rpc !== undefined ? { rpc: String(args.values.rpc) } : {}),
      ...(ttlMs !== undefined ? { ttlMs } : {}),
      workers,
      onProgress: (line) => emit('progress', { message: line.trim() }, s.dim(line)),
      // What processes print goes to the operator, tagged with the pid.
      onOutput: (pid, fd, text) => emit('output', { pid, fd, text }, `${s.cyan(`[pid ${pid}]`)} ${fd === 2 ? s.red(text) : text}`),
    })
    try {
      const ui = args.values.ui === undefined ? undefined : await serveUi(h, String(args.values.ui))
      const r = h.publish(ui ? { ui: ui.url } : {})
      emit('ready', { ...r }, [
        `${s.bold('ww host')} ${r.id} ${s.dim(`(${r.cluster})`)}`,
        `  rpc   ${r.rpc}`,
        ...(r.workers ? [`  procs on ${r.workers} worker thread(s)`] : []),
        ...r.addresses.map((a) => `  p2p   ${a}`),
        ...(r.ui ? [`  ui    ${r.ui}`] : []),
        s.dim(`Clients find it through ${home}/host.json: try \`ww ps\`, \`ww cluster ls\`. Ctrl-C stops it.`),
      ].join('\n'))
      // current: a join for every host already seen, so each host's log names all the others.
      const watch = h.cluster.view.watch({
        current: true,
        handler: (e) => {
          if (e.host.id === h.cluster.id) return
          emit(e.type, { host: e.host.id, ...(e.type === 'leave' ? { reason: e.reason } : {}) },
            e.type === 'join' ? s.green(`host ${e.host.id} joined`) : s.red(`host ${e.host.id} left (${e.reason})`))
        },
      })
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve()
        else signal.addEventListener('abort', () => resolve(), { once: true })
      })
      watch.close()
      if (!json) io.stdout.write(s.dim('stopping: leaving the cluster…') + '\n')
      await ui?.close()
    } finally {
      await h.close()
    }
    emit('stopped', { id: h.cluster.id }, 'stopped')
    return 0
  },
}

/** --workers: N (0 = on the host's thread), or `auto` = one per core this process may use. */
function parseWorkers(v: unknown): number {
  if (v === undefined) return 0
  const s = String(v)
  if (s === 'auto') return availableParallelism()
  const n = /^\d{1,4}$/.test(s) ? Number(s) : NaN
  if (!(n >= 0 && n <= MAX_WORKERS)) throw new UsageError(`--workers must be a whole number from 1 to ${MAX_WORKERS}, or auto, not '${s}'`, 'e.g. ww host --workers 2, or --workers auto for one per core')
  return n
}
