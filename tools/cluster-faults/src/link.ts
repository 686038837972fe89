// Pubsub over the cluster's links at a fixed offered rate: one long-running publisher
// (`ww pub TOPIC --stdin` against one host) and one subscriber (`ww sub TOPIC --json`
// against another). Each line carries its sequence number; latency is from the line's
// write to the subscriber's line being read here (one clock: this process). Gaps and
// reorders are counted per publisher, as the docs promise order per publisher.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { FaultCluster } from './cluster.js'
import { wwBin } from './host-process.js'

export interface LinkRunOptions {
  from: number
  to: number
  /** Messages per second offered. */
  rate: number
  messages: number
  /** After the last message, how long to wait for stragglers (ms). */
  drainMs: number
  signal?: AbortSignal
}

export interface LinkRun {
  sent: number
  delivered: number
  /** delivered ÷ sent */
  ratio: number
  /** Latencies of delivered messages, ms, sorted. */
  latencies: number[]
  /** Sequence numbers skipped between two delivered ones (lost for good), plus `tail`. */
  gaps: number
  /** Of `gaps`, those after the last delivered: lost, or not yet arrived when the drain ended. */
  tail: number
  /** Of `gaps`, those before the first delivered (published before the subscriber's first message from the publisher). */
  head: number
  /** Delivered after a later one: per-publisher order broken. */
  reordered: number
  duplicates: number
}

export async function runLink(c: FaultCluster, o: LinkRunOptions): Promise<LinkRun> {
  const topic = `link-${process.pid}-${o.from}-${o.to}-${Math.floor(performance.now())}`
  const env = (i: number): NodeJS.ProcessEnv => ({ ...process.env, WW_HOME: c.hosts[i]!.process.home, NO_COLOR: '1' })
  const sub = spawn(process.execPath, [wwBin, 'sub', topic, '--json'], { env: env(o.to), stdio: ['ignore', 'pipe', 'pipe'] })
  const sentAt = new Map<number, number>()
  const latencies: number[] = []
  const seen = new Set<number>()
  let last = -1
  let gaps = 0
  let reordered = 0
  let duplicates = 0
  createInterface({ input: sub.stdout! }).on('line', (line) => {
    const at = performance.now()
    const seq = Number(String((JSON.parse(line) as { data: string }).data).split(' ')[0])
    if (seen.has(seq)) { duplicates++; return }
    seen.add(seq)
    latencies.push(at - (sentAt.get(seq) ?? at))
    if (seq < last) reordered++
    else { gaps += seq - last - 1; last = seq }
  })
  let pub: ChildProcess | undefined
  try {
    await new Promise<void>((resolve, reject) => {
      let err = ''
      sub.stderr!.on('data', (b: Buffer) => { err += b.toString(); if (err.includes('subscribed')) resolve() })
      sub.once('exit', (code) => reject(new Error(`ww sub ended (${code}): ${err}`)))
    })
    pub = spawn(process.execPath, [wwBin, 'pub', topic, '--stdin'], { env: env(o.from), stdio: ['pipe', 'ignore', 'inherit'] })
    const t0 = performance.now()
    for (let n = 0; n < o.messages; n++) {
      // Offered at a fixed rate: message n leaves at t0 + n/rate, however late the last one was.
      const due = t0 + (n * 1000) / o.rate
      const wait = due - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      o.signal?.throwIfAborted()
      sentAt.set(n, performance.now())
      pub.stdin!.write(`${n} ${'x'.repeat(64)}\n`)
    }
    pub.stdin!.end()
    await new Promise((r) => pub!.once('exit', r))
    const until = performance.now() + o.drainMs
    while (seen.size < o.messages && performance.now() < until) await new Promise((r) => setTimeout(r, 50))
  } finally {
    pub?.kill()
    sub.kill()
  }
  const delivered = seen.size
  // A message never delivered after the last one seen counts as a gap too.
  const tail = Math.max(0, o.messages - 1 - last)
  gaps += tail
  const head = seen.size === 0 ? 0 : Math.min(...seen)
  return { sent: o.messages, delivered, ratio: delivered / o.messages, latencies: latencies.sort((a, b) => a - b), gaps, tail, head, reordered, duplicates }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}
