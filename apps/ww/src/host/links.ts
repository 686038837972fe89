// The links of this host to the others, with round-trip times measured now and then:
// each period, every connected host is sent 32 bytes on libp2p's ping protocol (its
// `ping()` service echoes them) and the time until they come back is the link's RTT,
// taken with performance.now() (libp2p's own ping reports whole milliseconds: 0 on
// loopback). A link whose connection closed, or whose echoes failed twice in a row, is
// kept, down, for a while, so every view can show it went down. Published with the host's status (status.ts).
import type { Cluster, Libp2pCluster } from '@ww/host'

export const PING_PROTOCOL = '/ipfs/ping/1.0.0'
const PING_BYTES = 32

/** One link of a host, as its status carries it. */
export interface LinkRow {
  /** The host at the other end. */
  peer: string
  up: boolean
  /** The last round trip measured (ms), if any was. */
  rttMs: number | null
  /** When it was last measured or seen to go down (ms since the epoch). */
  at: number
  /** Why it is down: the connection closed, or the echo failed. */
  error?: string
}

export interface LinkProbeOptions {
  /** Between rounds of pings (default 2000 ms). */
  periodMs?: number
  /** One echo's bound (default 5000 ms); over it, the link is down. */
  timeoutMs?: number
  /** How long a link that went down is still reported (default 60 s). */
  keepDownMs?: number
  /**
   * Echoes failed in a row before a connected link counts as down (default 2: one slow
   * answer on a busy host is not an outage, nor is a refused stream — libp2p's ping allows
   * one outbound stream a connection, and its connection monitor pings every 10 s too).
   */
  missesToDown?: number
}

export interface LinkProbe {
  /** This host's links now: up ones with their last RTT, and those that went down lately. */
  links(): LinkRow[]
  /** A round now (tests, and the first round at start); resolves when every echo settled. */
  probe(): Promise<void>
  close(): void
}

type Connection = ReturnType<Libp2pCluster['libp2p']['getConnections']>[number]

export function linkProbe(cluster: Cluster, o: LinkProbeOptions = {}): LinkProbe {
  if (cluster.kind !== 'libp2p') return { links: () => [], probe: async () => {}, close: () => {} }
  const node = (cluster as Libp2pCluster).libp2p
  const timeoutMs = o.timeoutMs ?? 5000
  const keepDownMs = o.keepDownMs ?? 60_000
  const missesToDown = o.missesToDown ?? 2
  const rows = new Map<string, LinkRow>()
  const misses = new Map<string, number>()
  const controller = new AbortController()
  let round: Promise<void> | undefined

  const down = (peer: string, error: string): void => {
    const r = rows.get(peer)
    if (r !== undefined && r.up) rows.set(peer, { ...r, up: false, at: Date.now(), error })
  }
  const onDisconnect = (e: CustomEvent<{ toString(): string }>): void => down(e.detail.toString(), 'disconnected')
  node.addEventListener('peer:disconnect', onDisconnect)

  const probeOne = async (peer: string, conn: Connection): Promise<void> => {
    try {
      const rttMs = await echo(conn, AbortSignal.any([controller.signal, AbortSignal.timeout(timeoutMs)]))
      if (controller.signal.aborted) return
      misses.delete(peer)
      rows.set(peer, { peer, up: true, rttMs: Math.round(rttMs * 1000) / 1000, at: Date.now() })
    } catch (e) {
      if (controller.signal.aborted) return
      const before = rows.get(peer)
      if (before !== undefined && !before.up) return // seen to disconnect meanwhile: that is why
      const missed = (misses.get(peer) ?? 0) + 1
      misses.set(peer, missed)
      if (missed < missesToDown) return
      rows.set(peer, { peer, up: false, rttMs: before?.rttMs ?? null, at: Date.now(), error: `no echo: ${(e as Error).message}` })
    }
  }
  const probe = (): Promise<void> => {
    round ??= (async () => {
      const open = new Map<string, Connection>()
      for (const c of node.getConnections()) if (c.status === 'open' && !open.has(c.remotePeer.toString())) open.set(c.remotePeer.toString(), c)
      for (const r of rows.values()) if (r.up && !open.has(r.peer)) down(r.peer, 'disconnected')
      const now = Date.now()
      for (const r of [...rows.values()]) if (!r.up && !open.has(r.peer) && now - r.at > keepDownMs) { rows.delete(r.peer); misses.delete(r.peer) }
      await Promise.all([...open].map(([peer, c]) => probeOne(peer, c)))
    })().finally(() => { round = undefined })
    return round
  }
  const timer = setInterval(() => { void probe() }, o.periodMs ?? 2000)
  timer.unref()
  void probe()
  return {
    links: () => [...rows.values()],
    probe,
    close: () => {
      clearInterval(timer)
      controller.abort()
      node.removeEventListener('peer:disconnect', onDisconnect)
    },
  }
}

/** One echo of PING_BYTES random bytes on a new ping stream: milliseconds from sending to all of them back. */
async function echo(conn: Connection, signal: AbortSignal): Promise<number> {
  const stream = await conn.newStream(PING_PROTOCOL, { signal })
  try {
    const sent = crypto.getRandomValues(new Uint8Array(PING_BYTES))
    const back = new Uint8Array(PING_BYTES)
    let got = 0
    let start = 0
    const done = new Promise<number>((resolve, reject) => {
      stream.addEventListener('message', (e) => {
        const chunk = e.data.subarray()
        back.set(chunk.subarray(0, PING_BYTES - got), got)
        got += chunk.byteLength
        if (got < PING_BYTES) return
        const at = performance.now()
        if (got !== PING_BYTES || back.some((b, i) => b !== sent[i])) reject(new Error('the echo differs from what was sent'))
        else resolve(at - start)
      })
      stream.addEventListener('close', () => reject(new Error('stream closed before the echo')), { once: true })
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })
    })
    done.catch(() => {}) // awaited below; a send that throws first must not leave it unhandled
    start = performance.now()
    stream.send(sent)
    return await done
  } finally {
    stream.close().catch(() => stream.abort(new Error('ping stream close failed')))
  }
}
