// The imports a metered process gets: `ww_meter` (fuel, memory cap) and `ww_proc`
// (identity and messaging). Pointers and lengths are i32 read as unsigned.
//
// Messaging goes through capabilities, not pids: `send` takes a handle in the sender's
// own table (handles.ts). A process starts with a handle to its parent's mailbox and
// gets one for each child; others come with messages (`send_cap` passes one on, and a
// message's sender is reachable by its receiver: the return address it chose to give).

import { Message } from '../message.js'
import { PROC_ERRNO } from './handles.js'
import { Proc, Termination } from './proc.js'

/** What the imports need from the scheduler. */
export interface ImportHost {
  outOfFuel(p: Proc): number | Promise<number>
  send(p: Proc, pid: number, msg: Message): number | Promise<number>
  /**
   * Writes `src[start, end)` straight into the receiver `pid` if it waits in recv with an
   * empty mailbox and room (and wakes it); false if not: the bytes then go as a Message.
   */
  handOver(p: Proc, pid: number, src: Uint8Array, start: number, end: number, cap: number): boolean
  recv(p: Proc, ptr: number, cap: number): number | Promise<number>
  /** Where a guest's message bytes go (default: a heap buffer of their own). */
  readonly messageAlloc?: ((n: number) => Uint8Array) | undefined
}

export const KIND_CODES = { user: 0, down: 1, exit: 2 } as const

/**
 * All of p's memory as bytes, good for `[start, end)`, or the process ends (ERR_GUEST_MEMORY).
 * The view is kept across messages and made again only when it is too short: a grow
 * detaches the old buffer (its views read as empty) and a hibernated process comes back
 * in a new memory (#bind drops the view). So no `memory.buffer` read (a call into the
 * engine) and no view allocated per message.
 */
function memoryTo(p: Proc, start: number, end: number): Uint8Array {
  const v = p.view
  if (v !== undefined && end <= v.byteLength && v.byteLength !== 0) return v
  const mem = p.memory
  if (mem === undefined) throw new Termination({ kind: 'trapped', code: 'ERR_GUEST_ABI', reason: 'messaging needs an exported memory' })
  const fresh = (p.view = new Uint8Array(mem.buffer))
  if (end > fresh.byteLength) throw new Termination({ kind: 'trapped', code: 'ERR_GUEST_MEMORY', reason: `[${start}, ${end}) is outside memory (${fresh.byteLength} bytes)` })
  return fresh
}

export function buildImports(p: Proc, host: ImportHost, extra: WebAssembly.Imports | undefined): WebAssembly.Imports {
  const s = p.suspender!
  const imports: WebAssembly.Imports = {
    ...extra,
    ww_meter: {
      // It may suspend only under JSPI or where metering came before asyncify (fuelYields).
      // Otherwise (a module asyncified by its author) the checks sit outside asyncify's own
      // code and also run while a rewind replays the stack: wrapped, such a call would be
      // taken for the import that unwound, and the rewind would end there.
      out_of_fuel: s.kind === 'jspi' || p.meter?.fuelYields === true ? s.wrapImport(() => host.outOfFuel(p)) : (): number => host.outOfFuel(p) as number,
      mem_cap_pages: new WebAssembly.Global({ value: 'i32', mutable: false }, p.limits.memoryPages),
      grow_denied: (delta: number): number => {
        if (p.limits.onMemoryLimit === 'fail') return -1
        throw new Termination({ kind: 'limit', which: 'memory', detail: `grow by ${delta >>> 0} pages over the cap of ${p.limits.memoryPages}` })
      },
    },
    ww_proc: {
      self: (): number => p.pid,
      // The one copy: out of the sender's memory, during this call, into a host buffer.
      send: s.wrapImport((h, ptr, len) => {
        const to = p.handles.target(h!)
        if (to === undefined) return denied(p, 'send')
        return sendFrom(p, host, to, ptr!, len!, 0)
      }),
      send_cap: s.wrapImport((h, ptr, len, c) => {
        const to = p.handles.target(h!)
        const cap = p.handles.target(c!)
        if (to === undefined || cap === undefined) return denied(p, 'send_cap')
        return sendFrom(p, host, to, ptr!, len!, cap)
      }),
      recv: s.wrapImport((ptr, cap) => host.recv(p, ptr!, cap!)),
      // A user message's sender gave its receiver a way back; a notice grants nothing (its
      // sender has ended), but names the handle already held for it, if any.
      sender: (): number => {
        const from = p.lastFrom
        if (from === 0) return -1
        if (p.lastKind !== KIND_CODES.user) return p.handles.find(from) ?? -1
        return p.handles.grant(from)
      },
      kind: (): number => p.lastKind,
      cap: (): number => (p.lastCap === 0 ? -1 : p.handles.grant(p.lastCap)),
      parent: (): number => (p.parent === undefined ? -1 : (p.handles.find(p.parent.pid) ?? -1)),
      drop: (h: number): number => (p.handles.drop(h) ? 0 : denied(p, 'drop')),
      exit: (code: number): never => { throw new Termination({ kind: 'exited', code: code | 0 }) },
    },
  }
  return imports
}

