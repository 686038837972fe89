// The demo's word count, driven over the hosts' RPC endpoints exactly as any client
// would: the module goes into the first host's bytecode cache, each host's share of the
// job into its anchors, one guest is spawned on the first host (it becomes the
// coordinator and spawns workers on every host), the topic's messages and every host's
// process table are shown as they change, and the counts the workers stored are summed
// and checked against a count made here.
import { anchor as capAnchor, process as capProcess, pubsub as capPubsub } from '@ww/schema'
import { connectHost, type HostSession } from '../client.js'
import { readExit, describeExit, type Exit } from '../exit-status.js'
import { CliError } from '../errors.js'
import type { DemoHost } from './cluster.js'
import { chunks as cut, countWords, TEXT } from './text.js'

export interface DemoEvents {
  phase(text: string): void
  message(text: string, from: string): void
  processStarted(host: DemoHost, pid: number, name: string): void
  processEnded(host: DemoHost, pid: number, name: string): void
}

export interface DemoResult {
  ok: boolean
  total: number | undefined
  expected: number
  chunks: number
  /** Chunks counted per host id (from the claims in the anchors). */
  perHost: Record<string, number>
  coordinator: { pid: number; exit: Exit; reason: string }
  processes: Array<{ host: string; pid: number; name: string }>
  messages: string[]
  ms: number
}

const dec = new TextDecoder()
const enc = new TextEncoder()
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Until `s`'s host sees `n` hosts (after a warm-up stalled the hosts), bounded by 30 s. */
async function untilAllSeen(s: HostSession, n: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 30_000
  while ((await s.host.view().getView().list((p) => p.setLimit(100))).getHosts().getLength() < n) {
    if (signal.aborted || Date.now() > deadline) throw new CliError('ERR_HOST_START', `the hosts did not see each other again within 30 s`)
    await sleep(100)
  }
}

