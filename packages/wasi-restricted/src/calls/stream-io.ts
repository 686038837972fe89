// Reads and writes on streams (stdio, connections): never blocking. When a stream is not
// ready, the call suspends through the hook, or returns EAGAIN when there is none. Every
// wait goes through ctx.until, so closing the WASI ends it.

import { ERRNO } from '../errno.js'
import type { OutputSink, InputStream } from '../io.js'
import type { Conn } from '../sockets.js'
import { ConnClosed } from '../sockets.js'
import type { GuestMemory } from '../memory.js'
import type { CallResult, Ctx } from './context.js'

/** The first `max` bytes the iovecs describe, copied once into a new host buffer. */
export function gather(mem: GuestMemory, iovs: number[], max: number): Uint8Array {
  const u8 = mem.u8()
  if (iovs.length === 2) return u8.slice(iovs[0]!, iovs[0]! + Math.min(iovs[1]!, max))
  let total = 0
  for (let i = 1; i < iovs.length; i += 2) total += iovs[i]!
  const out = new Uint8Array(Math.min(total, max))
  let o = 0
  for (let i = 0; i < iovs.length && o < out.length; i += 2) {
    const n = Math.min(iovs[i + 1]!, out.length - o)
    out.set(u8.subarray(iovs[i]!, iovs[i]! + n), o)
    o += n
  }
  return out
}

/** Writes `src` across the iovecs; returns the bytes placed. */
export function scatter(mem: GuestMemory, iovs: number[], src: Uint8Array): number {
  const u8 = mem.u8()
  let o = 0
  for (let i = 0; i < iovs.length && o < src.length; i += 2) {
    const n = Math.min(iovs[i + 1]!, src.length - o)
    u8.set(src.subarray(o, o + n), iovs[i]!)
    o += n
  }
  return o
}

/** Most bytes one send copies out of the guest; larger sends are partial. */
const CONN_CHUNK = 64 * 1024

function total(iovs: number[]): number {
  let t = 0
  for (let i = 1; i < iovs.length; i += 2) t += iovs[i]!
  return t
}

/** fd_write on 1 or 2: one record per call, at most chunkBytes, to the spawner's sink. */
export function writeSink(ctx: Ctx, fd: 1 | 2, sink: OutputSink, iovs: number[], nPtr: number): CallResult {
  const pol = fd === 1 ? ctx.policy.stdout : ctx.policy.stderr
  const bytes = gather(ctx.mem, iovs, pol.chunkBytes)
  const n = bytes.length
  if (n === 0) { ctx.mem.setU32(nPtr, 0); return ERRNO.SUCCESS }
  const record = { processId: ctx.processId, fd, bytes }
  if (sink.write(record)) { ctx.mem.setU32(nPtr, n); return ERRNO.SUCCESS }
  if (pol.onFull === 'drop') { ctx.audit.droppedBytes += n; ctx.mem.setU32(nPtr, n); return ERRNO.SUCCESS }
  if (!ctx.canWait) return ERRNO.EAGAIN
  return (async () => {
    do await ctx.until(sink.writable())
    while (!sink.write(record))
    ctx.mem.setU32(nPtr, n)
    return ERRNO.SUCCESS
  })()
}

/** fd_read on a stream: stdin's stream or a connection. `null` stream: end of file. */
export function readStream(ctx: Ctx, s: InputStream | Conn | null, iovs: number[], nPtr: number, nonblock: boolean): CallResult {
  const want = total(iovs)
  const attempt = (): number | undefined => {
    if (s === null || want === 0) { ctx.mem.setU32(nPtr, 0); return ERRNO.SUCCESS }
    const got = s.read(want)
    if (got === null) { ctx.mem.setU32(nPtr, 0); return ERRNO.SUCCESS }
    if (got.length === 0) return undefined
    ctx.mem.setU32(nPtr, scatter(ctx.mem, iovs, got))
    return ERRNO.SUCCESS
  }
  const now = attempt()
  if (now !== undefined) return now
  if (nonblock || !ctx.canWait) return ERRNO.EAGAIN
  return (async () => {
    for (;;) {
      await ctx.until(s!.readable())
      const r = attempt()
      if (r !== undefined) return r
    }
  })()
}

/** fd_write / sock_send on a connection. */
export function writeConn(ctx: Ctx, c: Conn, iovs: number[], nPtr: number, nonblock: boolean): CallResult {
  const bytes = gather(ctx.mem, iovs, CONN_CHUNK)
  const attempt = (): number | undefined => {
    let n: number
    try { n = c.write(bytes) } catch (e) { if (e instanceof ConnClosed) return ERRNO.EPIPE; throw e }
    if (n === 0 && bytes.length > 0) return undefined
    ctx.mem.setU32(nPtr, n)
    return ERRNO.SUCCESS
  }
  const now = attempt()
  if (now !== undefined) return now
  if (nonblock || !ctx.canWait) return ERRNO.EAGAIN
  return (async () => {
    for (;;) {
      await ctx.until(c.writable())
      const r = attempt()
      if (r !== undefined) return r
    }
  })()
}
