import { availableParallelism } from 'node:os'
import { join, resolve } from 'node:path'
import type { Command, Io, ParsedArgs } from '../command.js'
import { UsageError } from '../command.js'
import { summaryOf } from './index.js'
import { parseRpcAddress } from '../host/address.js'
import { exposure, isLoopbackHost, readToken } from '../host/trust.js'
import { moduleCacheDir, wwHome } from '../host/state.js'
import { style } from '../style.js'
import { list, parseDuration } from './args.js'
import { loadPluginArgs, PLUGIN_FORM } from '../host/plugins.js'

/** More workers than this is a typo, not a machine (each is a V8 isolate of its own). */
const MAX_WORKERS = 256

/**
 * `ww host`: runs a host until SIGINT/SIGTERM. Embedded unless it listens or joins (then
 * js-libp2p). Serves its RPC endpoint (every client gets an admin Host), records itself
 * in $WW_HOME/host.json so clients find it, and optionally the web view.
 */
export const host: Command = {
  name: 'host',
  summary: summaryOf('host'),
  usage: 'ww host [--listen MULTIADDR]… [--announce MULTIADDR]… [--join MULTIADDR]… [--swarm-key FILE | --open] [--identity FILE] [--allow PEERID[=RIGHTS]]… [--allow-file FILE] [--pubsub-limit LIMITS|off] [--rpc ADDR [--token FILE]] [--ui [ADDR] [--ui-control] [--ui-keep N]] [--workers N|auto] [--plugin MODULE[#EXPORT][=JSON]]… [--ttl 10s] [--join-timeout 60s] [--json]',
  options: {
    listen: { type: 'string', multiple: true },
    announce: { type: 'string', multiple: true },
    join: { type: 'string', multiple: true },
    'join-timeout': { type: 'string' },
    'swarm-key': { type: 'string' },
    open: { type: 'boolean' },
    identity: { type: 'string' },
    allow: { type: 'string', multiple: true },
    'allow-file': { type: 'string' },
    'pubsub-limit': { type: 'string' },
    rpc: { type: 'string' },
    token: { type: 'string' },
    ui: { type: 'string' },
    'ui-control': { type: 'boolean' },
    'ui-keep': { type: 'string' },
    ttl: { type: 'string' },
    workers: { type: 'string' },
    plugin: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  },
  optionalValues: { ui: '127.0.0.1:0' },
  optionHelp: {
    listen: 'listen for other hosts on this multiaddr (repeatable), e.g. /ip4/0.0.0.0/tcp/4001; makes it a libp2p host',
    announce: 'tell other hosts to reach this one on this multiaddr instead (repeatable): behind a NAT, a proxy or a relay',
    join: 'join the cluster through this host (repeatable), e.g. /ip4/10.0.0.5/tcp/4001/p2p/12D3Koo…',
    'swarm-key': 'a private cluster: only hosts holding this swarm key file connect (go-libp2p/IPFS format; `ww key swarm`); default $WW_SWARM_KEY',
    open: 'listen or join on a non-loopback address without a swarm key anyway (anyone who reaches it can join)',
    identity: 'the host\'s private key file (default $WW_HOME/identity.key, created on first start, mode 0600): a stable peer id',
    allow: 'admit only these peers (repeatable); RIGHTS: all (default), read (none), or a list of exec,anchors:write,registry:provide,pubsub:publish',
    'allow-file': 'admit the peers listed in FILE, one per line: PEERID [RIGHTS], # comments',
    'pubsub-limit': 'how fast one publisher may send on one topic, e.g. messages=20000,bytes=32MiB,frames=500,burst=1s, and one peer on its gossipsub streams, peer-rpcs=2000,peer-bytes=128MiB (those are the defaults; name only what you change), or off',
    rpc: 'RPC endpoint for clients: a unix socket path (default $WW_HOME/run/<pid>.sock) or HOST:PORT',
    token: 'clients of a TCP endpoint must show this token file first (64 hex digits, `ww key token`); required off loopback',
    ui: 'serve the web view on ADDR (default 127.0.0.1 and a free port): the cluster\'s process tree, load charts, each process\'s counters and caps, topic traffic; read-only',
    'ui-control': 'let the web view kill this host\'s processes: the printed URL carries a token (#control=…) the page must show; loopback --ui only',
    'ui-keep': 'ended processes this host remembers, with their exit status, for the web view (default 500)',
    workers: `run processes on N worker threads (1–${MAX_WORKERS}, or auto: one per core); default: all on the host's own thread`,
    plugin: `add a plugin to every process this host runs (repeatable), on this thread or --workers alike: ${PLUGIN_FORM}; one that fails to load stops the host from starting (exit 2). See PLUGINS.md`,
    ttl: 'libp2p membership: a host not heard from for this long has left (default 10s)',
    'join-timeout': 'with --join: give up (exit 1, naming each host tried and how its last dial failed) when the hosts joined through are not seen within this; they are dialled again with backoff meanwhile (default 60s)',
    json: 'print one JSON line per event ({"event":"ready",…}, joins, leaves, each process\'s "exit" with its status, "stopped") for scripts',
  },
  details: [
    'Without --listen or --join the host is embedded (one machine, no network). With either,',
    'it is a js-libp2p host (TCP, noise, yamux, gossipsub); with --join it waits until it sees',
    'the hosts it joined through, printing progress.',
    '',
    'Trust. A host reachable from other machines belongs in a private cluster: --listen or',
    '--join on a non-loopback address refuses to start without --swarm-key (or $WW_SWARM_KEY);',
    'peers without the same key cannot complete a connection. --open runs without one, with a',
    'warning. The peer id is kept in $WW_HOME/identity.key (or --identity), so --join addresses',
    'stay valid across restarts; key files readable by group or others are refused. With',
    '--allow/--allow-file only the listed peers connect, each with its rights here: exec',
    '(Peer.exec), anchors:write, registry:provide, pubsub:publish (messages from a peer without',
    'it are dropped). Without a list every peer holding the key has every right.',
    '',
    'Floods. Each publisher may send so many messages, bytes and network messages (frames)',
    'per second on one topic (--pubsub-limit). What arrives over it is dropped and not',
    'relayed, and a peer that keeps sending over it is ignored for a while (gossipsub score);',
    'this host\'s own publishers over it get ERR_RATE_LIMITED. Hosts of a cluster should agree.',
    'Each peer may also make this host read so many gossipsub RPCs and bytes per second',
    '(peer-rpcs, peer-bytes), whatever it publishes or relays: past that its stream waits, in',
    'its own buffers, before any signature is checked, so a flood cannot starve other peers.',
    '',
    'Clients (ww ps, ww cluster ls, ww anchors, ww pub, ww sub, ww kill) find the host through',
    '$WW_HOME/host.json (WW_HOME defaults to ~/.ww), or --host ADDR / WW_HOST=ADDR. Anyone who',
    'can open the endpoint is this host\'s operator: the default unix socket is readable by',
    'your user only; a TCP endpoint is open to every local user unless it asks for a token',
    '(--token FILE; clients pass the same file with --token or $WW_TOKEN). Off loopback the',
    'token is required.',
    '',
    'With --workers N the host\'s processes run on N worker threads, so CPU-bound guests use',
    'every core; a process stays on one worker for life (`ww ps` shows which). Guests see no',
    'difference: same pids, WASI, output and Host. Without it they share the host\'s thread,',
    'which starts faster and costs less memory (each worker is its own V8 isolate).',
    '',
    'Plugins (--plugin, PLUGINS.md) add imports, a spawn policy and cleanup to every process:',
    'a module whose export builds a ProcessPlugin. It is loaded here first (a missing module or',
    'a wrong export stops the host, exit 2), then on each worker thread with --workers.',
    '',
    'The web view (--ui) shows the whole cluster: every host\'s processes as one tree (a child',
    'on another host under its parent), ended ones kept a while with how they ended, charts of',
    'the last five minutes, and a process\'s counters, denials and handed capabilities. It is',
    'read-only; with --ui-control it can kill this host\'s processes, through the URL printed',
    '(it carries a token). It answers only requests named for it from its own page.',
    '',
    'Ctrl-C or SIGTERM stops it cleanly: the others are told it leaves, exit status 0.',
    '',
    'Examples:',
    '  ww host',
    '  ww host --listen /ip4/127.0.0.1/tcp/4001 --ui',
    '  ww host --workers auto',
    '  ww host --ui 127.0.0.1:8080 --ui-control',
    '  ww host --join /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW… --rpc 127.0.0.1:7777',
    '  ww key swarm --out ~/.ww/swarm.key && ww host --listen /ip4/0.0.0.0/tcp/4001 --swarm-key ~/.ww/swarm.key',
    '  ww host --listen /ip4/0.0.0.0/tcp/4001 --swarm-key swarm.key --allow 12D3KooWA… --allow 12D3KooWB…=read',
  ].join('\n'),
  async run(args, io, signal) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`, 'ww host takes options only; see ww host --help')
    const json = args.values.json === true
    const s = style(io)
    const emit = (event: string, fields: Record<string, unknown>, human: string): void => {
      io.stdout.write(json ? JSON.stringify({ event, ...fields }) + '\n' : human + '\n')
    }
    const listen = list(args.values.listen)
    const announce = list(args.values.announce)
    const join = list(args.values.join)
    if (announce.length > 0 && listen.length === 0) throw new UsageError('--announce names where this host listens: it needs --listen', 'add --listen MULTIADDR (the address the announced one forwards to)')
    for (const a of [...listen, ...announce, ...join]) {
      if (!a.startsWith('/')) throw new UsageError(`'${a}' is not a multiaddr`, 'multiaddrs look like /ip4/127.0.0.1/tcp/4001 (and /p2p/<id> for --join)')
    }
    for (const a of join) {
      if (!/\/p2p\/[^/]+$/.test(a)) throw new UsageError(`--join '${a}' does not name the host (/p2p/<id>)`, 'copy the address a host prints, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…')
    }
    const ttlMs = args.values.ttl === undefined ? undefined : parseDuration(String(args.values.ttl), '--ttl')
    if (args.values['join-timeout'] !== undefined && join.length === 0) throw new UsageError('--join-timeout is for a host that joins', 'add --join MULTIADDR')
    const joinTimeoutMs = args.values['join-timeout'] === undefined ? undefined : parseDuration(String(args.values['join-timeout']), '--join-timeout')
    const rpcAddress = args.values.rpc !== undefined ? parseRpcAddress(String(args.values.rpc)) : undefined
    if (args.values.ui !== undefined) parseRpcAddress(String(args.values.ui), '--ui')
    if (args.values.ui === undefined && (args.values['ui-control'] !== undefined || args.values['ui-keep'] !== undefined)) {
      throw new UsageError(`--${args.values['ui-control'] !== undefined ? 'ui-control' : 'ui-keep'} is for the web view`, 'add --ui')
    }
    const keepEnded = args.values['ui-keep'] === undefined ? undefined : parseCount(String(args.values['ui-keep']), '--ui-keep', 100_000)
    const workers = parseWorkers(args.values.workers)
    const home = wwHome(io.env)
    // Everything below is checked before anything starts: a bad key is exit 2, nothing bound.
    const trust = await trustOptions(args, io, { listen, join, home })
    let token: { bytes: Uint8Array; file: string } | undefined
    if (args.values.token !== undefined) {
      if (rpcAddress?.kind !== 'tcp') throw new UsageError('--token is for a TCP endpoint (--rpc HOST:PORT)', 'the default unix socket is private to your user already')
      const file = resolve(String(args.values.token))
      token = { bytes: readToken(file), file }
    }
    if (rpcAddress?.kind === 'tcp' && !isLoopbackHost(rpcAddress.host) && token === undefined) {
      throw new UsageError(
        `--rpc ${String(args.values.rpc)} is reachable from other machines, and every client of the endpoint is this host's operator: it needs --token FILE`,
        'make a token with `ww key token --out FILE`; clients pass it with --token FILE or WW_TOKEN=FILE',
      )
    }

    // A module that is missing or is no plugin: exit 2 (PluginError), nothing started.
    const plugins = await loadPluginArgs(list(args.values.plugin), process.cwd())

    // Loaded here: libp2p and Binaryen are only for the command that runs a host.
    const { startHost } = await import('../host/node.js')
    const { serveUi } = await import('../ui/server.js')
    const h = await startHost({
      listen, announce, join, home, signal, ...trust,
      moduleCache: moduleCacheDir(io.env),
      ...(token !== undefined ? { token } : {}),
      ...(args.values.rpc !== undefined ? { rpc: String(args.values.rpc) } : {}),
      ...(ttlMs !== undefined ? { ttlMs } : {}),
      ...(joinTimeoutMs !== undefined ? { joinTimeoutMs } : {}),
      ...(keepEnded !== undefined ? { keepEnded } : {}),
      workers,
      ...(plugins.length > 0 ? { plugins } : {}),
      onProgress: (line) => emit('progress', { message: line.trim() }, s.dim(line)),
      // What processes print goes to the operator, tagged with the pid.
      onOutput: (pid, fd, text) => emit('output', { pid, fd, text }, `${s.cyan(`[pid ${pid}]`)} ${fd === 2 ? s.red(text) : text}`),
    })
    try {
      const ui = args.values.ui === undefined ? undefined : await serveUi(h, String(args.values.ui), { control: args.values['ui-control'] === true })
      const r = h.publish(ui ? { ui: ui.url } : {})
      emit('ready', { ...r }, [
        `${s.bold('ww host')} ${r.id} ${s.dim(`(${r.cluster})`)}`,
        `  rpc   ${r.rpc}`,
        ...(r.workers ? [`  procs on ${r.workers} worker thread(s)`] : []),
        ...r.addresses.map((a) => `  p2p   ${a}`),
        ...(r.cluster === 'libp2p' ? [`  trust ${trustLine(trust)}`] : []),
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
      // --json only: a line per ended process (a person reads `ww ps`; a harness needs each
      // end, also of a process gone before anyone could `ww wait` on it).
      const stopExits = json ? h.tree.onExit((p) => emit('exit', { host: p.host, pid: p.pid, parent: `${p.parent.host}/${p.parent.pid}`, name: p.name, status: p.status }, '')) : undefined
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve()
        else signal.addEventListener('abort', () => resolve(), { once: true })
      })
      watch.close()
      stopExits?.()
      if (!json) io.stdout.write(s.dim('stopping: leaving the cluster…') + '\n')
      await ui?.close()
    } finally {
      await h.close()
    }
    emit('stopped', { id: h.cluster.id }, 'stopped')
    return 0
  },
}

