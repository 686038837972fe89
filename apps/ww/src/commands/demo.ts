import { readFile } from 'node:fs/promises'
import { guestPath } from '@ww/guest'
import { jspiAvailable } from '@ww/transport'
import type { Command } from '../command.js'
import { UsageError } from '../command.js'
import { summaryOf } from './index.js'
import { embeddedDemo, libp2pDemo, type DemoCluster, type DemoHost } from '../demo/cluster.js'
import { runWordCount } from '../demo/run.js'
import { wwCache } from '../host/state.js'
import { style } from '../style.js'
import { writeJson } from './args.js'

const GUEST = 'wasi-demo-wordcount'
const MAX_HOSTS = 5

/**
 * `ww demo`: a word count by AssemblyScript guests built from source, on one embedded
 * host or across N js-libp2p hosts (each its own OS process). The guests use anchors
 * (the job, claims with compare-and-set, counts), spawn (a coordinator spawns workers
 * on every host and waits for them) and pubsub (progress on topic `wordcount`).
 */
export const demo: Command = {
  name: 'demo',
  summary: summaryOf('demo'),
  usage: 'ww demo [--hosts N] [--json]',
  options: { hosts: { type: 'string' }, json: { type: 'boolean' } },
  optionHelp: {
    hosts: `how many hosts (1–${MAX_HOSTS}; default 1, embedded). More than 1: js-libp2p hosts on 127.0.0.1, each a \`ww host\` OS process`,
    json: 'print one JSON report instead of the live view',
  },
  details: [
    `The guest (packages/guest/guests/${GUEST}.ts, AssemblyScript, built from source) runs`,
    'under the default restricted WASI policy with a Host capability: the first copy claims',
    'the job and spawns workers spread over the hosts; each worker claims chunks of text',
    '(compareAndSet on anchors), counts their words, stores the count and publishes a line',
    'on topic `wordcount`. The demo shows those lines and every host\'s processes as they',
    'start and end, then checks the total against its own count.',
    '',
    'Examples:',
    '  ww demo',
    '  ww demo --hosts 3',
  ].join('\n'),
  async run(args, io, signal) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`, 'ww demo takes options only: --hosts N, --json')
    const n = args.values.hosts === undefined ? 1 : Number(args.values.hosts)
    if (!Number.isInteger(n) || n < 1 || n > MAX_HOSTS) throw new UsageError(`--hosts must be a whole number from 1 to ${MAX_HOSTS}, not '${String(args.values.hosts)}'`, 'e.g. ww demo --hosts 3')
    const json = args.values.json === true
    const s = style(io)
    // On a terminal, the processes running now stay on a status line under the log.
    const tty = Boolean(io.stdout.isTTY) && !json
    const running = new Map<string, string[]>()
    let status = false
    const clearStatus = (): void => { if (status) { io.stdout.write('\r\x1b[2K'); status = false } }
    const drawStatus = (): void => {
      if (!tty || running.size === 0) return
      const now = [...running].map(([host, names]) => `${host}: ${names.join(' ')}`).join('  |  ')
      const width = (io.stdout as { columns?: number }).columns || 120
      io.stdout.write(s.bold('running  ') + now.slice(0, Math.max(20, width - 10)))
      status = true
    }
    const out = (line: string): void => {
      if (json) return
      clearStatus()
      io.stdout.write(line + '\n')
      drawStatus()
    }
    const track = (host: string, name: string, on: boolean): void => {
      const names = (running.get(host) ?? []).filter((n) => n !== name)
      if (on) names.push(name)
      if (names.length > 0) running.set(host, names)
      else running.delete(host)
    }

    // Under JSPI, the module before asyncify. Without it the guest must be asyncified: the
    // build's (asyncify at build time) spares every host Binaryen at start (the quick
    // metering tier takes it); it yields where it waits, not when its fuel runs out.
    const module = new Uint8Array(await readFile(guestPath(GUEST, { asyncify: !jspiAvailable() })))
    out(s.bold('ww demo') + s.dim(n === 1
      ? ' — a word count on an embedded host'
      : ` — a word count across ${n} js-libp2p hosts on 127.0.0.1, each its own OS process`))
    // The hosts' state is temporary, but instrumented modules go to the user's cache: a
    // second demo (or a `ww run` of the same guest) skips Binaryen.
    const cache = wwCache(io.env)
    const cluster: DemoCluster = n === 1 ? await embeddedDemo(cache) : await libp2pDemo(n, cache, signal, (l) => out(s.dim(`  ${l}`)))
    const label = new Map(cluster.hosts.map((h, i) => [h.id, String.fromCharCode(65 + i)]))
    const name = (h: DemoHost | string): string => {
      const id = typeof h === 'string' ? h : h.id
      return `${label.get(id) ?? '?'} ${s.dim(`…${id.slice(-6)}`)}`
    }
    let codes: number[] = []
    let result
    try {
      for (const h of cluster.hosts) out(`  host ${name(h)}  ${s.dim(h.rpc)}`)
      out(s.dim(`  guest ${GUEST}.wasm (${Math.round(module.length / 1024)} KiB, AssemblyScript built from source)`))
      out('')
      // The warm-up runs (no job yet: they say so and exit) are not part of the story.
      let started = false
      cluster.onOutput((h, pid, line) => { if (started) out(`${s.cyan(`[${label.get(h.id)} pid ${pid}]`)} ${line}`) })
      result = await runWordCount(cluster.hosts, module, {
        phase: (text) => { started = text === 'running'; if (!started) out(s.dim(`  ${text}`)) },
        message: (text) => out(`${s.green('wordcount>')} ${text}`),
        processStarted: (h, pid, nm) => { track(label.get(h.id)!, `${pid}:${nm}`, true); out(s.dim(`  + ${label.get(h.id)} pid ${pid} ${nm || '(unnamed)'} started`)) },
        processEnded: (h, pid, nm) => { track(label.get(h.id)!, `${pid}:${nm}`, false); out(s.dim(`  - ${label.get(h.id)} pid ${pid} ${nm || '(unnamed)'} ended`)) },
      }, signal)
    } finally {
      running.clear()
      clearStatus()
      codes = await cluster.close()
    }
    const cleanly = codes.every((c) => c === 0)
    const ok = result.ok && cleanly
    if (json) {
      writeJson(io, { ...result, ok, hosts: cluster.hosts.map((h) => h.id), cluster: cluster.kind, hostExitCodes: codes })
      return ok ? 0 : 1
    }
    const byHost = cluster.hosts.map((h) => `${label.get(h.id)} ${result.perHost[h.id] ?? 0}`).join(', ')
    const perHostProcs = cluster.hosts.map((h) => `${label.get(h.id)} ${result.processes.filter((p) => p.host === h.id).length}`).join(', ')
    out('')
    out(s.bold('summary'))
    out(`  total: ${result.total ?? s.red('none')} words ${result.total === result.expected ? s.green(`(checked: ${result.expected} counted here)`) : s.red(`(expected ${result.expected})`)}`)
    out(`  chunks counted per host: ${byHost} (of ${result.chunks})`)
    out(`  processes: ${result.processes.length} seen (${perHostProcs}); coordinator pid ${result.coordinator.pid} ${result.coordinator.reason}`)
    out(`  messages on wordcount: ${result.messages.length}`)
    out(`  ${cluster.kind === 'libp2p' ? `${codes.length} host processes stopped ${cleanly ? 'cleanly (exit 0)' : s.red(`with exit codes ${codes.join(', ')}`)}` : 'host stopped'}; the work took ${(result.ms / 1000).toFixed(1)} s`)
    out(ok ? s.green('ok') : s.red('failed'))
    return ok ? 0 : 1
  },
}
