// The guest ABI's `ww` imports (transport's ABI.md) for a process on a worker whose RPC
// peer lives on the main thread. There is no RpcConnection here: the guest's frames go
// as they are through a MessagePort to the main thread, where the real host connection
// (rpc-port-host.ts) serves them, so nothing forwards calls between connections (the
// transport does not), and the guest speaks to the same capability as it would in-thread.
//
// Copies: a frame must leave guest memory before `ww.send` returns (the guest owns those
// bytes again), and it crosses threads: it is copied once into a buffer of its own,
// validated, and that buffer is transferred (moved). A reply arrives as a transferred
// buffer and is written into guest memory at `ww.recv` (the copy every guest needs).

import type { MessagePort } from 'node:worker_threads'
import { DEFAULT_LIMITS, GuestAbiError, GuestMemoryError, TransportError, expire, readFrame, type FrameLimits } from '@ww/transport'
import type { Resume } from '@ww/interface'
import type { ProcessContext, ProcessExtension } from '../scheduler.js'
import type { SerializedError } from './protocol.js'

/** Port messages, host → guest side. */
export type HostToGuest = { t: 'frame'; bytes: Uint8Array } | { t: 'end' } | { t: 'abort'; error: SerializedError }
/** Port messages, guest side → host. */
export type GuestToHost = { t: 'frame'; bytes: Uint8Array } | { t: 'end' }

export function portTransport(port: MessagePort, ctx: ProcessContext, limits: FrameLimits = DEFAULT_LIMITS): ProcessExtension {
  const queue: Uint8Array[] = []
  let head = 0
  let ended = false
  let dead: TransportError | undefined
  let waiter: { wake: () => void; fail: (e: Error) => void } | undefined
  let memory: WebAssembly.Memory | undefined
  let framesIn = 0
  let framesOut = 0

  const wake = (): void => {
    const w = waiter
    waiter = undefined
    w?.wake()
  }
  port.on('message', (m: HostToGuest) => {
    if (m.t === 'frame') queue.push(m.bytes)
    else if (m.t === 'end') ended = true
    else {
      // The host refused a frame (RPC protocol): the guest ends with that reason.
      dead ??= new TransportError(m.error.code ?? 'ERR_RPC_PROTOCOL', m.error.message, { processId: ctx.pid })
      const w = waiter
      waiter = undefined
      w?.fail(dead)
      return
    }
    wake()
  })

  /** Every import starts here: the memory's current buffer (it may have grown). */
  const enter = (): ArrayBuffer => {
    if (dead !== undefined) throw dead
    if (memory === undefined) throw new GuestAbiError('the guest exports no memory', { processId: ctx.pid })
    return memory.buffer
  }

  const send = (ptr: number, len: number): number => {
    const mem = enter()
    const p = ptr >>> 0
    const n = len >>> 0
    if (p + n > mem.byteLength) throw new GuestMemoryError(`ww.send range [${p}, +${n}) is outside memory of ${mem.byteLength} bytes`, { processId: ctx.pid })
    const bytes = new Uint8Array(mem, p, n).slice()
    // A malformed frame ends the guest here, in its own thread, before anything leaves.
    const r = readFrame(bytes.buffer, 0, n, limits)
    if (r.borrowed) expire(r.message)
    framesIn++
    port.postMessage({ t: 'frame', bytes } satisfies GuestToHost, [bytes.buffer])
    return 0
  }

  const poll = (ptr: number, cap: number): number => {
    const mem = enter()
    const p = ptr >>> 0
    const c = cap >>> 0
    if (p + c > mem.byteLength) throw new GuestMemoryError(`ww.recv buffer [${p}, +${c}) is outside memory of ${mem.byteLength} bytes`, { processId: ctx.pid })
    if (head === queue.length) return 0
    const f = queue[head]!
    if (f.byteLength > c) return -f.byteLength // too small: the frame stays queued
    new Uint8Array(mem, p, f.byteLength).set(f)
    queue[head++] = undefined as unknown as Uint8Array
    if (head === queue.length) { queue.length = 0; head = 0 }
    framesOut++
    return f.byteLength
  }

  const recv = (ptr: number, cap: number): number | Promise<Resume> => {
    const n = poll(ptr, cap)
    if (n !== 0 || ended) return n
    // Written when the guest resumes, into the memory of then (it may have been hibernated).
    return new Promise<void>((resolve, reject) => { waiter = { wake: resolve, fail: reject } }).then(() => () => resumed(ptr, cap))
  }

  const resumed = (ptr: number, cap: number): number => {
    const n = poll(ptr, cap)
    if (n === 0 && !ended) throw new GuestAbiError('ww.recv resumed with no frame to deliver', { processId: ctx.pid })
    return n
  }

  const bind = (inst: WebAssembly.Instance): void => {
    const mem = inst.exports.memory
    if (!(mem instanceof WebAssembly.Memory)) throw new GuestAbiError('the guest exports no memory', { processId: ctx.pid })
    memory = mem
  }

  return {
    imports: { ww: { send, recv: ctx.suspender.wrapImport(recv), poll } },
    attach: bind,
    // No view of guest memory is kept between imports: a frame is copied out in send, in at resume.
    canHibernate: () => dead === undefined && memory !== undefined,
    onHibernate: () => { memory = undefined },
    onRestore: bind,
    onExit: () => {
      port.postMessage({ t: 'end' } satisfies GuestToHost)
      port.close()
    },
    stats: () => ({ framesIn, framesOut }),
  }
}