/**
 * The libp2p host's trust settings from the flags, each read and checked: the swarm key
 * (--swarm-key or $WW_SWARM_KEY), the exposure rule (--open), the identity, the allow-list.
 */
async function trustOptions(args: ParsedArgs, io: Io, o: { listen: string[]; join: string[]; home: string }) {
  const p2p = o.listen.length > 0 || o.join.length > 0
  const flagged = (['swarm-key', 'open', 'identity', 'allow', 'allow-file', 'pubsub-limit'] as const).filter((f) => args.values[f] !== undefined)
  if (!p2p) {
    if (flagged.length > 0) throw new UsageError(`--${flagged[0]} is for a libp2p host`, 'add --listen MULTIADDR or --join MULTIADDR')
    return {}
  }
  // Only the trust settings' readers: a bad flag is answered before libp2p is loaded.
  const h = await import('@ww/host/trust')
  const checked = <T>(f: () => T): T => {
    try { return f() } catch (e) { if (e instanceof h.TrustConfigError) throw new UsageError(e.message); throw e }
  }
  const keyFile = args.values['swarm-key'] !== undefined ? String(args.values['swarm-key']) : io.env.WW_SWARM_KEY || undefined
  const swarmKey = keyFile === undefined ? undefined : checked(() => h.readSwarmKey(keyFile))
  const exposed = exposure([...o.listen, ...o.join], swarmKey !== undefined)
  if (exposed.kind === 'exposed') {
    if (args.values.open !== true) {
      throw new UsageError(
        `refusing to open ${exposed.address} without --swarm-key: it is reachable from other machines, and anyone who reaches it could join, run code and write anchors`,
        'make a key with `ww key swarm --out swarm.key` and pass --swarm-key swarm.key (or WW_SWARM_KEY) on every host; --open runs an open cluster anyway',
      )
    }
    io.stderr.write(`ww host: warning: --open: ${exposed.address} without a swarm key: any peer that reaches it can join this cluster, run processes and write anchors\n`)
  }
  const entries = [
    ...list(args.values.allow).map((a) => checked(() => h.parseAllowEntry(a, '--allow'))),
    ...(args.values['allow-file'] !== undefined ? checked(() => h.readAllowFile(String(args.values['allow-file']))) : []),
  ]
  const identityFile = args.values.identity !== undefined ? resolve(String(args.values.identity)) : join(o.home, 'identity.key')
  const privateKey = await h.loadIdentity(identityFile, { create: true }).catch((e: unknown) => {
    throw e instanceof h.TrustConfigError ? new UsageError(e.message) : e
  })
  return {
    privateKey,
    ...(args.values['pubsub-limit'] !== undefined ? { floodLimit: parseFloodLimit(String(args.values['pubsub-limit'])) } : {}),
    ...(swarmKey !== undefined ? { swarmKey } : {}),
    ...(entries.length > 0 || args.values['allow-file'] !== undefined ? { allow: new Map(entries) } : {}),
  }
}

