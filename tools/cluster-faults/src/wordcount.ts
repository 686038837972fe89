// A word-count job over anchors while hosts come and go: the churn scenario's work. Its
// state lives in one host's subtree (the owner, a `ww host`): `job/claim/<k>` names the
// host working on item k, `job/done/<k>` holds its count. Workers are hosts of the cluster
// made in this process (@ww/host libp2pCluster, the swarm key, joined through a relay): a
// worker claims an item with compare-and-set, takes a while over it, and writes the count
// with compare-and-set from version 0 — acknowledged when that swaps. An item claimed by a
// host no longer in the claimer's view is claimed again (its holder was lost with it).
// (A `ww host` has no guest that re-claims across hosts; the demo's word count splits the
// work by host, so the job is driven from here over the same anchors RPC a guest uses.)
import { libp2pCluster, waitForHost, type Libp2pCluster } from '@ww/host'
import { readSwarmKey } from '@ww/host/trust'
import type { FaultCluster } from './cluster.js'

const enc = new TextEncoder()
const dec = new TextDecoder()
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta']

export interface Job {
  readonly chunks: readonly string[]
  /** The right answer: the words in all chunks. */
  readonly total: number
}

/** `items` chunks of a few words each (item k has 3 + k % 5 words). */
export function makeJob(items: number): Job {
  const chunks = Array.from({ length: items }, (_, k) => Array.from({ length: 3 + (k % 5) }, (_, j) => WORDS[(k + j) % WORDS.length]).join(' '))
  return { chunks, total: chunks.reduce((n, c) => n + countWords(c), 0) }
}

export const countWords = (text: string): number => text.split(/\s+/).filter((w) => w !== '').length

