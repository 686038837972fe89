// `ww registry find NAME`: the providers of a name the connected host knows of, here and
// on the other hosts of its cluster (Registry.find through the operator's Host).
import type { Command } from '../command.js'
import { UsageError } from '../command.js'
import { summaryOf } from './index.js'
import { connectHost, remoteFailure } from '../client.js'
import { style } from '../style.js'
import { formatDuration, table } from '../table.js'
import { CLIENT_HELP, CLIENT_OPTIONS, hostFlag, parseCount, parseDuration, writeJson } from './args.js'

interface ProviderRow { name: string; host: string; pid: number; meta: string[]; expiresInMs: number }

export const registry: Command = {
  name: 'registry',
  summary: summaryOf('registry'),
  usage: 'ww registry find NAME [--min N] [--wait 1s] [--host ADDR] [--json]',
  options: { ...CLIENT_OPTIONS, min: { type: 'string' }, wait: { type: 'string' } },
  optionHelp: {
    ...CLIENT_HELP,
    min: 'answer as soon as this many providers are known (default: all found within --wait)',
    wait: 'how long to ask the other hosts (default 1s)',
  },
  details: [
    'One row per provider: the providing process (host/pid), its labels and the time left',
    'on its announcement. None found is not an error (an empty list; exit 0).',
    '',
    'Example:',
    '  ww registry find echo --json',
  ].join('\n'),
  async run(args, io, signal) {
    const usage = 'ww registry find NAME [--min N] [--wait 1s]'
    const [action, name, ...extra] = args.positionals
    if (action !== 'find') throw new UsageError(action === undefined ? 'missing the action' : `unknown action '${action}'`, `usage: ${usage}`)
    if (name === undefined) throw new UsageError('missing the service name', `usage: ${usage}`)
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, `usage: ${usage}`)
    const limit = parseCount(args.values.min, '--min') ?? 0
    const waitMs = args.values.wait === undefined ? 1000 : parseDuration(String(args.values.wait), '--wait')
    await using s = await connectHost(hostFlag(args), io.env, signal)
    let rows: ProviderRow[]
    try {
      const found = await s.host.registry().getRegistry().find((p) => { p.setName(name); p.setLimit(limit); p.setWaitMs(Math.min(waitMs, 0xffff_ffff)) })
      const list = found.getProviders()
      rows = Array.from({ length: list.getLength() }, (_, i) => {
        const p = list.get(i)
        return {
          name: p.getName(), host: p.getProvider().getHost(), pid: Number(p.getProvider().getPid()),
          meta: p.getMeta().toArray(), expiresInMs: p.getExpiresInMs(),
        }
      })
    } catch (e) {
      throw remoteFailure(e, `finding ${name}`)
    }
    if (args.values.json === true) { writeJson(io, rows); return 0 }
    const st = style(io)
    if (rows.length === 0) { io.stdout.write(st.dim(`no providers of ${name}\n`)); return 0 }
    io.stdout.write(table(rows, [
      { header: 'PROVIDER', get: (r) => `${r.host}/${r.pid}` },
      { header: 'LABELS', get: (r) => r.meta.join(' ') || '-' },
      { header: 'EXPIRES IN', get: (r) => formatDuration(r.expiresInMs), align: 'right' },
    ], st.bold))
    return 0
  },
}
