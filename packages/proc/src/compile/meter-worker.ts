// The metering pass on a thread of its own: Binaryen runs synchronously for up to seconds
// per module, which on the host's thread stalls its event loop (timers, sockets, peers).
// Also the body of the first-start child process (off-thread.ts: a process of its own, for
// V8 flags that would slow the guests' code), which talks over its IPC channel instead.

import { parentPort } from 'node:worker_threads'
import { loadBinaryen } from '../meter/pass.js'
import { runJob, type MeterRequest, type MeterReply } from './off-thread.js'

// This thread exists to run Binaryen: its load (the largest part of a first job) starts now,
// while the host is still reading or surveying the module it will send.
loadBinaryen().catch(() => undefined)

/** The child exits after this long without a job (Binaryen holds ≈100 MB); the host forks another when it needs one. */
const CHILD_IDLE_MS = 30_000

/** A child also says how much CPU it has used: the host's process.cpuUsage() does not count it. */
const send: (m: MeterReply) => void = parentPort !== null ? (m) => parentPort!.postMessage(m) : (m) => {
  const c = process.cpuUsage()
  process.send!({ ...m, cpuMs: (c.user + c.system) / 1000 })
}
let idle: ReturnType<typeof setTimeout> | undefined
const pending = new Set<number>()
/** Warmed on purpose (warmInstrumentation): kept for the host's life. */
let warmed = false
function rest(): void {
  if (parentPort !== null || pending.size > 0 || warmed) return
  idle = setTimeout(() => process.exit(0), CHILD_IDLE_MS)
  idle.unref()
}
if (parentPort === null) process.on('disconnect', () => process.exit(0)) // the host is gone

const onRequest = (req: MeterRequest): void => {
  clearTimeout(idle)
  warmed ||= req.warm === true
  pending.add(req.id)
  runJob(req).then(
    // A warm-up's output is not wanted: an empty reply, no copy of its bytes.
    (r) => send({ id: req.id, bytes: req.warm === true ? new Uint8Array(0) : r.bytes, info: r.info }),
    (e: unknown) => {
      const err = e as { name?: unknown; code?: unknown; message?: unknown; bytes?: unknown; limit?: unknown }
      send({
        id: req.id,
        error: {
          name: typeof err?.name === 'string' ? err.name : 'Error',
          code: typeof err?.code === 'string' ? err.code : undefined,
          message: typeof err?.message === 'string' ? err.message : String(e),
        },
      })
    },
  ).finally(() => {
    pending.delete(req.id)
    rest()
  })
}
if (parentPort !== null) parentPort.on('message', onRequest)
else process.on('message', onRequest)
rest()
