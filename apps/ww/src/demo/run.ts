// The demo's word count, driven over the hosts' RPC endpoints exactly as any client
// would: the module goes into the first host's bytecode cache, the job into its anchors,
// one guest is spawned there (it becomes the coordinator and spawns the workers across
// the cluster), the topic's messages and every host's process table are shown as they
// change, and the answer is checked against a count made here.
import { anchor as capAnchor, pubsub as capPubsub } from '@ww/schema'
import { connectHost, type HostSession } from '../client.js'
import { readExit, describeExit, type Exit } from '../exit-status.js'
import type { DemoHost } from './cluster.js'
import { chunks as cut, countWords, TEXT } from './text.js'

export interface DemoEvents {
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

export async function runWordCount(hosts: DemoHost[], module: Uint8Array, events: DemoEvents, signal: AbortSignal): Promise<DemoResult> {
  const sessions: HostSession[] = []
  try {
    for (const h of hosts) sessions.push(await connectHost(h.rpc, {}, signal))
    const main = sessions[0]!
    const job = hosts[0]!.id
    const started = performance.now()
    const root = main.host.root().getRoot()
    const at = (path: string): capAnchor.Anchor$Client => root.walk((p) => p.setPath(`${job}/${path}`)).getAnchor()
    const put = async (path: string, v: Uint8Array): Promise<void> => { await at(path).set((p) => p.initValue().setData(v)) }
    const get = async (path: string): Promise<Uint8Array | undefined> => {
      const v = (await at(path).get()).getValue()
      return v.isData() ? v.getData().toUint8Array().slice() : undefined
    }

    const parts = cut(TEXT)
    const cid = (await main.host.bytecodeCache().getCache().put((p) => p.setBytecode(module))).getCid().toUint8Array().slice()
    await put('wc/module', cid)
    for (const [i, c] of parts.entries()) await put(`wc/chunk/${i}`, enc.encode(c))
    await put('wc/job', enc.encode(String(parts.length)))

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
          if (text.startsWith('total:')) finished()
        }
      },
      done() { finished() },
    })
    await main.host.pubSub().getPubSub().join((p) => p.setName('wordcount')).getTopic()
      .subscribe((p) => { p.setHandler(subscriber); p.initOptions().setBufferSize(256) })

    // The live view: every host's process table, compared with the last one seen.
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
            if (p.getSelf().getHost() !== host.id) continue // a child running elsewhere: that host shows it
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
    const exit = readExit((await proc.wait()).getStatus())
    // The total is published just before the coordinator exits; deliveries are
    // asynchronous, so wait for it (bounded: a failed run publishes nothing).
    await Promise.race([totalSeen, sleep(2000)])
    await sleep(150) // one more look at the process tables, so the view shows every exit
    watching = false
    await polling

    const total = await get('wc/total')
    const perHost: Record<string, number> = {}
    for (let i = 0; i < parts.length; i++) {
      const who = await get(`wc/claim/${i}`)
      if (who) perHost[dec.decode(who)] = (perHost[dec.decode(who)] ?? 0) + 1
    }
    const expected = parts.reduce((n, c) => n + countWords(c), 0)
    const totalN = total === undefined ? undefined : Number(dec.decode(total))
    return {
      ok: exit.kind === 'exited' && exit.code === 0 && totalN === expected,
      total: totalN, expected, chunks: parts.length, perHost,
      coordinator: { pid, exit, reason: describeExit(exit) },
      processes: everSeen, messages, ms: performance.now() - started,
    }
  } finally {
    for (const s of sessions) s.close()
  }
}
