import { readFile } from 'node:fs/promises'
import { guestPath } from '@ww/guest'
import { embeddedCluster, hostCapability, type Message } from '@ww/host'
import type { Command } from '../command.js'
import { UsageError } from '../command.js'
import { exitCodeOf, LineSplitter, runGuestProcess } from '../guest-process.js'
import { describeStatus } from '@ww/proc'
import { style } from '../style.js'

const GUEST = 'wasi-hello-host'

/**
 * `ww demo`: an embedded host, and a guest compiled from source (AssemblyScript) that
 * bootstraps its Host capability and uses it over Cap'n Proto RPC in its own memory:
 * host info, the cluster view, an anchor written and read back, a message published.
 * The demo subscribes to the topic from the host side to show the message arrive.
 */
export const demo: Command = {
  name: 'demo',
  summary: 'run the demo: a guest built from source uses its Host capability on an embedded host',
  usage: 'ww demo [--json]',
  options: { json: { type: 'boolean' } },
  optionHelp: { json: 'print one JSON report instead of the human view' },
  details: 'The guest (packages/guest/guests/wasi-hello-host.ts) runs under the default restricted WASI\npolicy; everything it does goes through capabilities it bootstrapped from its Host.',
  async run(args, io, signal) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`, 'ww demo takes no arguments')
    const json = args.values.json === true
    const s = style(io)
    const out = (line: string): void => { if (!json) io.stdout.write(line + '\n') }

    await using cluster = embeddedCluster()
    // The module before asyncify: the scheduler meters and instruments it itself.
    const path = guestPath(GUEST, { asyncify: false })
    const bytes = new Uint8Array(await readFile(path))
    out(s.bold('ww demo') + s.dim(` — embedded host ${cluster.id}, guest ${GUEST}.wasm (${Math.round(bytes.length / 1024)} KiB)`))

    // The host side listens on the topic the guest publishes to.
    const received: Message[] = []
    let firstMessage!: () => void
    const arrived = new Promise<void>((resolve) => { firstMessage = resolve })
    const topic = cluster.pubsub.join('demo')
    const sub = topic.subscribe({ handler: (m: Message) => { received.push(m); firstMessage() } })

    const lines: string[] = []
    let pid = 0
    const splitter = new LineSplitter((fd, line) => {
      lines.push(line)
      out(`${s.cyan(`[pid ${pid}]`)} ${fd === 2 ? s.red(line) : line}`)
    })
    // The spawner decides what the guest may reach: here the cluster view, pubsub and anchors.
    const report = await runGuestProcess(bytes, {
      bootstrap: (processId) => hostCapability(cluster, { processId, rights: { view: true, pubSub: true, root: true } }),
      signal,
      onSpawn: (p) => { pid = p },
      onOutput: (fd, chunk) => splitter.push(fd, chunk),
    })
    splitter.flush()
    // Deliveries are asynchronous: wait for the guest's message, but only if it got as far
    // as publishing (bounded, so a failed guest never hangs the demo).
    if (lines.includes('published on topic demo')) {
      await Promise.race([arrived, new Promise((r) => setTimeout(r, 2000).unref())])
    }
    const greeting = await cluster.local.walk('demo/greeting').load()
    sub.close()
    topic.release()

    const ok = report.status.kind === 'exited' && report.status.code === 0
    if (json) {
      io.stdout.write(JSON.stringify({
        ok, host: cluster.id, guest: GUEST, pid, code: exitCodeOf(report.status), status: describeStatus(report.status), ms: Math.round(report.ms),
        output: lines,
        anchor: greeting?.kind === 'bytes' ? Buffer.from(greeting.bytes).toString('utf8') : null,
        published: received.map((m) => Buffer.from(m.data).toString('utf8')),
        rpc: { callsIn: report.rpc.callsIn, messagesIn: report.rpc.messagesIn, messagesOut: report.rpc.messagesOut, deferredCopies: report.rpc.deferredCopies },
        transport: { framesIn: report.transport.framesIn, framesOut: report.transport.framesOut, copiedFrames: report.transport.copiedFrames, waits: report.transport.waits },
        deniedSyscalls: report.denied.byFunction,
      }, null, 2) + '\n')
      return ok ? 0 : 1
    }
    out('')
    out(`host side: anchor ${cluster.id}/demo/greeting = ${greeting?.kind === 'bytes' ? JSON.stringify(Buffer.from(greeting.bytes).toString('utf8')) : s.red('missing')}`)
    out(`host side: topic demo received ${received.length} message(s)${received.length ? `: ${received.map((m) => JSON.stringify(Buffer.from(m.data).toString('utf8'))).join(', ')}` : ''}`)
    out(s.dim(`rpc: ${report.rpc.callsIn} calls served, ${report.rpc.messagesIn} frames in / ${report.rpc.messagesOut} out, ` +
      `${report.transport.copiedFrames} copied frames (zero-copy otherwise), ${report.transport.waits} suspensions, ` +
      `${report.denied.denials} denied syscalls`))
    if (ok) out(s.green(`pid ${pid} exited 0 in ${report.ms.toFixed(1)} ms`))
    else out(s.red(`pid ${pid} ended: ${describeStatus(report.status)}`))
    return ok ? 0 : 1
  },
}
