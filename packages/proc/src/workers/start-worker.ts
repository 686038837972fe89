// Starting one pool worker thread, and knowing when it is ready.

import { Worker } from 'node:worker_threads'
import { workerExecArgv } from '../internal/worker-argv.js'
import type { FromWorker, WorkerInit } from './protocol.js'

export function startWorker(init: WorkerInit): Worker {
  return new Worker(workerUrl(), { workerData: init, execArgv: workerExecArgv() })
}

/** Settles when `w` says it is ready. */
export function ready(w: Worker): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    w.once('message', (m: FromWorker) => (m.t === 'ready' ? resolve() : reject(new Error(`worker sent ${m.t} before ready`))))
    w.once('error', reject)
  })
}

/** The worker's script: next to this file when built; from the sources (tests), the built one. */
function workerUrl(): URL {
  const here = import.meta.url
  return here.endsWith('.ts') ? new URL('../../dist/workers/worker.js', here) : new URL('./worker.js', here)
}
