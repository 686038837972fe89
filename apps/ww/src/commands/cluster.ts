import type { Command } from '../command.js'
import { UsageError } from '../command.js'
import { summaryOf } from './index.js'
import { connectHost, remoteFailure } from '../client.js'
import { style } from '../style.js'
import { formatDuration, table } from '../table.js'
import { CLIENT_HELP, CLIENT_OPTIONS, hostFlag, writeJson } from './args.js'

interface HostRow { id: string; self: boolean; processes: number; uptimeMs: number; version: string; addresses: string[] }

/** `ww cluster ls`: the hosts the connected host sees, from its View. */
export const cluster: Command = {
  name: 'cluster',
  summary: summaryOf('cluster'),
  usage: 'ww cluster ls [--host ADDR] [--json]',
  options: { ...CLIENT_OPTIONS },
  optionHelp: { ...CLIENT_HELP },
  details: [
    'Columns: the host id (* marks the host you are connected to), its running processes',
    '(as it last announced), uptime, ww version and the addresses other hosts reach it on.',
  ].join('\n'),
  async run(args, io, signal) {
    const [action, ...extra] = args.positionals
    if (action !== 'ls') throw new UsageError(action === undefined ? 'missing the action' : `unknown action '${action}'`, 'usage: ww cluster ls')
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, 'usage: ww cluster ls')
    await using s = await connectHost(hostFlag(args), io.env, signal)
    let rows: HostRow[]
    try {
      const self = (await s.host.info()).getInfo().getId()
      const res = await s.host.view().getView().list((p) => p.setLimit(1000))
      const list = res.getHosts()
      rows = []
      for (let i = 0; i < list.getLength(); i++) {
        const h = list.get(i)
        const addrs = h.getAddrs()
        rows.push({
          id: h.getId(), self: h.getId() === self, processes: h.getLoad().getProcesses(),
          uptimeMs: Number(h.getUptimeMs()), version: h.getVersion(),
          addresses: Array.from({ length: addrs.getLength() }, (_, j) => addrs.get(j)),
        })
      }
    } catch (e) {
      throw remoteFailure(e, 'listing the cluster')
    }
    if (args.values.json === true) {
      writeJson(io, rows)
      return 0
    }
    const st = style(io)
    io.stdout.write(table(rows, [
      { header: 'HOST', get: (r) => `${r.self ? '*' : ' '}${r.id}`, paint: (t, r) => (r.self ? st.bold(t) : t) },
      { header: 'PROCS', get: (r) => r.processes },
      { header: 'UPTIME', get: (r) => formatDuration(r.uptimeMs), align: 'right' },
      { header: 'VERSION', get: (r) => r.version },
      { header: 'ADDRESSES', get: (r) => r.addresses.join(' ') || '-', paint: (t) => st.dim(t) },
    ], st.bold))
    return 0
  },
}
