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

/** A copy of `[ptr, ptr+len)` of p's memory (the one copy a message's bytes get), or the process ends. */
function copyOut(p: Proc, ptr: number, len: number): Uint8Array {
  const start = ptr >>> 0
  const end = start + (len >>> 0)
  return memoryTo(p, start, end).slice(start, end)
}

export function buildImports(p: Proc, host: ImportHost, extra: WebAssembly.Imports | undefined): WebAssembly.Imports {
  const s = p.suspender!
  const imports: WebAssembly.Imports = {
    ...extra,
    ww_meter: {
      out_of_fuel: s.wrapImport(() => host.outOfFuel(p)),
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
        return host.send(p, to, message(p, host, ptr!, len!, 0))
      }),
      send_cap: s.wrapImport((h, ptr, len, c) => {
        const to = p.handles.target(h!)
        const cap = p.handles.target(c!)
        if (to === undefined || cap === undefined) return denied(p, 'send_cap')
        return host.send(p, to, message(p, host, ptr!, len!, cap))
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

/** The bytes p sends, in host custody: copied once, into a heap buffer of their own or where the host allocates. */
function message(p: Proc, host: ImportHost, ptr: number, len: number, cap: number): Message {
  const alloc = host.messageAlloc
  if (alloc === undefined) return Message.adopt(copyOut(p, ptr, len), p.pid, 'user', undefined, cap)
  const start = ptr >>> 0
  const end = start + (len >>> 0)
  return Message.copyOf(memoryTo(p, start, end).subarray(start, end), p.pid, alloc, cap)
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