/**
 * A guest's send of `[ptr, ptr+len)` to pid's mailbox, carrying `cap` (a pid; 0: none).
 * The bytes are copied once out of the sender, during this call: into the receiver's
 * memory when it waits in recv for them (handOver), else into a Message in host custody.
 */
function sendFrom(p: Proc, host: ImportHost, pid: number, ptr: number, len: number, cap: number): number | Promise<number> {
  const start = ptr >>> 0
  const end = start + (len >>> 0)
  const src = memoryTo(p, start, end) // a bad range ends the sender, whoever the receiver
  if (host.handOver(p, pid, src, start, end, cap)) return 0
  const alloc = host.messageAlloc
  const m = alloc === undefined
    ? Message.adopt(src.slice(start, end), p.pid, 'user', undefined, cap)
    : Message.copyOf(src.subarray(start, end), p.pid, alloc, cap)
  return host.send(p, pid, m)
}

/**
 * Writes `src[start, end)` into the buffer of `to`'s recv, if `to` waits there with an
 * empty mailbox (so nothing is overtaken), the bytes fit and its memory is in place (not
 * hibernated): what deliver() would do once `to` runs, minus the Message and the mailbox
 * in between. Its recv then returns `to.recvLen`. False when not so.
 */
export function handOver(to: Proc, src: Uint8Array, start: number, end: number, from: number, cap: number): boolean {
  const n = end - start
  if (!to.inRecv || to.memory === undefined || n > to.recvCap >>> 0 || to.mailbox.size !== 0) return false
  const at = to.recvPtr >>> 0
  const dst = memoryTo(to, at, at + n) // checked by its recv; memory does not move while it waits
  if (n <= 64) for (let i = 0; i < n; i++) dst[at + i] = src[start + i]!
  else dst.set(src.subarray(start, end), at)
  to.inRecv = false
  to.recvLen = n
  to.lastFrom = from
  to.lastKind = KIND_CODES.user
  to.lastCap = cap
  to.mailbox.handedOver(to.recvWaiter!)
  return true
}

/** The message into `[ptr, ptr+cap)`: its length, or -length when it does not fit. */
export function deliver(p: Proc, ptr: number, cap: number): number | undefined {
  const start = ptr >>> 0
  const room = cap >>> 0
  const memory = memoryTo(p, start, start + room) // checked even when nothing is queued
  const m = p.mailbox.peek()
  if (m === undefined) return undefined
  if (m.byteLength > room) return -m.byteLength
  m.copyTo(memory, start)
  p.mailbox.take()
  p.lastFrom = m.from
  p.lastKind = KIND_CODES[m.kind]
  p.lastCap = m.cap
  return m.byteLength
}

/** A call refused for want of a capability: counted (ps `denials`), answered NOT_CAPABLE. */
function denied(p: Proc, fn: string): number {
  const d = (p.denials ??= {})
  const key = `ww_proc.${fn}`
  d[key] = (d[key] ?? 0) + 1
  return PROC_ERRNO.NOT_CAPABLE
}
