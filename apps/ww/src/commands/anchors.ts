import { anchor as capAnchor } from '@ww/schema'
import type { Command, Io } from '../command.js'
import { UsageError } from '../command.js'
import { summaryOf } from './index.js'
import { connectHost, remoteFailure, type HostSession } from '../client.js'
import { style } from '../style.js'
import { table } from '../table.js'
import { CLIENT_HELP, CLIENT_OPTIONS, hostFlag, parseCount, writeJson } from './args.js'
import { untilAborted } from './wait.js'

const USAGE = 'ww anchors ls [PATH] | get PATH | put PATH VALUE | watch PATH [--count N]  [--host ADDR] [--json]'
const dec = new TextDecoder('utf-8', { fatal: true })

/**
 * `ww anchors`: the cluster's shared path tree. A relative PATH is in the connected
 * host's subtree (`demo/greeting` is `/<host id>/demo/greeting`); a PATH starting with
 * `/` is from the cluster root, whose children are the host ids.
 */
export const anchors: Command = {
  name: 'anchors',
  summary: summaryOf('anchors'),
  usage: USAGE,
  options: { ...CLIENT_OPTIONS, count: { type: 'string' } },
  optionHelp: { ...CLIENT_HELP, count: 'watch: stop after N changes (default: until Ctrl-C)' },
  details: [
    'Actions:',
    '  ls [PATH]         the children of PATH (default: this host\'s subtree); `ls /` lists the hosts',
    '  get PATH          the value at PATH (text, or hex when not UTF-8) and its version',
    '  put PATH VALUE    stores VALUE (as UTF-8) at PATH and prints the new version',
    '  watch PATH        prints every change under PATH as it happens',
    '',
    'A relative PATH is under the connected host (each host owns the subtree under its id);',
    'an absolute one (/HOST/…) names any host\'s. Names: letters, digits and _ ~ . -',
    '',
    'Examples:',
    '  ww anchors put config/mode fast',
    '  ww anchors get config/mode',
    '  ww anchors ls /',
    '  ww anchors watch config --count 1',
  ].join('\n'),
  async run(args, io, signal) {
    const [action, path, value, ...extra] = args.positionals
    const want = (n: number, form: string): void => {
      const got = args.positionals.length - 1
      if (got < n) throw new UsageError(`ww anchors ${action} needs ${form}`, `usage: ww anchors ${action} ${form}`)
      if (got > n) throw new UsageError(`unexpected argument '${args.positionals[n + 1]}'`, `usage: ww anchors ${action} ${form}`)
    }
    switch (action) {
      case 'ls': if (extra.length > 0 || value !== undefined) want(1, '[PATH]'); break
      case 'get': want(1, 'PATH'); break
      case 'put': want(2, 'PATH VALUE'); break
      case 'watch': want(1, 'PATH'); break
      default: throw new UsageError(action === undefined ? 'missing the action' : `unknown action '${action}'`, `usage: ${USAGE}`)
    }
    const count = parseCount(args.values.count, '--count')
    await using s = await connectHost(hostFlag(args), io.env, signal)
    const json = args.values.json === true
    try {
      const full = await resolvePath(s, path ?? '')
      const node = full === '' ? s.host.root().getRoot() : s.host.root().getRoot().walk((p) => p.setPath(full)).getAnchor()
      const shown = `/${full}`
      switch (action) {
        case 'ls': return await ls(node, shown, io, json)
        case 'get': return await get(node, shown, io, json)
        case 'put': {
          const version = (await node.set((p) => p.initValue().setData(new TextEncoder().encode(value!)))).getVersion()
          if (json) writeJson(io, { path: shown, version })
          else io.stdout.write(`${shown} = ${JSON.stringify(value)} (version ${version})\n`)
          return 0
        }
        case 'watch': return await watch(node, shown, io, json, count, signal)
      }
    } catch (e) {
      throw remoteFailure(e, `anchors ${action} ${path ?? ''}`.trim())
    }
    return 0
  },
}

/** Cluster-root path for what the user typed: absolute as is, relative under this host. */
async function resolvePath(s: HostSession, path: string): Promise<string> {
  if (path.startsWith('/')) return path.replace(/^\/+/, '').replace(/\/+$/, '')
  const self = (await s.host.info()).getInfo().getId()
  const rest = path.replace(/\/+$/, '')
  return rest === '' ? self : `${self}/${rest}`
}