/** What the workers of one run did, counted as it happened. */
export class JobRun {
  /** Counts whose write swapped (acknowledged), by item. */
  readonly acked = new Map<number, number>()
  claims = 0
  /** Claims taken over from a holder no longer in the claimer's view. */
  reclaims = 0
  /** Anchor calls that failed (a host unreachable for a moment) and were tried again. */
  retries = 0
  /** Resolves once every item's count is known written. */
  readonly complete: Promise<void>
  #completed!: () => void
  /** Resolves when runJob lets the work begin: every first worker has joined, none ran ahead. */
  readonly begun: Promise<void>
  begin!: () => void
  /** Called by the next worker to take a claim, while it holds it. */
  #onHold: Array<() => void> = []
  constructor(readonly job: Job, readonly owner: string, readonly prefix: string, readonly workMs: number) {
    this.complete = new Promise((resolve) => { this.#completed = resolve })
    this.begun = new Promise((resolve) => { this.begin = resolve })
  }
  /** Resolves when some worker next takes a claim (it holds it, working, when this runs). */
  nextHold(): Promise<void> { return new Promise((resolve) => { this.#onHold.push(resolve) }) }
  held(): void { for (const f of this.#onHold.splice(0)) f() }
  readonly #written = new Set<number>()
  /** A worker's compare-and-set on item k's count swapped: acknowledged. */
  ack(k: number, count: number): void {
    this.acked.set(k, count)
    this.written(k)
  }

  /** A worker read item k's count written (by any worker; an answer can be lost after the write). */
  written(k: number): void {
    this.#written.add(k)
    if (this.#written.size === this.job.chunks.length) { this.isComplete = true; this.#completed() }
  }

  isWritten(k: number): boolean { return this.#written.has(k) }
  isComplete = false
  path(kind: 'claim' | 'done', k: number): string { return `${this.owner}/${this.prefix}/${kind}/${k}` }
}

/** One worker host: claims and counts items of `run` until none is left or it is closed. */
export class JobWorker {
  /** The item it holds a claim on and is working on (not yet writing), if any. */
  holding: number | undefined
  readonly finished: Promise<void>
  #closed = false
  #wake: (() => void) | undefined

  private constructor(readonly cluster: Libp2pCluster, readonly run: JobRun) {
    this.finished = this.#loop()
  }

  /** A new host joining through `via` (default: the job's owner, host 0) that starts working at once. */
  static async start(c: FaultCluster, run: JobRun, via = 0): Promise<JobWorker> {
    const ttlMs = parseTtl(c.options.ttl)
    const cluster = await libp2pCluster({
      listen: [c.inProcessListen], bootstrap: [c.joinAddress(via)], swarmKey: readSwarmKey(c.swarmKeyFile),
      ...(ttlMs ? { ttlMs } : {}),
    })
    try {
      await waitForHost(cluster.view, run.owner, { timeoutMs: 60_000 }) // the owner's anchors are reached through its view entry
    } catch (e) {
      await cluster.close()
      throw e
    }
    return new JobWorker(cluster, run)
  }

  get id(): string { return this.cluster.id }

  /** Leaves the cluster (a goodbye), with whatever it holds unfinished. */
  async close(): Promise<void> {
    this.#closed = true
    this.#wake?.()
    await this.finished
    await this.cluster.close()
  }

  async #loop(): Promise<void> {
    const { run } = this
    const n = run.job.chunks.length
    const start = Math.floor(Math.random() * n) // workers spread over the items rather than queue on item 0
    await run.begun
    while (!this.#closed && !run.isComplete) {
      let progressed = false
      for (let i = 0; i < n && !this.#closed; i++) {
        const k = (start + i) % n
        if (run.isWritten(k)) continue
        try {
          if (await this.#item(k)) progressed = true
        } catch {
          run.retries++
        }
      }
      // Everything left is held by live hosts (or a call failed): look again shortly.
      if (!progressed && !run.isComplete) await this.#pause(100)
    }
  }

  /** One look at item k: true if this worker counted it now. */
  async #item(k: number): Promise<boolean> {
    const { run } = this
    // Written already (by anyone — or by this worker, its answer lost on the way): known now.
    const done = this.cluster.anchors.walk(run.path('done', k))
    const d = await done.loadVersioned!({ timeoutMs: 10_000 })
    if (d.version > 0) { run.written(k); return false }
    const claim = this.cluster.anchors.walk(run.path('claim', k))
    const c = await claim.loadVersioned!({ timeoutMs: 10_000 })
    const holder = c.value?.kind === 'bytes' ? dec.decode(c.value.bytes) : undefined
    if (holder !== undefined && holder !== this.id && this.cluster.view.get(holder) !== undefined) return false // a live host works on it
    // Unclaimed, or its holder is lost (not in this host's view), or this worker's own claim
    // whose answer was lost: claimed (again) with compare-and-set.
    if (holder !== this.id) {
      if (!(await claim.compareAndSet!(c.version, enc.encode(this.id), { timeoutMs: 10_000 })).swapped) return false
      run.claims++
      if (holder !== undefined) run.reclaims++
    }
    // The work takes a while: a host closed meanwhile is lost with the claim in hand.
    this.holding = k
    run.held()
    await this.#pause(run.workMs)
    this.holding = undefined
    if (this.#closed) return false
    const count = countWords(run.job.chunks[k]!)
    if ((await done.compareAndSet!(0, enc.encode(String(count)), { timeoutMs: 10_000 })).swapped) run.ack(k, count)
    return true
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.#wake = undefined; resolve() }, ms)
      this.#wake = () => { clearTimeout(t); this.#wake = undefined; resolve() }
    })
  }
}

/** `ww host --ttl` text (`30s`, `3000ms`) in ms; undefined for the host's default. */
function parseTtl(ttl: string | undefined): number | undefined {
  const m = ttl === undefined ? null : /^(\d+(?:\.\d+)?)(ms|s)$/.exec(ttl)
  return m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : undefined
}

/**
 * Runs `run` to its end with `workers` worker hosts; with `churnEveryMs`, one worker holding
 * a claim it works on leaves (the first at once, then one every that often) and a new one
 * joins. Resolves with how many left and joined once every item is written.
 */
export async function runJob(c: FaultCluster, run: JobRun, workers: number, churnEveryMs?: number, signal?: AbortSignal): Promise<{ left: number; joined: number }> {
  const live = new Set<JobWorker>()
  const add = async (): Promise<void> => { live.add(await JobWorker.start(c, run)) }
  const churn = { left: 0, joined: 0 }
  try {
    await Promise.all(Array.from({ length: workers }, add))
    run.begin() // not before: a first worker could otherwise finish the job while the others join
    const complete = bounded(run.complete, signal)
    let over = false
    void complete.then(() => { over = true }, () => { over = true })
    // The first leaves as soon as one holds a claim (a short job may end within one period),
    // then one every period.
    for (let first = true; churnEveryMs !== undefined && !over; first = false) {
      if (!first) await Promise.race([complete, new Promise((r) => setTimeout(r, churnEveryMs))])
      // The one to leave holds a claim it is working on: told by the claim itself, so it still
      // holds it here (its work is a timer away), whatever the machine's load.
      let out: JobWorker | undefined
      while (!over && (out = [...live].find((w) => w.holding !== undefined)) === undefined) await Promise.race([run.nextHold(), complete.catch(() => {})])
      if (over || out === undefined) break
      live.delete(out)
      await out.close()
      churn.left++
      await add()
      churn.joined++
    }
    await complete
    return churn
  } finally {
    run.begin() // a worker that failed to join must not leave the others waiting to begin
    await Promise.all([...live].map((w) => w.close()))
  }
}

/** The counts the owner holds for `run`, read by a host that joins for that alone. */
export async function readCounts(c: FaultCluster, run: JobRun): Promise<Map<number, number>> {
  const ttlMs = parseTtl(c.options.ttl)
  const reader = await libp2pCluster({ listen: [c.inProcessListen], bootstrap: [c.joinAddress(0)], swarmKey: readSwarmKey(c.swarmKeyFile), ...(ttlMs ? { ttlMs } : {}) })
  try {
    await waitForHost(reader.view, run.owner, { timeoutMs: 60_000 })
    const out = new Map<number, number>()
    for (let k = 0; k < run.job.chunks.length; k++) {
      const v = (await reader.anchors.walk(run.path('done', k)).loadVersioned!({ timeoutMs: 30_000 })).value
      if (v?.kind === 'bytes') out.set(k, Number(dec.decode(v.bytes)))
    }
    return out
  } finally {
    await reader.close()
  }
}

function bounded(p: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return p
  return new Promise((resolve, reject) => {
    const abort = (): void => reject(signal.reason as Error)
    if (signal.aborted) return abort()
    signal.addEventListener('abort', abort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort))
  })
}
