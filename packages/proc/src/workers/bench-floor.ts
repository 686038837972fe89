// The floor under a cross-worker ping-pong: two bare worker threads bouncing one small
// message, with no scheduler, mailbox or guest — only the crossing. Measured in the same
// run as proc.parallel.message so its ratio can be read against what any design could
// reach on this machine: a MessagePort post each way, or a SharedArrayBuffer counter
// with Atomics.notify and Atomics.waitAsync (what a shared-memory ring would wake with).

import { Worker } from 'node:worker_threads'

export type Crossing = 'port' | 'atomics'

// Runs in each worker (eval'd: no file to locate from src/ or dist/). Role 0 echoes,
// role 1 starts, counts `n` round trips and reports. The interval keeps the thread alive
// while it waits: a pending Atomics.waitAsync does not.
const BOUNCER = `
const { workerData: { role, mode, n, sab, port }, parentPort } = require('node:worker_threads')
const keep = setInterval(() => {}, 1 << 30)
const done = () => { clearInterval(keep); port.close(); parentPort.postMessage('done') }
if (mode === 'port') {
  let k = 0
  port.on('message', (m) => {
    if (role === 0) { port.postMessage(m); if (++k === n) done() }
    else if (++k === n) done()
    else port.postMessage(m)
  })
  parentPort.once('message', () => { if (role === 1) port.postMessage(new Uint8Array(16)) })
} else {
  const cells = new Int32Array(sab) // cell r: round trips seen by role r
  const me = role, other = 1 - role
  const bounce = async () => {
    for (let seen = 0; seen < n; ) {
      const w = Atomics.waitAsync(cells, me, seen)
      if (w.async) await w.value
      seen = Atomics.load(cells, me)
      if (role === 0 || seen < n) { Atomics.add(cells, other, 1); Atomics.notify(cells, other) }
    }
    done()
  }
  parentPort.once('message', () => {
    void bounce()
    if (role === 1) { Atomics.add(cells, other, 1); Atomics.notify(cells, other) }
  })
}
parentPort.postMessage('ready')
`

export interface CrossingRate {
  /** Messages per second, two per round trip. */
  readonly msgsPerS: number
  /** CPU time of every thread of this process per round trip (start-up excluded). */
  readonly cpuMicrosPerRoundTrip: number
}

/** `n` round trips between two bare threads. */
export async function bareCrossing(mode: Crossing, n: number): Promise<CrossingRate> {
  const { port1, port2 } = new MessageChannel()
  const sab = new SharedArrayBuffer(8)
  const start = (role: number, port: MessagePort): Worker =>
    new Worker(BOUNCER, { eval: true, workerData: { role, mode, n, sab, port }, transferList: [port as never] })
  const ws = [start(0, port1), start(1, port2)]
  try {
    const next = (w: Worker): Promise<void> => new Promise((resolve, reject) => { w.once('message', () => resolve()); w.once('error', reject) })
    // Both threads have their handlers installed ('ready') before the clock starts.
    await Promise.all(ws.map(next))
    const finished = ws.map(next)
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    for (const w of ws) w.postMessage('go')
    await Promise.all(finished)
    const ms = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    return { msgsPerS: (2 * n * 1000) / ms, cpuMicrosPerRoundTrip: (cpu.user + cpu.system) / n }
  } finally {
    await Promise.all(ws.map((w) => w.terminate()))
  }
}