export async function runWordCount(hosts: DemoHost[], module: Uint8Array, events: DemoEvents, signal: AbortSignal): Promise<DemoResult> {
  const sessions: HostSession[] = []
  try {
    for (const h of hosts) sessions.push(await connectHost(h.rpc, {}, signal))
    const main = sessions[0]!
    const started = performance.now()
    // Each host's anchors, reached through that host's own endpoint: the guests there read
    // them locally (a Host's anchors of other hosts answer reads but not versions, which
    // compare-and-set needs).
    const node = (i: number, path: string): capAnchor.Anchor$Client =>
      sessions[i]!.host.root().getRoot().walk((p) => p.setPath(`${hosts[i]!.id}/${path}`)).getAnchor()
    const put = async (i: number, path: string, v: Uint8Array): Promise<void> => { await node(i, path).set((p) => p.initValue().setData(v)) }
    const get = async (i: number, path: string): Promise<Uint8Array | undefined> => {
      const v = (await node(i, path).get()).getValue()
      return v.isData() ? v.getData().toUint8Array().slice() : undefined
    }

    // Warm-up: each host meters and asyncifies the module once (Binaryen runs synchronously
    // and holds that host's event loop for seconds on a busy machine — long enough for
    // libp2p to drop its connections). Without a job, the guest exits at once (status 5).
    events.phase(`metering the guest on ${hosts.length === 1 ? 'the host' : `all ${hosts.length} hosts`}…`)
    await Promise.all(sessions.map(async (s) => {
      const warm = s.host.executor().getExecutor().exec((p) => { p.initBytecode().setInline(module); p.initOptions().setName('wc-warm-up') }).getProcess()
      await warm.wait()
    }))
    if (hosts.length > 1) await untilAllSeen(main, hosts.length, signal)
    events.phase('running')

    // The job: chunks dealt round-robin, each host's share under its own `wc/`.
    const parts = cut(TEXT)
    const share = hosts.map((_, i) => parts.filter((_, k) => k % hosts.length === i))
    const cid = (await main.host.bytecodeCache().getCache().put((p) => p.setBytecode(module))).getCid().toUint8Array().slice()
    await put(0, 'wc/module', cid)
    for (const [i, mine] of share.entries()) {
      for (const [k, c] of mine.entries()) await put(i, `wc/chunk/${k}`, enc.encode(c))
      await put(i, 'wc/job', enc.encode(String(mine.length)))
      // Only the first host's first process coordinates.
      if (i > 0) await put(i, 'wc/coordinator', enc.encode('not here'))
    }

    const messages: string[] = []
    let finished!: () => void
    const totalSeen = new Promise<void>((r) => { finished = r })
    const subscriber = new capPubsub.Subscriber.Server({
      deliver(p) {
        const l = p.getMessages()
        for (let i = 0; i < l.getLength(); i++) {
          const text = dec.decode(l.get(i).getData().toUint8Array())
          messages.push(text)
          events.message(text, l.get(i).getPublisher().getHost())
          if (text.startsWith('done:')) finished()
        }
      },
      done() { finished() },
    })
    await main.host.pubSub().getPubSub().join((p) => p.setName('wordcount')).getTopic()
      .subscribe((p) => { p.setHandler(subscriber); p.initOptions().setBufferSize(256) })

    // The live view: every host's process table, sampled every 50 ms and compared with the
    // last one (a process that lives less than that may be missed; guests share the event
    // loop with this sampling when the host is embedded).
    const seen = new Map<string, { host: DemoHost; pid: number; name: string }>()
    const everSeen: DemoResult['processes'] = []
    let watching = true
    const poll = async (): Promise<void> => {
      while (watching && !signal.aborted) {
        await Promise.all(sessions.map(async (s, i) => {
          const host = hosts[i]!
          let list
          try { list = (await s.host.debug().getDebug().ps()).getProcesses() } catch { return }
          const now = new Set<string>()
          for (let k = 0; k < list.getLength(); k++) {
            const p = list.get(k)
            // A child running elsewhere is shown by its own host. (While it is still being
            // started there, its entry here carries this host's id: skip `starting` ones.)
            if (p.getSelf().getHost() !== host.id || p.getState() === capProcess.ProcessState.STARTING) continue
            const key = `${host.id}/${p.getSelf().getPid()}`
            now.add(key)
            if (!seen.has(key)) {
              const entry = { host, pid: Number(p.getSelf().getPid()), name: p.getName() }
              seen.set(key, entry)
              everSeen.push({ host: host.id, pid: entry.pid, name: entry.name })
              events.processStarted(host, entry.pid, entry.name)
            }
          }
          for (const [key, e] of seen) {
            if (e.host === host && !now.has(key)) { seen.delete(key); events.processEnded(host, e.pid, e.name) }
          }
        }))
        await sleep(50)
      }
    }
    const polling = poll()

    const proc = main.host.executor().getExecutor().exec((p) => {
      p.initBytecode().setCid(cid)
      p.initOptions().setName('wc-coordinator')
    }).getProcess()
    const pid = Number((await proc.pid()).getSelf().getPid())
    // The coordinator is ours: its start and end are known, not sampled.
    const mine = `${hosts[0]!.id}/${pid}`
    if (!seen.has(mine)) {
      seen.set(mine, { host: hosts[0]!, pid, name: 'wc-coordinator' })
      everSeen.push({ host: hosts[0]!.id, pid, name: 'wc-coordinator' })
      events.processStarted(hosts[0]!, pid, 'wc-coordinator')
    }
    const exit = readExit((await proc.wait()).getStatus())
    if (seen.delete(mine)) events.processEnded(hosts[0]!, pid, 'wc-coordinator')
    // The coordinator publishes "done: …" just before it exits; deliveries are
    // asynchronous, so wait for it (bounded: a failed run may publish nothing).
    await Promise.race([totalSeen, sleep(2000)])
    await sleep(150) // one more look at the process tables, so the view shows every exit
    watching = false
    await polling

    // The answer: every host's counts, read where they were stored.
    let total = 0
    let counted = 0
    const perHost: Record<string, number> = {}
    for (const [i, mine] of share.entries()) {
      for (let k = 0; k < mine.length; k++) {
        const c = await get(i, `wc/count/${k}`)
        if (c === undefined) continue
        total += Number(dec.decode(c))
        counted++
        perHost[hosts[i]!.id] = (perHost[hosts[i]!.id] ?? 0) + 1
      }
    }
    const expected = parts.reduce((n, c) => n + countWords(c), 0)
    return {
      ok: exit.kind === 'exited' && exit.code === 0 && counted === parts.length && total === expected,
      total: counted === parts.length ? total : undefined, expected, chunks: parts.length, perHost,
      coordinator: { pid, exit, reason: describeExit(exit) },
      processes: everSeen, messages, ms: performance.now() - started,
    }
  } finally {
    for (const s of sessions) s.close()
  }
}