const LIMIT_KEYS = {
  messages: 'messagesPerSecond', bytes: 'bytesPerSecond', frames: 'framesPerSecond', burst: 'burstSeconds',
  // Per peer, whatever it publishes or relays: read before any signature check.
  'peer-rpcs': 'peerRpcsPerSecond', 'peer-bytes': 'peerBytesPerSecond',
} as const
const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, k: 1024, mib: 1024 ** 2, m: 1024 ** 2, gib: 1024 ** 3, g: 1024 ** 3 }

/**
 * --pubsub-limit: `off`, or `key=value` pairs: per publisher and topic messages, bytes (an
 * optional KiB/MiB/GiB), frames, burst (a duration); per peer peer-rpcs, peer-bytes.
 */
export function parseFloodLimit(text: string): Partial<Record<(typeof LIMIT_KEYS)[keyof typeof LIMIT_KEYS], number>> | false {
  if (text.trim() === 'off') return false
  const hint = 'e.g. --pubsub-limit messages=5000,frames=500 (also bytes=16MiB, burst=2s; per peer peer-rpcs=1000, peer-bytes=64MiB), or --pubsub-limit off'
  const out: Partial<Record<(typeof LIMIT_KEYS)[keyof typeof LIMIT_KEYS], number>> = {}
  for (const part of text.split(',')) {
    const m = /^\s*([\w-]+)\s*=\s*(\S+?)\s*$/.exec(part)
    const key = m ? LIMIT_KEYS[m[1] as keyof typeof LIMIT_KEYS] : undefined
    if (!m || !key) throw new UsageError(`--pubsub-limit: cannot read '${part.trim()}' (the limits are ${Object.keys(LIMIT_KEYS).join(', ')})`, hint)
    const v = m[2]!
    let n: number
    if (key === 'burstSeconds') n = parseDuration(v, '--pubsub-limit burst') / 1000
    else if (key === 'bytesPerSecond' || key === 'peerBytesPerSecond') {
      const b = /^(\d+(?:\.\d+)?)([a-z]*)$/i.exec(v)
      const unit = SIZE_UNITS[b?.[2]?.toLowerCase() ?? 'x']
      n = b && unit !== undefined ? Number(b[1]) * unit : NaN
    } else n = /^\d+$/.test(v) ? Number(v) : NaN
    if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`--pubsub-limit: ${m[1]} must be a number above 0, not '${v}'`, hint)
    out[key] = n
  }
  return out
}

function trustLine(t: { swarmKey?: unknown; allow?: ReadonlyMap<string, unknown> }): string {
  const who = t.allow === undefined ? 'every peer with the key has every right' : `${t.allow.size} allowed peer(s), each with its rights`
  return t.swarmKey !== undefined ? `private cluster (swarm key); ${who}` : `open cluster (no swarm key, loopback or --open); ${t.allow === undefined ? 'any peer' : who}`
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

function parseCount(text: string, flag: string, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN
  if (!Number.isSafeInteger(n) || n > max) throw new UsageError(`${flag} takes a whole number 0–${max}, not '${text}'`)
  return n
}
