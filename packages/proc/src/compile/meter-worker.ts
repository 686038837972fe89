// The metering pass on a thread of its own: Binaryen runs synchronously for up to seconds
// per module, which on the host's thread stalls its event loop (timers, sockets, peers).

import { parentPort } from 'node:worker_threads'
import { loadBinaryen } from '../meter/pass.js'
import { runJob, type MeterRequest, type MeterReply } from './off-thread.js'

// This thread exists to run Binaryen: its load (the largest part of a first job) starts now,
// while the host is still reading or surveying the module it will send.
loadBinaryen().catch(() => undefined)

parentPort!.on('message', (req: MeterRequest) => {
  runJob(req).then(
    // A warm-up's output is not wanted: an empty reply, no copy of its bytes.
    (r) => parentPort!.postMessage({ id: req.id, bytes: req.warm === true ? new Uint8Array(0) : r.bytes, info: r.info } satisfies MeterReply),
    (e: unknown) => {
      const err = e as { name?: unknown; code?: unknown; message?: unknown; bytes?: unknown; limit?: unknown }
      parentPort!.postMessage({
        id: req.id,
        error: {
          name: typeof err?.name === 'string' ? err.name : 'Error',
          code: typeof err?.code === 'string' ? err.code : undefined,
          message: typeof err?.message === 'string' ? err.message : String(e),
        },
      } satisfies MeterReply)
    },
  )
})