async function ls(node: capAnchor.Anchor$Client, shown: string, io: Io, json: boolean): Promise<number> {
  const rows: Array<{ name: string; value: boolean; children: boolean }> = []
  let cursor = ''
  do {
    const page = await node.ls((p) => { p.setCursor(cursor); p.setLimit(1000) })
    const l = page.getChildren()
    for (let i = 0; i < l.getLength(); i++) rows.push({ name: l.get(i).getName(), value: l.get(i).getHasValue(), children: l.get(i).getHasChildren() })
    cursor = page.getNext()
  } while (cursor !== '')
  if (json) { writeJson(io, { path: shown, children: rows }); return 0 }
  const st = style(io)
  if (rows.length === 0) { io.stdout.write(st.dim(`${shown}: no children\n`)); return 0 }
  io.stdout.write(table(rows, [
    { header: 'NAME', get: (r) => r.name + (r.children ? '/' : '') },
    { header: 'VALUE', get: (r) => (r.value ? 'yes' : '-') },
  ], st.bold))
  return 0
}

/** Bytes as text when they are UTF-8, else hex. */
function render(bytes: Uint8Array): { text: string; encoding: 'utf8' | 'hex' } {
  try {
    return { text: dec.decode(bytes), encoding: 'utf8' }
  } catch {
    return { text: Buffer.from(bytes).toString('hex'), encoding: 'hex' }
  }
}

async function get(node: capAnchor.Anchor$Client, shown: string, io: Io, json: boolean): Promise<number> {
  const r = await node.get()
  const v = r.getValue()
  const version = r.getVersion()
  const body = v.isData() ? render(v.getData().toUint8Array()) : undefined
  const kind = v.isData() ? 'data' : v.isCap() ? 'capability' : 'none'
  if (json) { writeJson(io, { path: shown, version, kind, ...(body ? { value: body.text, encoding: body.encoding } : {}) }); return kind === 'none' ? 1 : 0 }
  if (kind === 'none') {
    io.stderr.write(`ww anchors get: ${shown} holds no value\n  write one with \`ww anchors put ${shown} VALUE\`\n`)
    return 1
  }
  io.stdout.write(kind === 'capability' ? `${shown}: a capability (version ${version})\n` : `${body!.encoding === 'hex' ? `hex:${body!.text}` : body!.text}\n`)
  return 0
}

async function watch(node: capAnchor.Anchor$Client, shown: string, io: Io, json: boolean, count: number | undefined, signal: AbortSignal): Promise<number> {
  let seen = 0
  let stop!: () => void
  const stopped = new Promise<void>((r) => { stop = r })
  let reason: string | undefined
  const watcher = new capAnchor.Watcher.Server({
    changed(p) {
      const l = p.getChanges()
      for (let i = 0; i < l.getLength() && (count === undefined || seen < count); i++) {
        const c = l.get(i)
        const path = c.getPath() === '' ? shown : `${shown}/${c.getPath()}`
        const kind = c.getKind() === capAnchor.ChangeKind.SET ? 'set' : 'cleared'
        const body = c.hasValue() ? render(c.getValue().toUint8Array()) : undefined
        if (json) writeJson(io, { path, kind, version: c.getVersion(), ...(body ? { value: body.text, encoding: body.encoding } : {}) })
        else io.stdout.write(`${path} ${kind}${body ? ` ${JSON.stringify(body.text)}` : ''} (version ${c.getVersion()})\n`)
        seen++
      }
      if (count !== undefined && seen >= count) stop()
    },
    done(p) { reason = p.getReason(); stop() },
  })
  const handle = (await node.watch((p) => { p.setWatcher(watcher); p.setSubtree(true); p.setWithValues(true) })).getHandle()
  io.stderr.write(style(io, 'stderr').dim(`watching ${shown} (Ctrl-C to stop)`) + '\n')
  await untilAborted(signal, stopped)
  await handle.cancel().catch(() => {})
  if (reason !== undefined && reason !== '') { io.stderr.write(`ww anchors watch: the watch ended: ${reason}\n`); return 1 }
  return 0
}
